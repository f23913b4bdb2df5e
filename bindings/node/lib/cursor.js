'use strict';
// Query and report results: a synchronous iterator (rows converted in
// batches on the main thread) and an async iterator (rows read in batches
// on a worker thread).
const native = require('./native');

const SYNC_BATCH = 256;
const ASYNC_BATCH = 1000;

/** Rows of a query or a report; iterate it once, with `for` or `for await`. */
class Cursor {
  constructor(db, handle) {
    this._db = db; // the database stays open (not collected) while its cursor is reachable
    this._h = handle;
    this._rows = [];
    this._pos = 0;
    this._done = false;
  }

  /** [{name, type, label?}]: type is libcrm's crm_type number (Database.types). */
  get columns() {
    if (!this._columns) this._columns = native.cursorColumns(this._h);
    return this._columns;
  }

  // The addon calls make(...values) for each row: an object literal of the
  // row's shape, so V8 gives every row one hidden class.
  get _make() {
    if (!this._maker) {
      const names = this.columns.map((c) => c.name);
      const params = names.map((_, i) => `v${i}`).join(', ');
      const body = names.map((n, i) => `${JSON.stringify(n)}: v${i}`).join(', ');
      this._maker = new Function(params, `return { ${body} };`); // eslint-disable-line no-new-func
    }
    return this._maker;
  }

  next() {
    if (this._pos === this._rows.length) {
      if (this._done) return { done: true, value: undefined };
      this._rows = native.cursorRead(this._h, SYNC_BATCH, this._make);
      this._pos = 0;
      if (this._rows.length === 0) {
        this.close();
        return { done: true, value: undefined };
      }
    }
    return { done: false, value: this._rows[this._pos++] };
  }

  return() {
    this.close();
    return { done: true, value: undefined };
  }

  [Symbol.iterator]() {
    return this;
  }

  async *[Symbol.asyncIterator]() {
    try {
      for (;;) {
        // rows already read synchronously come first
        while (this._pos < this._rows.length) yield this._rows[this._pos++];
        if (this._done) return;
        this._rows = await native.cursorReadAsync(this._h, ASYNC_BATCH, this._make);
        this._pos = 0;
        if (this._rows.length === 0) return;
      }
    } finally {
      this.close();
    }
  }

  /** Every remaining row as an array. */
  all() {
    return Array.from(this);
  }

  /** Every remaining row, read on a worker thread. */
  async allAsync() {
    const rows = [];
    for await (const row of this) rows.push(row);
    return rows;
  }

  /** Free the cursor now (also done at the end of iteration and by the garbage collector). */
  close() {
    if (this._done) return;
    this._done = true;
    this._rows = [];
    this._pos = 0;
    native.cursorClose(this._h);
  }
}

module.exports = { Cursor };
