'use strict';
// libcrm for Node: open() gives a Database whose methods call the C library
// synchronously (better-sqlite3's model), with Promise variants for long
// operations that run on a worker thread. Every rule lives in libcrm; this
// layer names arguments, converts times and maps errors.
const native = require('./native');
const errors = require('./errors');
const { Cursor } = require('./cursor');
const { pack } = require('./pack');

const C = native.calls;
const LIMITS = {
  regexMatch: 0, regexDepth: 1, valueLength: 2, jsonDepth: 3, batchErrors: 4, luaInstructions: 5,
  luaMemory: 6, metadataLength: 7, definitions: 8, detailErrors: 9,
};
const TYPES = {
  text: 1, long_text: 2, integer: 3, decimal: 4, number: 5, boolean: 6, date: 7, datetime: 8, enum: 9,
  multi_enum: 10, email: 11, phone: 12, url: 13, ref: 14, json: 15, computed: 16, rollup: 17,
};
const OPEN_OPTIONS = ['schema', 'readonly', 'existing', 'init', 'busyTimeout', 'decimals', 'dates'];
const CHUNK = 1000;
// recordWrite's operations (src/batch.c)
const WRITE_INSERT = 0, WRITE_UPDATE = 1, WRITE_UPSERT = 2;

// A plain object goes to libcrm as typed values, as insertMany's rows do;
// anything else as JSON, for libcrm to refuse with its own message.
function isRecord(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkOptions(opts, allowed, what) {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object') throw new TypeError(`${what} must be an object`);
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) throw new TypeError(`${what}: unknown option '${k}' (known: ${allowed.join(', ')})`);
  }
  return opts;
}

function ms(t, what) {
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'number' || typeof t === 'bigint') return t;
  throw new TypeError(`${what} must be a Date or milliseconds since the epoch`);
}

class Database {
  /** Use open(). */
  constructor(path, options) {
    const o = checkOptions(options, OPEN_OPTIONS, 'open()');
    if (o.decimals !== undefined && !['string', 'number'].includes(o.decimals) && typeof o.decimals !== 'function') {
      throw new TypeError("open(): decimals must be 'string', 'number' or a function (text) => value");
    }
    if (o.dates !== undefined && !['date', 'string'].includes(o.dates)) {
      throw new TypeError("open(): dates must be 'date' or 'string'");
    }
    this._dates = o.dates || 'date';
    this._h = native.open(path, o);
    this.path = path;
  }

  /** false once closed. */
  get open() {
    return native.isOpen(this._h);
  }

  /** Close the database (rolls back an open transaction); later calls throw MisuseError. Idempotent. */
  close() {
    native.close(this._h);
  }

  _call(name, ...args) {
    return native.call(this._h, C[name], ...args);
  }

