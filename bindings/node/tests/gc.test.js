'use strict';
// Finalisation in any order: databases, cursors and batches collected or
// torn down at exit in whatever order V8 picks, with ASan watching.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { openTest, LEAD } = require('./helpers');

const gc = global.gc || (() => {});

test('a cursor keeps its database open while it is reachable', () => {
  function make() {
    const db = openTest();
    db.apply(LEAD);
    db.insertMany('lead', [{ name: 'a' }, { name: 'b' }]);
    return db.query('lead');
  }
  const cur = make();
  gc();
  gc();
  assert.equal(cur.all().length, 2);
});

test('databases, cursors and half-read cursors collected together, in any order', () => {
  for (let k = 0; k < 20; k++) {
    const db = openTest();
    db.apply(LEAD);
    db.insertMany('lead', [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    const c1 = db.query('lead');
    c1.next();
    db.report; // nothing kept
    if (k % 2) db.close(); // closed first, cursors freed later
  }
  gc();
  gc();
  assert.ok(true);
});

test('a cursor freed after its database was closed; calls on it throw MisuseError', () => {
  const db = openTest();
  db.apply(LEAD);
  db.insert('lead', { name: 'a' });
  const cur = db.query('lead');
  db.close();
  assert.throws(() => cur.next(), /closed/);
  cur.close();
  cur.close();
});

test('process exit with open databases, cursors, a batch and async work in flight', () => {
  const script = `
    const crm = require(${JSON.stringify(path.join(__dirname, '..'))});
    const { openTest, LEAD } = require(${JSON.stringify(path.join(__dirname, 'helpers.js'))});
    const db = openTest(); db.apply(LEAD);
    db.insertMany('lead', Array.from({ length: 5000 }, (_, i) => ({ name: 'n' + i })));
    const cur = db.query('lead'); cur.next();
    const db2 = openTest(); db2.apply(LEAD);
    db2.insertManyAsync('lead', Array.from({ length: 5000 }, (_, i) => ({ name: 'n' + i })));
    const db3 = openTest(); db3.apply(LEAD);
    (async () => { for await (const r of db3.query('lead')) {} })();
    db.query('lead')[Symbol.asyncIterator]().next();
    setImmediate(() => process.exit(0));
  `;
  const r = spawnSync(process.execPath, ['-e', script], { env: process.env, encoding: 'utf8' });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
});
