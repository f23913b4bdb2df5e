'use strict';
// Each test opens a fresh database: :memory: on SQLite, or with CRM_TEST_PG
// set a new schema of that PostgreSQL database (as tests/helpers.c does).
const crm = require('..');

let n = 0;
function openTest(options = {}) {
  const url = process.env.CRM_TEST_PG;
  if (!url) return crm.open(':memory:', options);
  return crm.open(url, { schema: `node_${process.pid}_${++n}`, ...options });
}

const pg = !!process.env.CRM_TEST_PG;

const LEAD = {
  form: 'lead',
  fields: [
    { name: 'name', type: 'text', required: true, max_length: 100 },
    { name: 'phone', type: 'phone', unique: true },
    { name: 'region', type: 'enum', options: ['north', 'south', 'east', 'west'] },
    { name: 'budget', type: 'decimal', scale: 2, min: 0 },
    { name: 'score', type: 'number' },
    { name: 'count', type: 'integer' },
    { name: 'vip', type: 'boolean' },
    { name: 'since', type: 'date' },
    { name: 'seen_at', type: 'datetime' },
    { name: 'tags', type: 'multi_enum', options: ['a', 'b', 'c'] },
    { name: 'extra', type: 'json' },
  ],
  indexes: [['region']],
};

module.exports = { crm, openTest, pg, LEAD };
