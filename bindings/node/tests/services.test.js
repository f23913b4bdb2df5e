'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { crm, openTest } = require('./helpers');

const CUSTOMER = {
  form: 'customer',
  fields: [{ name: 'name', type: 'text', required: true }, { name: 'region', type: 'enum', options: ['north', 'south'] },
    { name: 'spend', type: 'decimal', scale: 2 }, { name: 'phone', type: 'phone', unique: true }],
  search: { fields: ['name'] },
  duplicates: { rules: [{ name: 'same_name', fields: [{ field: 'name', normalize: 'name' }] }] },
};
const REPORT = { report: 'by_region', source: 'customer', dimensions: [{ field: 'region' }],
  measures: [{ name: 'n', agg: 'count' }, { name: 'spend', agg: 'sum', field: 'spend' }] };

function seeded() {
  const db = openTest();
  db.apply([CUSTOMER, REPORT]);
  db.insertMany('customer', [
    { name: 'Ann Lee', region: 'north', spend: '10.25' }, { name: 'Bob Stone', region: 'south', spend: '1.00' },
    { name: 'Cy Young', region: 'north', spend: '0.50' }]);
  return db;
}

test('reports: rows sync and async, output, explain, drill', async () => {
  const db = seeded();
  assert.equal(db.reports()[0].report, 'by_region');
  assert.equal(db.reportDefinition('by_region').report, 'by_region');
  const cur = db.report('by_region');
  assert.deepEqual(cur.columns.map((c) => c.name), ['region', 'n', 'spend']);
  const rows = cur.all();
  const north = rows.find((r) => r.region === 'north');
  assert.equal(north.n, 2);
  assert.equal(north.spend, '10.75');
  assert.deepEqual(await db.reportAsync('by_region'), rows);
  const out = db.reportOutput('by_region');
  assert.equal(out.rows.length, 2);
  assert.match(db.reportOutput('by_region', null, 'csv'), /^region,n,spend/);
  assert.match(await db.reportOutputAsync('by_region', null, 'csv'), /^region,n,spend/);
  assert.ok(db.explain('by_region').sql);
  const q = db.drill('by_region', null, { region: 'north' });
  assert.equal(db.query('customer', q).all().length, 2);
  assert.throws(() => db.report('nope'), crm.NotFoundError);
  db.close();
});

test('audit: history, recordAt, revert, verify, key', () => {
  const db = seeded();
  db.setClock(Date.parse('2030-01-01T00:00:00Z'));
  db.update('customer', 1, { name: 'Ann Two' });
  const h = db.auditHistory('customer', 1);
  assert.deepEqual(h.map((e) => e.op), ['insert', 'update']);
  assert.ok(h[0].at instanceof Date);
  assert.equal(db.recordAt('customer', 1, new Date('2029-12-31T00:00:00Z')).name, 'Ann Lee');
  db.revert('customer', 1, 1);
  assert.equal(db.get('customer', 1).name, 'Ann Lee');
  const v = db.verifyAudit();
  assert.equal(v.ok, true);
  assert.equal(db.verifyAudit(v.head).ok, true);
  assert.throws(() => db.setAuditKey('short'), crm.CrmError);
  db.setAuditKey(Buffer.alloc(32, 7));
  db.setAuditKey(null);
  db.close();
});

test('events: list, head, consumers, prune', () => {
  const db = seeded();
  const ev = db.eventList(0, 10);
  assert.equal(ev.length, 3);
  assert.equal(ev[0].name, 'crm.create');
  assert.ok(ev[0].at instanceof Date);
  assert.equal(db.eventHead(), ev[2].seq);
  const c = db.consumer('mailer').set({ filter: { forms: ['customer'] }, lease_ms: 1000 });
  const got = c.read(2);
  assert.equal(got.length, 2);
  c.ack(got[1].seq);
  assert.equal(c.get().position, got[1].seq);
  assert.equal(db.consumers().length, 1);
  assert.equal(db.pruneEvents(), 2);
  assert.throws(() => c.ack(999), crm.InvalidError);
  c.drop();
  assert.throws(() => c.get(), crm.NotFoundError);
  assert.throws(() => db.as('ann', []).eventList(), crm.PermissionError);
  db.close();
});

