// TypeScript declarations of the libcrm Node binding (docs/node.md).

/** Values as they come back: decimal per the `decimals` option, dates per `dates`. */
export type Value = string | number | bigint | boolean | Date | null | string[] | unknown;
export type Row = Record<string, any>;
/** A record to write: Date for datetime fields, BigInt or number for integers, strings or numbers for decimals. */
export type RecordInput = Record<string, unknown>;
/** An integer id: a number when safe, a BigInt past 2^53. */
export type Id = number | bigint;
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface OpenOptions {
  /** PostgreSQL: the schema libcrm's tables live in (default "crm"). */
  schema?: string;
  readonly?: boolean;
  /** Open only an existing libcrm database. */
  existing?: boolean;
  /** Also initialise an SQLite file holding another application's tables. */
  init?: boolean;
  /** ms to wait on a lock held by another process (default 5000). */
  busyTimeout?: number;
  /** Decimals as exact strings (default), numbers, or what your function makes of the text. */
  decimals?: 'string' | 'number' | ((text: string) => unknown);
  /** Dates and datetimes as Date (default) or ISO 8601 strings. */
  dates?: 'date' | 'string';
}

export interface Query {
  filter?: Json;
  sort?: string[];
  limit?: number;
  offset?: number;
  after?: string;
  fields?: string[];
}

export interface Column { name: string; type: number; label?: string }

/** Rows of a query or report: iterate once, with for...of (main thread) or for await (worker thread). */
export class Cursor<T = Row> implements IterableIterator<T>, AsyncIterable<T> {
  readonly columns: Column[];
  next(): IteratorResult<T>;
  return(): IteratorResult<T>;
  [Symbol.iterator](): IterableIterator<T>;
  [Symbol.asyncIterator](): AsyncIterator<T>;
  all(): T[];
  allAsync(): Promise<T[]>;
  close(): void;
}

export class Consumer {
  readonly name: string;
  set(options: { filter?: Json; lease_ms?: number; start?: 'first' | 'last' }): this;
  read(limit?: number): any[];
  ack(seq: Id): void;
  get(): any;
  drop(): void;
}

export class Database {
  static readonly limits: readonly string[];
  static readonly types: Readonly<Record<string, number>>;
  readonly path: string;
  readonly open: boolean;
  close(): void;

  apply(docs: Json | Json[], options?: { allowDataLoss?: boolean }): any;
  plan(docs: Json | Json[], options?: { allowDataLoss?: boolean }): any;
  form(name: string): any;
  forms(): any[];
  check(form?: string): any;
  workflow(name: string): any;
  workflows(): any[];
  reportDefinition(name: string): any;
  reports(): any[];
  decision(name: string): any;
  decisions(): any[];
  plugin(name: string): any;
  plugins(): any[];

  insert(form: string, record: RecordInput): Id;
  get<T = Row>(form: string, id: Id): T;
  update(form: string, id: Id, changes: RecordInput, options?: { expectedVersion?: number }): void;
  delete(form: string, id: Id, options?: { expectedVersion?: number }): void;
  upsert(form: string, key: string, record: RecordInput): { id: Id; inserted: boolean };
  insertMany(form: string, rows: Iterable<RecordInput>): number;
  insertMany(form: string, rows: Iterable<RecordInput>, options: { ids: true }): Id[];
  insertMany(form: string, rows: Iterable<RecordInput>, options?: { ids?: boolean }): number | Id[];
  insertManyAsync(form: string, rows: Iterable<RecordInput> | AsyncIterable<RecordInput>,
    options?: { ids?: boolean; chunkSize?: number }): Promise<number | Id[]>;
  query<T = Row>(form: string, query?: Query): Cursor<T>;
  count(form: string, query?: Query): number;
  transaction<T>(fn: (db: this) => T): T;