  // a Promise either way: a refused start (closed, busy, bad argument) rejects it
  _async(name, ...args) {
    try {
      return native.callAsync(this._h, C[name], ...args);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // times in service answers (ISO 8601 strings) become Date unless dates: 'string'
  _times(value, keys) {
    if (this._dates === 'string' || value === null || typeof value !== 'object') return value;
    const fix = (o) => {
      if (!o || typeof o !== 'object') return;
      for (const k of keys) if (typeof o[k] === 'string') o[k] = new Date(o[k]);
    };
    if (Array.isArray(value)) value.forEach(fix);
    else fix(value);
    return value;
  }

  // ---- metadata ----

  /** Apply metadata documents (one or an array); answers the summary of what changed. */
  apply(docs, options) {
    const o = checkOptions(options, ['allowDataLoss'], 'apply()');
    return this._call('apply', docs, o.allowDataLoss ? 1 : 0);
  }

  /** What apply() would do, changing nothing. */
  plan(docs, options) {
    const o = checkOptions(options, ['allowDataLoss'], 'plan()');
    return this._call('applyPlan', docs, o.allowDataLoss ? 1 : 0);
  }

  form(name) { return this._call('formGet', name); }
  forms() { return this._call('formList'); }
  /** Check stored records against their definitions (form omitted: every form). */
  check(form) { return this._call('formCheck', form); }
  workflow(name) { return this._call('workflowGet', name); }
  workflows() { return this._call('workflowList'); }
  reportDefinition(name) { return this._call('reportGet', name); }
  reports() { return this._call('reportList'); }
  decision(name) { return this._call('decisionGet', name); }
  decisions() { return this._call('decisionList'); }
  plugin(name) { return this._call('pluginGet', name); }
  plugins() { return this._call('pluginList'); }

  // ---- records ----

  /** Insert one record; answers its id. */
  insert(form, record) {
    if (!isRecord(record)) return this._call('insert', form, record);
    return native.recordWrite(this._h, WRITE_INSERT, form, 0, 0, ...pack([record]));
  }

  /** Record `id` of `form` with typed values; NotFoundError when there is none. */
  get(form, id) {
    if (!Number.isSafeInteger(id) && typeof id !== 'bigint') throw new TypeError('get(): id must be an integer');
    const rows = this.query(form, { filter: { field: 'id', op: 'eq', value: id }, limit: 1 }).all();
    if (rows.length) return rows[0];
    // libcrm's own NotFoundError (or PermissionError); a record that appeared
    // in between comes back as libcrm's JSON record
    return this._call('recordGetJson', form, id);
  }

  /** Change the fields present in `changes`; expectedVersion guards against lost updates. */
  update(form, id, changes, options) {
    const o = checkOptions(options, ['expectedVersion'], 'update()');
    if (!isRecord(changes)) this._call('update', form, id, changes, o.expectedVersion || 0);
    else native.recordWrite(this._h, WRITE_UPDATE, form, id, o.expectedVersion || 0, ...pack([changes]));
  }

  delete(form, id, options) {
    const o = checkOptions(options, ['expectedVersion'], 'delete()');
    this._call('delete', form, id, o.expectedVersion || 0);
  }

  /** Insert, or update the record whose unique `key` ("phone" or "a,b") matches. */
  upsert(form, key, record) {
    const [id, inserted] = isRecord(record) ? native.recordWrite(this._h, WRITE_UPSERT, form, key, 0, ...pack([record]))
      : this._call('upsert', form, key, record);
    return { id, inserted };
  }

  /** Insert every record of `rows` (any iterable) in one transaction, all or nothing. */
  insertMany(form, rows, options) {
    const o = checkOptions(options, ['ids'], 'insertMany()');
    const batch = native.batchBegin(this._h, form, false);
    const ids = o.ids ? [] : null;
    try {
      let chunk = [];
      const flush = () => {
        const got = native.batchAdd(batch, ...pack(chunk), !!ids);
        if (ids) for (const id of got) ids.push(id);
        chunk = [];
      };
      for (const row of rows) {
        chunk.push(row);
        if (chunk.length === CHUNK) flush();
      }
      if (chunk.length) flush();
      const count = native.batchCommit(batch);
      return ids || count;
    } finally {
      native.batchFree(batch);
    }
  }

  /**
   * insertMany on a worker thread, chunk by chunk: `rows` may be an iterable
   * or an async iterable. The database is busy (other calls throw
   * MisuseError) until the Promise settles.
   */
  async insertManyAsync(form, rows, options) {
    const o = checkOptions(options, ['ids', 'chunkSize'], 'insertManyAsync()');
    const size = o.chunkSize || CHUNK;
    const batch = native.batchBegin(this._h, form, true);
    const ids = o.ids ? [] : null;
    try {
      let chunk = [];
      const flush = async () => {
        const got = await native.batchAddAsync(batch, ...pack(chunk), !!ids);
        if (ids) for (const id of got) ids.push(id);
        chunk = [];
      };
      if (rows[Symbol.asyncIterator]) {
        for await (const row of rows) {
          chunk.push(row);
          if (chunk.length === size) await flush();
        }
      } else {
        for (const row of rows) {
          chunk.push(row);
          if (chunk.length === size) await flush();
        }
      }
      if (chunk.length) await flush();
      const count = await native.batchCommitAsync(batch);
      return ids || count;
    } finally {
      native.batchFree(batch);
    }
  }

  /** Rows of `form` matching `query` ({filter, sort, limit, offset, after, fields}). */
  query(form, query) {
    return new Cursor(this, native.queryOpen(this._h, form, query));
  }

  /** Number of records matching the query's filter. */
  count(form, query) { return this._call('count', form, query); }

  /**
   * Run `fn` in a transaction: committed when it returns, rolled back when it
   * throws. `fn` must be synchronous (like better-sqlite3's transaction).
   */
  transaction(fn) {
    if (typeof fn !== 'function') throw new TypeError('transaction() takes a function');
    this._call('begin');
    let result;
    try {
      result = fn(this);
      if (result && typeof result.then === 'function') {
        throw new TypeError('transaction(): the function must not be async (the transaction would end before it)');
      }
    } catch (e) {
      this._call('rollback');
      throw e;
    }
    this._call('commit');
    return result;
  }

  // ---- workflows and decisions ----

  /** Start workflow `workflow` for record `record` (0: free-standing); answers the instance id. */
  start(workflow, record) { return this._call('workflowStart', workflow, record || 0); }
  /** Fire `event` on the record's workflow instances, writing `fields` first. */
  fire(form, id, event, fields) { this._call('fire', form, id, event, fields); }
  fireInstance(instance, event, fields) { this._call('fireInstance', instance, event, fields); }
  /** The events the record's instances allow now (what a UI shows as buttons). */
  events(form, id) { return this._call('events', form, id); }
  instances(form, id) {
    return this._times(this._call('instances', form === undefined ? null : form, id || 0), ['started_at', 'entered_at']);
  }
  history(form, id) { return this._times(this._call('history', form === undefined ? null : form, id || 0), ['at']); }
  instance(id) { return this._times(this._call('instanceGet', id), ['started_at', 'entered_at']); }
  instanceHistory(id) { return this._times(this._call('instanceHistory', id), ['at']); }
  instanceEvents(id) { return this._call('instanceEvents', id); }
  approve(form, id) { this._call('decide', form, id, 'approve', null); }
  reject(form, id, reason) { this._call('decide', form, id, 'reject', reason); }
  migrateWorkflow(name) { return this._call('workflowMigrate', name); }
  /** Fire due timers at `now` (Date or ms; omitted: the database's clock); answers how many fired. */
  tick(now) { return this._call('tick', now === undefined ? -1 : ms(now, 'tick(now)')); }
  /** Evaluate decision table `table` on `inputs`. */
  decide(table, inputs) { return this._call('decisionEval', table, inputs || {}); }

  // ---- reports ----

  /** Rows of report `name` as a cursor (sync or async iteration). */
  report(name, params) {
    return new Cursor(this, native.reportOpen(this._h, name, params));
  }

  /** Every row of the report, read on a worker thread. */
  reportAsync(name, params) {
    return this.report(name, params).allAsync();
  }

  /** The whole result as 'json' ({columns, rows}) or 'csv' text. */
  reportOutput(name, params, format = 'json') {
    const text = this._call('reportOutput', name, params, format);
    return format === 'json' ? JSON.parse(text) : text;
  }

  async reportOutputAsync(name, params, format = 'json') {
    const text = await this._async('reportOutput', name, params, format);
    return format === 'json' ? JSON.parse(text) : text;
  }

  explain(name, params) { return this._call('reportExplain', name, params); }
  /** The query behind one result row, for query(). */
  drill(name, params, row) { return this._call('reportDrill', name, params, row); }

  // ---- actor and access ----

  /**
   * Act as `user` with `roles` and `attrs` for the following calls (on this
   * handle, until changed); answers this database. as(null): the system actor.
   */
  as(user, roles, attrs) {
    if (user === null || user === undefined) this._call('actorSet', null);
    else this._call('actorSet', { user, roles: roles || [], attrs: attrs || {} });
    return this;
  }

  /** The system actor (no permission rule applies), optionally named for audit rows. */
  asSystem(user) {
    this._call('actorSet', user ? { system: true, user } : null);
    return this;
  }

  actor() { return this._call('actorGet'); }
  /** Why the current actor may or may not do `verb` ('read', 'fire:EVENT', ...) to form/record. */
  explainAccess(verb, form, id) { return this._call('accessExplain', verb, form, id || 0); }

  // ---- audit ----

  auditHistory(form, id) { return this._times(this._call('auditHistory', form, id), ['at']); }
  recordAt(form, id, at) { return this._call('recordAt', form, id, ms(at, 'recordAt(at)')); }
  revert(form, id, version) { this._call('revert', form, id, version); }
  verifyAudit(head) { return this._call('auditVerify', head); }
  /** HMAC key for the audit chain (16 to 1024 bytes, Buffer or string); null: plain SHA-256. */
  setAuditKey(key) { this._call('auditKey', key === undefined ? null : key); }

  // ---- events ----

  eventList(afterSeq = 0, limit = 100) { return this._times(this._call('eventList', afterSeq, limit), ['at']); }
  eventHead() { return this._call('eventHead'); }
  pruneEvents(olderThanMs = 0) { return this._call('eventPrune', olderThanMs); }
  /** A named, remembered reader of the outbox (created on first use). */
  consumer(name) { return new Consumer(this, name); }
  consumers() { return this._times(this._call('consumerList'), ['created_at']); }

  // ---- import, export, duplicates, merge ----

  /** Export a query or a report ({form, query} or {report, params}); answers a Buffer. */
  export(what, options) { return this._call('export', what, options); }
  exportAsync(what, options) { return this._async('export', what, options); }
  exportFile(what, options, path) { this._call('exportFile', what, options, path); }
  exportFileAsync(what, options, path) { return this._async('exportFile', what, options, path); }
  /** Import CSV/NDJSON/JSON from a string or Buffer; answers the summary (on failure: error.summary). */
  import(form, data, options) { return this._call('importBuffer', form, data, options); }
  importAsync(form, data, options) { return this._async('importBuffer', form, data, options); }
  importFile(form, path, options) { return this._call('importFile', form, path, options); }
  importFileAsync(form, path, options) { return this._async('importFile', form, path, options); }
  duplicates(form, options) { return this._call('duplicates', form, options); }
  merge(form, survivor, other, options) { return this._call('merge', form, survivor, other, options); }
  undoMerge(mergeId) { this._call('mergeUndo', mergeId); }

  // ---- search and timeline ----

  search(text, options) { return this._call('search', text, options); }
  timeline(form, id, options) {
    const t = this._call('timeline', form, id, options);
    this._times(t.items, ['at']);
    return t;
  }

  // ---- clock, limits, warnings ----

  /** Freeze the clock (Date or ms); null: the system clock again. */
  setClock(now) {
    if (now === null || now === undefined) this._call('clockSystem');
    else this._call('clockSet', ms(now, 'setClock(now)'));
  }

  /** The database's current time in ms since the epoch. */
  now() { return this._call('now'); }

  /** Read (value omitted) or set a limit by name (Database.limits); answers the previous value. */
  limit(name, value) {
    if (!(name in LIMITS)) throw new TypeError(`limit(): unknown limit '${name}' (known: ${Object.keys(LIMITS).join(', ')})`);
    return this._call('limit', LIMITS[name], value === undefined ? -1 : value);
  }

  /** Warnings of the last successful call (e.g. duplicates with on_insert "warn"). */
  warnings() { return this._call('warnings'); }
}
Database.limits = Object.freeze(Object.keys(LIMITS));
Database.types = Object.freeze({ ...TYPES });

// An event as crm_consumer_read writes it, from the columns of its row
// (src/events.c). The payload is parsed as JSON.parse parsed it inside that
// array; one edited by hand into something that is not JSON stays its
// text, which crm_consumer_read hands out as a JSON string.
function makeEvent(seq, at, name, form, record, instance, actor, payload) {
  return { seq, at, name, form, record, instance, actor, payload: parsePayload(payload) };
}

function parsePayload(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** An event consumer: read leases events, ack moves its position. */
class Consumer {
  constructor(db, name) {
    this.db = db;
    this.name = name;
  }
  /** Create or change it: {filter, lease_ms, start}. */
  set(options) { this.db._call('consumerSet', this.name, options); return this; }
  /** The next events, leased to this reader: read as rows (crm_consumer_read_rows), no JSON array. */
  read(limit = 100) { return native.consumerRead(this.db._h, this.name, limit, makeEvent); }
  ack(seq) { this.db._call('consumerAck', this.name, seq); }
  get() { return this.db._times(this.db._call('consumerGet', this.name), ['created_at']); }
  drop() { this.db._call('consumerDrop', this.name); }
}

/** Open (or create) the database at `pathOrUrl` (a file, ':memory:' or a postgresql:// URL). */
function open(pathOrUrl, options) {
  return new Database(pathOrUrl, options);
}

module.exports = { open, Database, Consumer, Cursor, version: native.libversion, ...errors };
delete module.exports.makeError;
