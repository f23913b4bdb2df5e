'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { crm, openTest, LEAD } = require('./helpers');

function leadDb() {
  const db = openTest();
  db.apply(LEAD);
  return db;
}

test('insertManyAsync: iterables and async iterables, ids, chunks', async () => {
  const db = leadDb();
  async function* gen() {
    for (let i = 0; i < 2500; i++) yield { name: `n${i}`, budget: `${i}.25` };
  }
  assert.equal(await db.insertManyAsync('lead', gen(), { chunkSize: 700 }), 2500);
  const ids = await db.insertManyAsync('lead', [{ name: 'x' }, { name: 'y' }], { ids: true });
  assert.deepEqual(ids, [2501, 2502]);
  assert.equal(db.count('lead'), 2502);
  db.close();
});

test('while an async operation runs, sync calls throw MisuseError; afterwards the database works', async () => {
  const db = leadDb();
  const p = db.insertManyAsync('lead', Array.from({ length: 3000 }, (_, i) => ({ name: `n${i}` })));
  assert.throws(() => db.count('lead'), (e) => e instanceof crm.MisuseError && /busy with insertManyAsync/.test(e.message));
  assert.throws(() => db.close(), crm.MisuseError);
  await assert.rejects(db.exportAsync({ form: 'lead' }), crm.MisuseError);
  assert.equal(await p, 3000);
  const q = db.reportOutputAsync('nope');
  assert.throws(() => db.insert('lead', { name: 'z' }), /busy with reportOutput/);
  await assert.rejects(q, crm.NotFoundError);
  assert.equal(db.count('lead'), 3000);
  db.close();
  await assert.rejects(db.importAsync('lead', 'name\na\n'), (e) => e instanceof crm.MisuseError && /closed/.test(e.message));
});

test('insertManyAsync rejects with every failing row and inserts nothing', async () => {
  const db = leadDb();
  await assert.rejects(db.insertManyAsync('lead', [{ name: 'a' }, { budget: 'x' }, { name: 'b' }, {}]), (e) => {
    assert.ok(e instanceof crm.ValidationError);
    assert.deepEqual(e.rows.map((r) => r.index), [1, 3]);
    return true;
  });
  assert.equal(db.count('lead'), 0);
  await assert.rejects(db.insertManyAsync('lead', [{ name: 'a' }, { name: 'b', score: Infinity }]), crm.ValidationError);
  await assert.rejects(db.insertManyAsync('lead', [{ name: 'a' }, 5]), TypeError);
  assert.equal(db.count('lead'), 0);
  await assert.rejects(db.insertManyAsync('nope', [{}]), crm.NotFoundError);
  db.insert('lead', { name: 'still works' });
  db.close();
});

test('an iterable that throws midway rolls the batch back (sync and async)', async () => {
  const db = leadDb();
  function* bad() {
    yield { name: 'a' };
    throw new Error('source failed');
  }
  assert.throws(() => db.insertMany('lead', bad()), /source failed/);
  await assert.rejects(db.insertManyAsync('lead', bad()), /source failed/);
  assert.equal(db.count('lead'), 0);
  db.close();
});

test('async query: for await reads every row; break frees the database; errors reject', async () => {
  const db = leadDb();
  db.insertMany('lead', Array.from({ length: 2345 }, (_, i) => ({ name: `n${i}`, tags: i % 2 ? ['a', 'c'] : [], budget: `${i}.01`, extra: { i } })));
  let n = 0;
  for await (const r of db.query('lead', { sort: ['id'] })) {
    assert.equal(r.name, `n${n}`);
    assert.deepEqual(r.tags, n % 2 ? ['a', 'c'] : null);
    assert.equal(r.budget, `${n}.01`);
    assert.deepEqual(r.extra, { i: n });
    n++;
  }
  assert.equal(n, 2345);
  const sync = db.query('lead', { sort: ['id'] }).all();
  const asyncRows = await db.query('lead', { sort: ['id'] }).allAsync();
  assert.deepEqual(asyncRows, sync);
  for await (const r of db.query('lead')) {
    assert.ok(r);
    break;
  }
  assert.equal(db.count('lead'), 2345);
  // a cursor whose form changed under it: ConflictError from the worker
  const cur = db.query('lead');
  cur.next();
  db.apply({ ...LEAD, label: 'Lead v2' });
  await assert.rejects(cur.allAsync(), crm.ConflictError);
  db.close();
});
