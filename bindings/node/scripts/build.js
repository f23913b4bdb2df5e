'use strict';
// The package's install step: build libcrm (static, PIC) and the addon
// with meson in the repository this package sits in, then copy the addon to
// build/libcrm.node. LIBCRM_BUILD_DIR picks the meson build directory
// (default <repo>/build-node-release); LIBCRM_SANITIZE=1 makes it a debug
// build with ASan+UBSan (the test build; load it with the runtimes preloaded).
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..', '..');
if (!fs.existsSync(path.join(root, 'meson.build')) || !fs.existsSync(path.join(root, 'include', 'crm.h'))) {
  console.error('libcrm: build from a libcrm source tree (bindings/node inside it)');
  process.exit(1);
}
const sanitize = process.env.LIBCRM_SANITIZE === '1';
const dir = process.env.LIBCRM_BUILD_DIR || path.join(root, sanitize ? 'build-node' : 'build-node-release');
const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: root });

if (!fs.existsSync(path.join(dir, 'build.ninja'))) {
  const opts = sanitize
    ? ['--buildtype=debug', '-Db_sanitize=address,undefined', '-Dc_args=-fno-sanitize-recover=all', '-Dwerror=true']
    : ['--buildtype=release', '-Db_ndebug=true'];
  run('meson', ['setup', dir, root, '-Dnode=true', '-Dtests=false', ...opts]);
}
run('ninja', ['-C', dir, '-j2', 'bindings/node/libcrm.node']);
const out = path.join(__dirname, '..', 'build');
fs.mkdirSync(out, { recursive: true });
fs.copyFileSync(path.join(dir, 'bindings', 'node', 'libcrm.node'), path.join(out, 'libcrm.node'));
