'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { crm, openTest, LEAD } = require('./helpers');

function leadDb(options) {
  const db = openTest(options);
  db.apply(LEAD);
  return db;
}

test('apply answers the summary and plan changes nothing', () => {
  const db = openTest();
  const plan = db.plan(LEAD);
  assert.equal(plan.documents[0].action, 'created');
  assert.deepEqual(db.forms(), []);
  const s = db.apply([LEAD]);
  assert.equal(s.changed, 1);
  assert.equal(db.form('lead').form, 'lead');
  assert.equal(db.forms()[0].form, 'lead');
  assert.equal(db.check('lead').problems, 0);
  db.close();
});

test('every type round-trips with the default conversions', () => {
  const db = leadDb();
  const seen = new Date('2026-01-31T09:30:00.123Z');
  const id = db.insert('lead', {
    name: 'Ann', phone: '+86 138 0000 0000', region: 'north', budget: '12000.50', score: 0.25, count: 7,
    vip: true, since: '2026-01-02', seen_at: seen, tags: ['c', 'a'], extra: { deep: [1, 'x', null] },
  });
  assert.equal(id, 1);
  const r = db.get('lead', id);
  assert.equal(r.id, 1);
  assert.equal(r.budget, '12000.50');
  assert.equal(r.score, 0.25);
  assert.equal(r.count, 7);
  assert.equal(r.vip, true);
  assert.deepEqual(r.since, new Date('2026-01-02T00:00:00Z'));
  assert.deepEqual(r.seen_at, seen);
  assert.deepEqual(r.tags, ['a', 'c']);
  assert.deepEqual(r.extra, { deep: [1, 'x', null] });
  assert.equal(r.version, 1);
  assert.ok(r.created_at instanceof Date);
  assert.equal(r.owner, null);
  db.close();
});

test('nulls, and int64 beyond 2^53 as BigInt both ways', () => {
  const db = leadDb();
  const big = 2n ** 60n + 3n;
  const id = db.insert('lead', { name: 'Big', count: big });
  const r = db.get('lead', id);
  assert.equal(r.count, big);
  assert.equal(r.budget, null);
  assert.equal(r.tags, null);
  assert.equal(r.extra, null);
  db.update('lead', id, { count: 5n });
  assert.equal(db.get('lead', id).count, 5);
  db.close();
});

