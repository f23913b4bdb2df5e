'use strict';
// A server keeps answering during long operations: a 10 ms timer keeps
// firing while an async insertMany and an async query each handle
// LIBCRM_EVENTLOOP_ROWS rows (default 200000; the size is 1000000).
// Run on a release build: under ASan the bound would measure the sanitizer.
const test = require('node:test');
const assert = require('node:assert/strict');
const crm = require('../..');

const ROWS = Number(process.env.LIBCRM_EVENTLOOP_ROWS || 200000);
// A blocked loop would wait the whole operation (seconds); one that turns
// waits a batch (milliseconds) plus whatever a loaded machine adds: the
// longest gap must stay under a second and under a fifth of the operation.
const BOUND_MS = 1000;

function* leads(n) {
  const regions = ['north', 'south', 'east', 'west'];
  for (let i = 0; i < n; i++) {
    yield { name: `lead ${i}`, phone: `+86 138 ${String(i).padStart(8, '0')}`, region: regions[i % 4], budget: `${i % 100000}.50` };
  }
}

async function watch(work) {
  const start = Date.now();
  let last = start;
  let worst = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    worst = Math.max(worst, now - last);
    last = now;
    ticks++;
  }, 10);
  try {
    const result = await work();
    return { result, worst, ticks, total: Date.now() - start };
  } finally {
    clearInterval(timer);
  }
}

test(`the event loop keeps turning during insertManyAsync and an async query of ${ROWS} rows`, async (t) => {
  const db = crm.open(':memory:');
  db.apply({ form: 'lead', fields: [
    { name: 'name', type: 'text', required: true, max_length: 100 },
    { name: 'phone', type: 'phone', unique: true },
    { name: 'region', type: 'enum', options: ['north', 'south', 'east', 'west'] },
    { name: 'budget', type: 'decimal', scale: 2, min: 0 }], indexes: [['region']] });

  const ins = await watch(() => db.insertManyAsync('lead', leads(ROWS)));
  t.diagnostic(`insertManyAsync: longest timer gap ${ins.worst} ms over ${ins.ticks} ticks in ${ins.total} ms`);
  assert.equal(ins.result, ROWS);
  assert.ok(ins.ticks > 0, 'the timer fired');
  assert.ok(ins.worst < Math.min(BOUND_MS, ins.total / 5), `insertManyAsync: a gap of ${ins.worst} ms in ${ins.total} ms`);

  const q = await watch(async () => {
    let n = 0;
    for await (const row of db.query('lead', { fields: ['name', 'budget'] })) if (row.budget) n++;
    return n;
  });
  t.diagnostic(`async query: longest timer gap ${q.worst} ms over ${q.ticks} ticks in ${q.total} ms`);
  assert.equal(q.result, ROWS);
  assert.ok(q.ticks > 0, 'the timer fired');
  assert.ok(q.worst < Math.min(BOUND_MS, q.total / 5), `async query: a gap of ${q.worst} ms in ${q.total} ms`);
  db.close();
});