  start(workflow: string, record?: Id): Id;
  fire(form: string, id: Id, event: string, fields?: RecordInput): void;
  fireInstance(instance: Id, event: string, fields?: RecordInput): void;
  events(form: string, id: Id): any[];
  instances(form: string | null, id: Id): any[];
  history(form: string | null, id: Id): any[];
  instance(id: Id): any;
  instanceHistory(id: Id): any[];
  instanceEvents(id: Id): any[];
  approve(form: string, id: Id): void;
  reject(form: string, id: Id, reason: string): void;
  migrateWorkflow(name: string): number;
  tick(now?: Date | number): number;
  decide(table: string, inputs: Record<string, unknown>): any;

  report<T = Row>(name: string, params?: Record<string, unknown>): Cursor<T>;
  reportAsync<T = Row>(name: string, params?: Record<string, unknown>): Promise<T[]>;
  reportOutput(name: string, params?: Record<string, unknown> | null, format?: 'json'): { columns: any[]; rows: any[] };
  reportOutput(name: string, params: Record<string, unknown> | null, format: 'csv'): string;
  reportOutputAsync(name: string, params?: Record<string, unknown> | null, format?: 'json' | 'csv'): Promise<any>;
  explain(name: string, params?: Record<string, unknown>): any;
  drill(name: string, params: Record<string, unknown> | null, row: Row): any;

  as(user: string | null, roles?: string[], attrs?: Record<string, unknown>): this;
  asSystem(user?: string): this;
  actor(): { user: string | null; roles: string[]; attrs: Record<string, unknown>; system: boolean };
  explainAccess(verb: string, form: string, id?: Id): { allowed: boolean; reason: string; rules: any[] };

  auditHistory(form: string, id: Id): any[];
  recordAt(form: string, id: Id, at: Date | number): any;
  revert(form: string, id: Id, version: number): void;
  verifyAudit(head?: string): { ok: boolean; entries: number; head: string | null; problems: any[] };
  setAuditKey(key: Buffer | string | null): void;

  eventList(afterSeq?: Id, limit?: number): any[];
  eventHead(): Id;
  pruneEvents(olderThanMs?: number): number;
  consumer(name: string): Consumer;
  consumers(): any[];

  export(what: Json, options?: Json): Buffer;
  exportAsync(what: Json, options?: Json): Promise<Buffer>;
  exportFile(what: Json, options: Json | null, path: string): void;
  exportFileAsync(what: Json, options: Json | null, path: string): Promise<void>;
  import(form: string, data: string | Buffer, options?: Json): any;
  importAsync(form: string, data: string | Buffer, options?: Json): Promise<any>;
  importFile(form: string, path: string, options?: Json): any;
  importFileAsync(form: string, path: string, options?: Json): Promise<any>;
  duplicates(form: string, options?: Json): any;
  merge(form: string, survivor: Id, other: Id, options?: Json): any;
  undoMerge(mergeId: Id): void;

  search(text: string, options?: Json): { hits: any[]; next: string | null };
  timeline(form: string, id: Id, options?: Json): { items: any[]; next: string | null };

  setClock(now: Date | number | null): void;
  now(): number;
  limit(name: string, value?: number): number;
  warnings(): any[];
}

export function open(pathOrUrl: string, options?: OpenOptions): Database;
export const version: string;

export class CrmError extends Error {
  /** libcrm's code name, e.g. 'CRM_ECONSTRAINT' */
  code: string;
  errno: number;
  detail: any;
  offset?: number;
  /** import: the summary of the rows read */
  summary?: any;
}
export class InvalidError extends CrmError {}
export class NotFoundError extends CrmError {}
export class ConflictError extends CrmError {}
export class ValidationError extends CrmError {
  errors: { field: string; code: string; message: string }[];
  rows: { index: number; errors: { field: string; code: string; message: string }[] }[];
}
export class PermissionError extends CrmError {}
export class ScriptError extends CrmError {}
export class BusyError extends CrmError {}
export class OutOfMemoryError extends CrmError {}
export class IOError extends CrmError {}
export class LimitError extends CrmError {}
export class MisuseError extends CrmError {}
export class ExistsError extends CrmError {}