test('consumer read: the objects of the event list, read as rows (times as Date or as text)', () => {
  for (const dates of ['date', 'string']) {
    const db = openTest({ dates });
    db.apply(CUSTOMER);
    db.asSystem('ann');
    const id = db.insert('customer', { name: 'Ann Lee', region: 'north', spend: '10.25' });
    db.update('customer', id, { spend: '11.00' });
    db.asSystem();
    db.insertMany('customer', [{ name: 'Bo "Q" \\ é 张 🙂', phone: null }]);
    db.delete('customer', id);
    const list = db.eventList(0, 100);
    const read = db.consumer('all').read(100);
    assert.equal(read.length, 4);
    assert.deepEqual(read, list);
    assert.deepEqual(read.map((e) => Object.keys(e)), list.map((e) => Object.keys(e)));
    assert.ok(dates === 'date' ? read[0].at instanceof Date : typeof read[0].at === 'string');
    assert.equal(read[0].actor, 'ann');
    assert.deepEqual(db.consumer('all').read(100), []); // leased
    assert.throws(() => db.consumer('all').read(0), crm.InvalidError);
    assert.throws(() => db.consumer('bad name!').read(1), crm.InvalidError);
    db.close();
  }
});

test('import and export: buffers, files, async, and the summary of a failing import', async () => {
  const db = seeded();
  const csv = db.export({ form: 'customer', query: { sort: ['name'] } }, { format: 'csv' });
  assert.ok(Buffer.isBuffer(csv));
  assert.match(csv.toString(), /^name,region,spend,phone\r?\nAnn Lee,north,10.25,/);
  const nd = await db.exportAsync({ report: 'by_region' }, { format: 'ndjson' });
  assert.equal(nd.toString().trim().split('\n').length, 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-node-'));
  const file = path.join(dir, 'c.csv');
  db.exportFile({ form: 'customer' }, null, file);
  await db.exportFileAsync({ form: 'customer' }, { format: 'json' }, path.join(dir, 'c.json'));
  const db2 = openTest();
  db2.apply(CUSTOMER);
  assert.equal(db2.importFile('customer', file).inserted, 3);
  const s = db2.import('customer', 'name,region\nDee,south\n');
  assert.equal(s.inserted, 1);
  assert.equal((await db2.importAsync('customer', Buffer.from('{"name":"Eve"}\n'), { format: 'ndjson' })).inserted, 1);
  assert.equal((await db2.importFileAsync('customer', path.join(dir, 'c.json'))).inserted, 3);
  assert.throws(() => db2.import('customer', 'name,region\nFay,middle\n'), (e) => {
    assert.ok(e instanceof crm.ValidationError);
    assert.equal(e.summary.failed, 1);
    assert.equal(e.summary.errors[0].field, 'region');
    return true;
  });
  assert.equal(db2.count('customer'), 8);
  fs.rmSync(dir, { recursive: true });
  db.close();
  db2.close();
});

test('duplicates, merge and undo; search; timeline', () => {
  const db = seeded();
  const a = db.insert('customer', { name: 'ann lee' });
  const d = db.duplicates('customer');
  assert.deepEqual(d.groups[0].records, [1, a]);
  const m = db.merge('customer', 1, a);
  assert.equal(db.count('customer'), 3);
  db.undoMerge(m.merge);
  assert.equal(db.count('customer'), 4);
  const s = db.search('stone');
  assert.equal(s.hits[0].form, 'customer');
  assert.equal(s.hits[0].record.name, 'Bob Stone');
  const t = db.timeline('customer', 1);
  assert.ok(t.items.length >= 1);
  assert.ok(t.items[0].at instanceof Date);
  assert.throws(() => db.search(''), crm.InvalidError);
  db.close();
});

test('actors: as, actor, explainAccess, and permissions enforced', () => {
  const db = openTest();
  db.apply({ form: 'note', fields: [{ name: 'body', type: 'text' }, { name: 'team', type: 'text' }],
    permissions: [{ roles: ['rep'], allow: ['read', 'create'], rows: { field: 'team', op: 'eq', actor: 'team' } }] });
  db.insert('note', { body: 'north note', team: 'north' });
  db.insert('note', { body: 'south note', team: 'south' });
  db.as('ann', ['rep'], { team: 'north' });
  assert.deepEqual(db.actor(), { user: 'ann', roles: ['rep'], attrs: { team: 'north' }, system: false });
  assert.equal(db.count('note'), 1);
  assert.equal(db.explainAccess('delete', 'note').allowed, false);
  assert.throws(() => db.delete('note', 1), crm.PermissionError);
  assert.throws(() => db.get('note', 2), crm.NotFoundError);
  assert.throws(() => db.as('x', 'rep'), crm.InvalidError);
  db.asSystem('sync');
  assert.equal(db.actor().system, true);
  assert.equal(db.count('note'), 2);
  db.close();
});
