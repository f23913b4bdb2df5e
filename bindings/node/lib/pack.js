'use strict';
// insertMany's rows flattened for the addon (src/pack.c), which hands them
// to libcrm as typed values (crm_batch_add_values) instead of JSON text:
// the field names once, then per value its name, kind and number, and every
// string of the chunk in one string with the lengths of its pieces. Only
// JavaScript types are looked at here; what a field accepts is libcrm's
// business (a Date given to a text field is refused there, not here).
// The typed arrays are reused from chunk to chunk (the addon copies what it
// needs before it returns), and the pieces are concatenated, not joined:
// V8 flattens the concatenation once, when the addon reads it, far cheaper
// than Array.prototype.join of thousands of strings.

// the kinds of src/pack.c
const NULL_ = 0, INT = 1, REAL = 2, BOOL = 3, TEXT = 4, TIME = 5, LIST = 6, JSON_ = 7, BIGINT = 8;
const MIN64 = -(2n ** 63n), MAX64 = 2n ** 63n - 1n;
const KEEP = 1 << 16; // values: arrays larger than a few default chunks are not kept for the next pack

function sameKeys(a, b) {
  if (a === null || a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

// The addon turns the whole text into UTF-8 at once, where a piece ending
// in the first half of a surrogate pair would pair with the next piece's
// second half; alone in its piece that half is U+FFFD, so it is made so.
function whole(s) {
  const c = s.charCodeAt(s.length - 1);
  return c >= 0xd800 && c <= 0xdbff ? `${s.slice(0, -1)}\ufffd` : s;
}

function grown(a, n) {
  const b = new a.constructor(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

/** The typed arrays one pack fills: counts per row, idx/kinds/nums per value, lens per piece. */
class Arrays {
  constructor(nrows, nvalues) {
    this.counts = new Uint32Array(nrows);
    this.idx = new Uint32Array(nvalues);
    this.kinds = new Uint8Array(nvalues);
    this.nums = new Float64Array(nvalues);
    this.lens = new Uint32Array(nvalues);
  }

  /** Room for `values` more values from value `nv` and `pieces` more pieces from piece `np`. */
  room(nv, values, np, pieces) {
    if (nv + values > this.idx.length) {
      this.idx = grown(this.idx, nv + values);
      this.kinds = grown(this.kinds, nv + values);
      this.nums = grown(this.nums, nv + values);
    }
    if (np + pieces > this.lens.length) this.lens = grown(this.lens, np + pieces);
  }
}

let spare = null; // the arrays of the last pack, for the next one

/**
 * [names, counts, idx, kinds, nums, lens, text] for rows (an array of
 * objects). The typed arrays are views of arrays the next pack reuses:
 * hand them to the addon before packing again.
 */
function pack(rows) {
  // a getter or toJSON that packs again (db.insert inside it) gets arrays of its own
  const a = spare || new Arrays(rows.length, rows.length * 16);
  spare = null;
  try {
    return packInto(a, rows);
  } finally {
    if (a.idx.length <= KEEP) spare = a;
  }
}

function packInto(a, rows) {
  const names = [];
  const nameIdx = new Map();
  if (a.counts.length < rows.length) a.counts = new Uint32Array(rows.length);
  const counts = a.counts;
  let nv = 0, np = 0, text = '';
  let keys = null, keyIdx = null; // the previous row's keys: rows of a chunk mostly share them
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new TypeError('insertMany: every row must be an object');
    }
    const rowKeys = Object.keys(row);
    if (!sameKeys(keys, rowKeys)) {
      keys = rowKeys;
      keyIdx = rowKeys.map((key) => {
        let ni = nameIdx.get(key);
        if (ni === undefined) {
          ni = names.length;
          names.push(key);
          nameIdx.set(key, ni);
        }
        return ni;
      });
    }
    a.room(nv, keys.length, np, keys.length); // a value per key at most, a piece per value but for lists
    const { idx, kinds, nums } = a;
    let lens = a.lens;
    const first = nv;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      let v = row[key];
      let t = typeof v;
      if (t === 'string') { // the common case first
        v = whole(v);
        idx[nv] = keyIdx[k];
        kinds[nv++] = TEXT;
        lens[np++] = v.length;
        text += v;
        continue;
      }
      if (t === 'object' && v !== null && !(v instanceof Date) && typeof v.toJSON === 'function') {
        v = v.toJSON(key); // decimal libraries and the like, as JSON.stringify does
        t = typeof v;
      }
      if (t === 'undefined' || t === 'function' || t === 'symbol') continue; // left out, as JSON.stringify does
      idx[nv] = keyIdx[k];
      nums[nv] = 0;
      if (t === 'string') {
        v = whole(v);
        kinds[nv] = TEXT;
        lens[np++] = v.length;
        text += v;
      } else if (t === 'number') {
        kinds[nv] = Number.isSafeInteger(v) ? INT : REAL; // NaN, Infinity: REAL, refused by libcrm
        nums[nv] = v;
      } else if (t === 'boolean') {
        kinds[nv] = BOOL;
        nums[nv] = v ? 1 : 0;
      } else if (t === 'bigint') {
        if (v < MIN64 || v > MAX64) throw new TypeError(`insertMany: ${key}: a BigInt outside the 64-bit range`);
        const digits = v.toString();
        kinds[nv] = BIGINT;
        lens[np++] = digits.length;
        text += digits;
      } else if (v === null) {
        kinds[nv] = NULL_;
      } else if (v instanceof Date) {
        const ms = v.getTime();
        if (!Number.isFinite(ms)) throw new TypeError(`insertMany: ${key}: an invalid Date`);
        kinds[nv] = TIME;
        nums[nv] = ms;
      } else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
        kinds[nv] = LIST;
        nums[nv] = v.length;
        a.room(nv, 0, np, v.length + keys.length - k);
        lens = a.lens;
        for (let x of v) {
          x = whole(x);
          lens[np++] = x.length;
          text += x;
        }
      } else {
        const s = JSON.stringify(v); // a lone surrogate comes out escaped
        kinds[nv] = s === undefined ? NULL_ : JSON_;
        if (s !== undefined) {
          lens[np++] = s.length;
          text += s;
        }
      }
      nv++;
    }
    counts[r] = nv - first;
  }
  return [names, counts.subarray(0, rows.length), a.idx.subarray(0, nv), a.kinds.subarray(0, nv),
    a.nums.subarray(0, nv), a.lens.subarray(0, np), text];
}

module.exports = { pack };
