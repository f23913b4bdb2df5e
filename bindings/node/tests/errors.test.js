'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { crm, openTest, pg, LEAD } = require('./helpers');
const { makeError } = require('../lib/errors');

test('every libcrm code maps to its Error subclass, with code, errno, detail and offset', () => {
  const table = [
    [1, 'CRM_ERROR', crm.CrmError], [2, 'CRM_EINVAL', crm.InvalidError], [3, 'CRM_ENOTFOUND', crm.NotFoundError],
    [4, 'CRM_ECONFLICT', crm.ConflictError], [5, 'CRM_ECONSTRAINT', crm.ValidationError],
    [6, 'CRM_EPERM', crm.PermissionError], [7, 'CRM_ESCRIPT', crm.ScriptError], [8, 'CRM_EBUSY', crm.BusyError],
    [9, 'CRM_ENOMEM', crm.OutOfMemoryError], [10, 'CRM_EIO', crm.IOError], [11, 'CRM_ELIMIT', crm.LimitError],
    [12, 'CRM_EMISUSE', crm.MisuseError], [13, 'CRM_EEXISTS', crm.ExistsError],
  ];
  for (const [errno, code, Cls] of table) {
    const e = makeError(errno, 'm', JSON.stringify({ code, message: 'm', errors: [{ field: 'f' }] }), errno === 2 ? 7 : -1, null);
    assert.ok(e instanceof Cls && e instanceof crm.CrmError && e instanceof Error, code);
    assert.equal(e.name, Cls.name);
    assert.equal(e.code, code);
    assert.equal(e.errno, errno);
    assert.equal(e.detail.code, code);
    assert.equal(e.offset, errno === 2 ? 7 : undefined);
  }
  assert.deepEqual(makeError(5, 'm', '{"errors":[{"field":"a"}]}', -1, null).errors, [{ field: 'a' }]);
});

test('LimitError: a definition longer than the metadata limit', () => {
  const db = openTest();
  db.limit('metadataLength', 64);
  assert.throws(() => db.apply(LEAD), (e) => e instanceof crm.LimitError && e.code === 'CRM_ELIMIT');
  db.close();
});

test('IOError: an export to a directory that does not exist', () => {
  const db = openTest();
  db.apply(LEAD);
  const file = path.join(os.tmpdir(), `crm-node-missing-${process.pid}`, 'x', 'out.csv');
  assert.throws(() => db.exportFile({ form: 'lead' }, null, file), crm.IOError);
  db.close();
});

test('BusyError: another handle holds the write lock (SQLite)', { skip: pg && 'SQLite locking' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-node-'));
  const file = path.join(dir, 'busy.db');
  const a = crm.open(file);
  a.apply(LEAD);
  const b = crm.open(file, { busyTimeout: 10 });
  a.transaction(() => {
    a.insert('lead', { name: 'a' });
    assert.throws(() => b.insert('lead', { name: 'b' }), (e) => e instanceof crm.BusyError && e.code === 'CRM_EBUSY');
  });
  b.insert('lead', { name: 'b' });
  assert.equal(a.count('lead'), 2);
  a.close();
  b.close();
  fs.rmSync(dir, { recursive: true });
});
