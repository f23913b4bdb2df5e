// Just what index.d.ts needs from @types/node (not installed: the registry holds only what the package lists).
declare class Buffer extends Uint8Array {}