test('decimals as numbers or a decimal library, dates as strings (options), read sync and async alike', async () => {
  const db = leadDb({ decimals: 'number', dates: 'string' });
  const id = db.insert('lead', { name: 'A', budget: 12.5, since: '2026-01-02', seen_at: '2026-01-31T17:30:00+08:00' });
  const r = db.get('lead', id);
  assert.equal(r.budget, 12.5);
  assert.equal(r.since, '2026-01-02');
  assert.equal(r.seen_at, '2026-01-31T09:30:00.000Z');
  assert.match(r.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(await db.query('lead').allAsync(), [r]);
  db.close();

  class Dec {
    constructor(s) { this.s = s; }
    toJSON() { return this.s; }
  }
  const db2 = leadDb({ decimals: (s) => new Dec(s) });
  const id2 = db2.insert('lead', { name: 'B', budget: new Dec('0.10') });
  const b = db2.get('lead', id2).budget;
  assert.ok(b instanceof Dec);
  assert.equal(b.s, '0.10');
  assert.deepEqual((await db2.query('lead').allAsync())[0].budget, new Dec('0.10'));
  db2.close();
});

test('open refuses unknown options and bad option values', () => {
  assert.throws(() => crm.open(':memory:', { nope: 1 }), TypeError);
  assert.throws(() => crm.open(':memory:', { decimals: 'float' }), TypeError);
  assert.throws(() => crm.open(':memory:', { dates: 'epoch' }), TypeError);
});

test('ValidationError lists every failing field and changes nothing', () => {
  const db = leadDb();
  assert.throws(() => db.insert('lead', { budget: '1.234', region: 'middle' }), (e) => {
    assert.ok(e instanceof crm.ValidationError);
    assert.ok(e instanceof crm.CrmError);
    assert.equal(e.code, 'CRM_ECONSTRAINT');
    assert.equal(e.errno, 5);
    assert.deepEqual(e.errors.map((x) => x.field).sort(), ['budget', 'name', 'region']);
    assert.equal(e.detail.code, 'CRM_ECONSTRAINT');
    return true;
  });
  assert.equal(db.count('lead'), 0);
  db.close();
});

test('update, delete and expectedVersion: ConflictError, NotFoundError', () => {
  const db = leadDb();
  const id = db.insert('lead', { name: 'A' });
  db.update('lead', id, { name: 'B' }, { expectedVersion: 1 });
  assert.equal(db.get('lead', id).name, 'B');
  assert.throws(() => db.update('lead', id, { name: 'C' }, { expectedVersion: 1 }), crm.ConflictError);
  assert.throws(() => db.delete('lead', id, { expectedVersion: 1 }), crm.ConflictError);
  db.delete('lead', id);
  assert.throws(() => db.get('lead', id), (e) => e instanceof crm.NotFoundError && e.code === 'CRM_ENOTFOUND');
  assert.throws(() => db.insert('nope', {}), crm.NotFoundError);
  db.close();
});

test('upsert inserts then updates by a unique key', () => {
  const db = leadDb();
  const a = db.upsert('lead', 'phone', { name: 'A', phone: '+1 555 0100' });
  assert.equal(a.inserted, true);
  const b = db.upsert('lead', 'phone', { name: 'A2', phone: '+1 555 0100' });
  assert.deepEqual(b, { id: a.id, inserted: false });
  assert.equal(db.get('lead', a.id).name, 'A2');
  db.close();
});

test('query: filter, sort, fields, iterators and early break', () => {
  const db = leadDb();
  db.insertMany('lead', (function* () {
    for (let i = 0; i < 600; i++) yield { name: `n${i}`, region: i % 2 ? 'north' : 'south', count: i };
  })());
  const q = db.query('lead', { filter: { field: 'region', op: 'eq', value: 'north' }, sort: ['-count'], fields: ['name', 'count'] });
  assert.deepEqual(q.columns.map((c) => c.name), ['id', 'name', 'count', 'created_at', 'updated_at', 'owner', 'version']);
  const rows = q.all();
  assert.equal(rows.length, 300);
  assert.equal(rows[0].count, 599);
  let n = 0;
  for (const r of db.query('lead')) {
    assert.equal(typeof r.name, 'string');
    if (++n === 10) break;
  }
  assert.equal(db.count('lead', { filter: { field: 'count', op: 'lt', value: 10 } }), 10);
  db.close();
});

test('insertMany: any iterable, ids, and all-or-nothing with every failing row', () => {
  const db = leadDb();
  assert.equal(db.insertMany('lead', new Set([{ name: 'a' }, { name: 'b' }])), 2);
  assert.deepEqual(db.insertMany('lead', [{ name: 'c' }], { ids: true }), [3]);
  assert.throws(() => db.insertMany('lead', [{ name: 'ok' }, { budget: 'x' }, { name: 'ok2' }, {}]), (e) => {
    assert.ok(e instanceof crm.ValidationError);
    assert.deepEqual(e.rows.map((r) => r.index), [1, 3]);
    return true;
  });
  assert.equal(db.count('lead'), 3);
  assert.throws(() => db.insertMany('lead', [{ name: 'a' }, 5]), TypeError);
  assert.throws(() => db.insertMany('lead', [{ name: 'a', score: NaN }]), (e) => e instanceof crm.ValidationError && e.rows[0].errors[0].field === 'score');
  assert.equal(db.count('lead'), 3);
  db.close();
});

test('transaction commits on return and rolls back on throw', () => {
  const db = leadDb();
  const r = db.transaction(() => {
    db.insert('lead', { name: 'a' });
    db.insert('lead', { name: 'b' });
    return 42;
  });
  assert.equal(r, 42);
  assert.throws(() => db.transaction(() => {
    db.insert('lead', { name: 'c' });
    throw new Error('boom');
  }), /boom/);
  assert.equal(db.count('lead'), 2);
  assert.throws(() => db.transaction(async () => {}), TypeError);
  assert.equal(db.count('lead'), 2);
  db.close();
});

test('InvalidError with an offset, LimitError, MisuseError after close', () => {
  const db = openTest();
  assert.throws(() => db.apply({ form: 'x', fields: [{ name: 'a', type: 'nope' }] }), (e) => e instanceof crm.InvalidError && e.detail.path === 'fields[0].type');
  db.apply(LEAD);
  db.limit('valueLength', 10);
  assert.equal(db.limit('valueLength'), 10);
  assert.throws(() => db.insert('lead', { name: 'x'.repeat(50) }), (e) => e instanceof crm.ValidationError && e.errors[0].field === 'name');
  assert.throws(() => db.limit('nope'), TypeError);
  assert.throws(() => db.query('lead', { filter: { bad: 1 } }), crm.InvalidError);
  db.close();
  db.close();
  assert.equal(db.open, false);
  assert.throws(() => db.count('lead'), (e) => e instanceof crm.MisuseError && /closed/.test(e.message));
});

test('bad argument types are TypeErrors', () => {
  const db = leadDb();
  assert.throws(() => db.insert(5, {}), TypeError);
  assert.throws(() => db.get('lead', 1.5), TypeError);
  assert.throws(() => db.get('lead', 'x'), TypeError);
  assert.throws(() => db.insert('lead\u0000x', {}), TypeError);
  const cyclic = { name: 'a' };
  cyclic.extra = cyclic;
  assert.throws(() => db.insert('lead', cyclic), TypeError);
  db.close();
});

test('a text holding U+0000 is refused by libcrm (field code nul)', () => {
  const db = leadDb();
  assert.throws(() => db.insert('lead', { name: 'a\u0000b' }), (e) => e instanceof crm.ValidationError && e.errors[0].code === 'nul');
  db.close();
});

test('clock, warnings, version', () => {
  const db = leadDb();
  db.setClock(new Date('2026-05-01T00:00:00Z'));
  assert.equal(db.now(), Date.parse('2026-05-01T00:00:00Z'));
  const id = db.insert('lead', { name: 'a' });
  assert.deepEqual(db.get('lead', id).created_at, new Date('2026-05-01T00:00:00Z'));
  db.setClock(null);
  assert.ok(db.now() > Date.parse('2026-05-01T00:00:00Z'));
  assert.deepEqual(db.warnings(), []);
  assert.match(crm.version, /^\d+\.\d+\.\d+/);
  db.close();
});

test('numbers are written as JavaScript writes them (0.1 fits a decimal of scale 2)', () => {
  const db = leadDb();
  const id = db.insert('lead', { name: 'a', budget: 0.1, score: 1e-7 });
  assert.equal(db.get('lead', id).budget, '0.10');
  assert.equal(db.get('lead', id).score, 1e-7);
  // insertMany hands libcrm typed values: the same numbers, read by the same code
  db.insertMany('lead', [{ name: 'b', budget: 0.3 }, { name: 'c', budget: 0.3, seen_at: new Date(0), count: 2n ** 62n }]);
  const rows = db.query('lead', { sort: ['id'] }).all();
  assert.deepEqual(rows.slice(1).map((r) => r.budget), ['0.30', '0.30']);
  assert.equal(rows[2].count, 2n ** 62n);
  assert.throws(() => db.insertMany('lead', [{ name: 'd', seen_at: new Date(NaN) }]), TypeError);
  assert.throws(() => db.insertMany('lead', [['name', 'x']]), TypeError);
  assert.throws(() => db.insertMany('lead', ['{"name":"x"}']), TypeError);
  db.close();
});

test('insertMany: every JavaScript type as libcrm typed values, and what they may not hold', () => {
  const db = leadDb();
  const seen = new Date('2026-01-31T09:30:00.5Z');
  const ids = db.insertMany('lead', [
    { name: 'Zoë 张三 🙂', budget: '12000.50', since: new Date('2026-01-02T00:00:00Z'), seen_at: seen, tags: ['c', 'a'],
      extra: { nested: [1, { d: new Date(0) }] }, vip: false, count: -(2n ** 63n), score: -0.5, phone: undefined },
    { name: 'b', extra: ['x', 'y'], budget: { toJSON: () => '1.10' } },
  ], { ids: true });
  const [a, b] = ids.map((id) => db.get('lead', id));
  assert.equal(a.name, 'Zoë 张三 🙂');
  assert.equal(a.budget, '12000.50');
  assert.deepEqual(a.since, new Date('2026-01-02T00:00:00Z'));
  assert.deepEqual(a.seen_at, seen);
  assert.deepEqual(a.tags, ['a', 'c']);
  assert.deepEqual(a.extra, { nested: [1, { d: '1970-01-01T00:00:00.000Z' }] });
  assert.equal(a.vip, false);
  assert.equal(a.count, -(2n ** 63n));
  assert.equal(a.score, -0.5);
  assert.equal(a.phone, null);
  assert.deepEqual(b.extra, ['x', 'y']);
  assert.equal(b.budget, '1.10');
  assert.throws(() => db.insertMany('lead', [{ name: 'x', since: new Date('2026-01-02T10:00:00Z') }]),
    (e) => e instanceof crm.ValidationError && e.rows[0].errors[0].field === 'since');
  assert.throws(() => db.insertMany('lead', [{ name: 'a\u0000b' }]), (e) => e instanceof crm.ValidationError && e.rows[0].errors[0].code === 'nul');
  assert.throws(() => db.insertMany('lead', [{ name: 'x', 'name\u0000junk': 'y' }]), TypeError);
  assert.throws(() => db.insertMany('lead', [{ name: 'x', count: 2n ** 64n }]), TypeError);
  assert.throws(() => db.insertMany('lead', [{ name: 'x', nope: 1 }]), (e) => e.rows[0].errors[0].code === 'unknown_field');
  assert.equal(db.count('lead'), 2);
  db.close();
});

test('insert, update and upsert take a record as typed values, as insertMany does', () => {
  const db = leadDb();
  const rec = { name: 'Ann', budget: '7.50', since: new Date('2026-01-02T00:00:00Z'), seen_at: new Date(5), tags: ['c'],
    extra: { k: 1 }, count: 2n ** 62n, score: 1.5 };
  const one = db.get('lead', db.insert('lead', rec));
  const [many] = db.insertMany('lead', [rec], { ids: true }).map((id) => db.get('lead', id));
  for (const k of Object.keys(rec)) assert.deepEqual(one[k], many[k], k);
  // the same bad values, the same errors from both
  const bad = { name: 'x', score: NaN, since: new Date('2026-01-02T10:00:00Z'), nope: 1 };
  let single;
  assert.throws(() => db.insert('lead', bad), (e) => { single = e; return e instanceof crm.ValidationError; });
  assert.throws(() => db.insertMany('lead', [bad]), (e) => {
    assert.deepEqual(e.rows[0].errors, single.errors);
    return true;
  });
  assert.deepEqual(single.errors.map((e) => e.field).sort(), ['nope', 'score', 'since']);
  db.update('lead', one.id, { score: 2.5, tags: null }, { expectedVersion: 1 });
  assert.equal(db.get('lead', one.id).score, 2.5);
  assert.throws(() => db.update('lead', one.id, { score: 3 }, { expectedVersion: 1 }), crm.ConflictError);
  assert.throws(() => db.update('lead', one.id, { score: Infinity }), crm.ValidationError);
  assert.throws(() => db.insert('lead', { name: 'x', 'name\u0000junk': 'y' }), TypeError);
  assert.throws(() => db.insert('lead', 'not an object'), crm.InvalidError);
  assert.equal(db.count('lead'), 2);
  db.close();
});

test('insertMany: each string alone becomes UTF-8, lone surrogates U+FFFD, even where two pieces would pair', () => {
  const db = leadDb();
  // the chunk's strings cross as one text: the first row's name ends in a
  // high surrogate, the second's begins with a low one
  const names = ['a\uD83D', '\uDE00b', 'x\uDC00y\uD800z', 'Zoë 张三 🙂', '\uD83D'];
  const ids = db.insertMany('lead', names.map((name) => ({ name })), { ids: true });
  assert.deepEqual(ids.map((id) => db.get('lead', id).name), ['a\uFFFD', '\uFFFDb', 'x\uFFFDy\uFFFDz', 'Zoë 张三 🙂', '\uFFFD']);
  db.close();
});

test('a record packed while another is being packed (a toJSON that inserts) keeps its own values', () => {
  const db = leadDb();
  let inner;
  const budget = { toJSON: () => { inner = db.insert('lead', { count: 7, name: 'inner' }); return '1.00'; } };
  const outer = db.insert('lead', { name: 'outer', budget });
  assert.deepEqual([db.get('lead', outer).name, db.get('lead', outer).budget], ['outer', '1.00']);
  assert.deepEqual([db.get('lead', inner).name, db.get('lead', inner).count], ['inner', 7]);
  db.close();
});

test('the addon refuses a malformed packed chunk (lib/pack.js makes them)', () => {
  const native = require('../lib/native');
  const db = leadDb();
  const b = native.batchBegin(db._h, 'lead', false);
  const u32 = (...a) => Uint32Array.from(a);
  assert.throws(() => native.batchAdd(b, ['name'], u32(1), u32(5), Uint8Array.from([4]), Float64Array.from([0]), u32(1), 'x', false), TypeError);
  assert.throws(() => native.batchAdd(b, ['name'], u32(2), u32(0), Uint8Array.from([4]), Float64Array.from([0]), u32(1), 'x', false), TypeError);
  assert.throws(() => native.batchAdd(b, ['name'], u32(1), u32(0), Uint8Array.from([4]), Float64Array.from([0]), u32(9), 'x', false), TypeError);
  assert.throws(() => native.batchAdd(b, ['tags'], u32(1), u32(0), Uint8Array.from([6]), Float64Array.from([1e9]), u32(1), 'x', false), TypeError);
  assert.throws(() => native.batchAdd(b, ['name'], u32(1), u32(0), Uint8Array.from([99]), Float64Array.from([0]), u32(), '', false), TypeError);
  assert.throws(() => native.batchAdd(b, ['name'], [1], u32(0), Uint8Array.from([4]), Float64Array.from([0]), u32(1), 'x', false), TypeError);
  // a piece that ends inside a surrogate pair (lib/pack.js never cuts one)
  assert.throws(() => native.batchAdd(b, ['name'], u32(1, 1), u32(0, 0), Uint8Array.from([4, 4]), Float64Array.from([0, 0]), u32(1, 1), '\uD83D\uDE00', false), TypeError);
  native.batchAdd(b, ['name'], u32(1), u32(0), Uint8Array.from([4]), Float64Array.from([0]), u32(1), 'x', false);
  assert.equal(native.batchCommit(b), 1);
  db.close();
});
