'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { crm, openTest } = require('./helpers');

const DOCS = [
  { form: 'deal', fields: [{ name: 'title', type: 'text', required: true }, { name: 'amount', type: 'decimal', scale: 2 }] },
  { workflow: 'deal_flow', form: 'deal', start_on: 'create', initial: 'new',
    states: {
      new: { timers: [{ after: '1h', event: 'expire' }] },
      review: { approval: { steps: [{ user: 'boss' }], approved: 'approved', rejected: 'rejected' } },
      won: { require: ['amount'], final: true },
      lost: { final: true }, rejected: { final: true } },
    transitions: [
      { from: 'new', event: 'submit', to: 'review' },
      { from: 'review', event: 'approved', to: 'won' },
      { from: 'review', event: 'rejected', to: 'rejected' },
      { from: 'new', event: 'expire', to: 'lost' }] },
  { decision: 'route', inputs: ['region'], outputs: ['owner'], hit: 'first',
    rules: [{ when: { region: 'north' }, then: { owner: 'alice' } }, { then: { owner: 'pool' } }] },
];

test('fire, events, instances, history, approve', () => {
  const db = openTest();
  db.apply(DOCS);
  assert.equal(db.workflows()[0].workflow, 'deal_flow');
  assert.equal(db.workflow('deal_flow').workflow, 'deal_flow');
  const id = db.insert('deal', { title: 'T' });
  const ev = db.events('deal', id);
  assert.deepEqual(ev.map((e) => e.event).sort(), ['expire', 'submit']);
  assert.throws(() => db.fire('deal', id, 'approved'), crm.InvalidError);
  db.fire('deal', id, 'submit', { amount: '10.00' });
  assert.equal(db.get('deal', id).amount, '10.00');
  const [inst] = db.instances('deal', id);
  assert.equal(inst.state, 'review');
  assert.ok(inst.started_at instanceof Date);
  assert.throws(() => db.as('mallory', ['x']).approve('deal', id), crm.PermissionError);
  db.as('boss', ['manager']).approve('deal', id);
  db.asSystem();
  assert.equal(db.instance(inst.id).state, 'won');
  const h = db.history('deal', id);
  assert.ok(h.length >= 3);
  assert.ok(h[0].at instanceof Date);
  assert.deepEqual(db.instanceHistory(inst.id).length, h.length);
  assert.deepEqual(db.instanceEvents(inst.id), []);
  assert.throws(() => db.start('deal_flow', id), crm.ExistsError);
  db.close();
});

test('reject needs a reason; tick fires due timers; decide evaluates a table', () => {
  const db = openTest();
  db.setClock(Date.parse('2026-03-01T00:00:00Z'));
  db.apply(DOCS);
  const a = db.insert('deal', { title: 'A' });
  const b = db.insert('deal', { title: 'B' });
  db.fire('deal', a, 'submit');
  db.as('boss', []);
  assert.throws(() => db.reject('deal', a), crm.CrmError);
  db.reject('deal', a, 'too small');
  db.as(null);
  assert.equal(db.instances('deal', a)[0].state, 'rejected');
  assert.equal(db.tick(new Date('2026-03-01T00:30:00Z')), 0);
  assert.equal(db.tick(new Date('2026-03-01T02:00:00Z')), 1);
  assert.equal(db.instances('deal', b)[0].state, 'lost');
  assert.deepEqual(db.decide('route', { region: 'north' }), { owner: 'alice' });
  assert.deepEqual(db.decide('route', { region: 'south' }), { owner: 'pool' });
  assert.equal(db.decisions()[0].decision, 'route');
  assert.equal(db.decision('route').decision, 'route');
  assert.throws(() => db.decide('nope', {}), crm.NotFoundError);
  assert.equal(db.migrateWorkflow('deal_flow'), 0);
  db.close();
});

test('free-standing workflows: start and fireInstance', () => {
  const db = openTest();
  db.apply({ workflow: 'onboard', initial: 'a', states: { a: {}, b: { final: true } }, transitions: [{ from: 'a', event: 'go', to: 'b' }] });
  const inst = db.start('onboard');
  db.fireInstance(inst, 'go');
  assert.equal(db.instance(inst).state, 'b');
  assert.equal(db.instances(null, 0).length, 1);
  db.close();
});

test('plugins and a script error', () => {
  const db = openTest();
  db.apply({ plugin: 'util', lua: 'local M = {}\nfunction M.twice(x) return x * 2 end\nreturn M' });
  assert.equal(db.plugins()[0].plugin, 'util');
  assert.equal(db.plugin('util').plugin, 'util');
  assert.throws(() => db.apply({ form: 'f', fields: [{ name: 'c', type: 'computed', lua: 'record.(' }] }), crm.ScriptError);
  db.close();
});
