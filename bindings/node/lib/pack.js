'use strict';
// insertMany's rows flattened for the addon (src/pack.c), which hands them
// to libcrm as typed values (crm_batch_add_values) instead of JSON text:
// the field names once, then per value its name, kind and number, and every
// string of the chunk in one string with the lengths of its pieces. Only
// JavaScript types are looked at here; what a field accepts is libcrm's
// business (a Date given to a text field is refused there, not here).

// the kinds of src/pack.c
const NULL_ = 0, INT = 1, REAL = 2, BOOL = 3, TEXT = 4, TIME = 5, LIST = 6, JSON_ = 7, BIGINT = 8;
const MIN64 = -(2n ** 63n), MAX64 = 2n ** 63n - 1n;

function sameKeys(a, b) {
  if (a === null || a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** [names, counts, idx, kinds, nums, lens, text] for rows (an array of objects). */
function pack(rows) {
  const names = [];
  const nameIdx = new Map();
  const counts = new Uint32Array(rows.length);
  const idx = [], kinds = [], nums = [], lens = [], pieces = [];
  const piece = (s) => {
    lens.push(s.length);
    pieces.push(s);
  };
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
    let n = 0;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      let v = row[key];
      let t = typeof v;
      if (t === 'string') { // the common case first
        idx.push(keyIdx[k]);
        kinds.push(TEXT);
        nums.push(0);
        piece(v);
        n++;
        continue;
      }
      if (t === 'object' && v !== null && !(v instanceof Date) && typeof v.toJSON === 'function') {
        v = v.toJSON(key); // decimal libraries and the like, as JSON.stringify does
        t = typeof v;
      }
      if (t === 'undefined' || t === 'function' || t === 'symbol') continue; // left out, as JSON.stringify does
      idx.push(keyIdx[k]);
      n++;
      if (t === 'string') {
        kinds.push(TEXT);
        nums.push(0);
        piece(v);
      } else if (t === 'number') {
        kinds.push(Number.isSafeInteger(v) ? INT : REAL); // NaN, Infinity: REAL, refused by libcrm
        nums.push(v);
      } else if (t === 'boolean') {
        kinds.push(BOOL);
        nums.push(v ? 1 : 0);
      } else if (t === 'bigint') {
        if (v < MIN64 || v > MAX64) throw new TypeError(`insertMany: ${key}: a BigInt outside the 64-bit range`);
        kinds.push(BIGINT);
        nums.push(0);
        piece(v.toString());
      } else if (v === null) {
        kinds.push(NULL_);
        nums.push(0);
      } else if (v instanceof Date) {
        const ms = v.getTime();
        if (!Number.isFinite(ms)) throw new TypeError(`insertMany: ${key}: an invalid Date`);
        kinds.push(TIME);
        nums.push(ms);
      } else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
        kinds.push(LIST);
        nums.push(v.length);
        for (const x of v) piece(x);
      } else {
        const s = JSON.stringify(v);
        kinds.push(s === undefined ? NULL_ : JSON_);
        nums.push(0);
        if (s !== undefined) piece(s);
      }
    }
    counts[r] = n;
  }
  return [names, counts, Uint32Array.from(idx), Uint8Array.from(kinds), Float64Array.from(nums),
    Uint32Array.from(lens), pieces.join('')];
}

module.exports = { pack };
