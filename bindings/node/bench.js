'use strict';
// bench/bench_node's measurements: libcrm's Node binding against
// better-sqlite3 12.11.1 on the same lead-like rows (bench/gen.c's form:
// validation, a unique phone, an index on region), each on a fresh file
// database in WAL mode with synchronous=NORMAL, as libcrm sets it, and the
// same page cache: SQLite's default 2 MB, which libcrm keeps (better-sqlite3
// builds its SQLite with 16 MB; BENCH_RAW_CACHE_KB=16000 measures that).
//   ratio node_insert_many: insertMany vs a prepared INSERT in one transaction
//   ratio node_query_iter: iterating every row as objects vs iterate()
// BENCH_ROWS (default 1000000) and BENCH_REPS (default 3, best run kept).
// The ratios compare CPU time (user + system of this process: everything
// runs on the main thread), which a shared, loaded machine disturbs far less
// than the wall clock; the wall-clock ratios follow as notes.
const fs = require('fs');
const os = require('os');
const path = require('path');
const crm = require('.');
const Sqlite = require('better-sqlite3');

const ROWS = Number(process.env.BENCH_ROWS || 1000000);
const REPS = Number(process.env.BENCH_REPS || 3);
const REGIONS = ['north', 'south', 'east', 'west'];
const SOURCES = ['website', 'wechat', 'referral', 'event', 'cold_call'];
const WORDS = ['call', 'back', 'next', 'week', 'budget', 'approved', 'demo', 'sent', 'price', 'asked'];
const CITIES = ['Beijing', 'Shanghai', 'Shenzhen', 'Hangzhou', 'Chengdu'];
const LEAD = {
  form: 'lead', audit: false, events: false, label: 'Lead',
  fields: [
    { name: 'name', type: 'text', required: true, max_length: 100 },
    { name: 'phone', type: 'phone', unique: true, pattern: '^1[3-9]\\d{9}$' },
    { name: 'email', type: 'email' },
    { name: 'region', type: 'enum', options: REGIONS },
    { name: 'score', type: 'integer', min: 0 },
    { name: 'budget', type: 'decimal', scale: 2 },
    { name: 'source', type: 'enum', options: SOURCES },
    { name: 'city', type: 'text' },
    { name: 'created_on', type: 'date' },
    { name: 'notes', type: 'text' }],
  indexes: [['region']],
};
const RAW_SCHEMA = `CREATE TABLE lead(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, phone TEXT, email TEXT, region TEXT,
  score INTEGER, budget INTEGER, source TEXT, city TEXT, created_on TEXT, notes TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, owner TEXT, version INTEGER NOT NULL DEFAULT 1);
  CREATE UNIQUE INDEX lead_phone ON lead(phone); CREATE INDEX lead_region ON lead(region);`;

let seed = 42;
const rnd = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
function gen(n) {
  const rows = new Array(n);
  for (let i = 0; i < n; i++) {
    const suffix = String((i * 387420489 + 123456789) % 1000000000).padStart(9, '0');
    const day = new Date(Date.UTC(2020, 0, 1) + rnd(1500) * 86400000).toISOString().slice(0, 10);
    const notes = Array.from({ length: 3 + rnd(10) }, () => WORDS[rnd(WORDS.length)]).join(' ');
    const cents = rnd(10000000);
    rows[i] = {
      name: `Lead ${i}`, phone: `1${3 + rnd(7)}${suffix}`, email: `lead${i}@mail${rnd(50)}.example.com`,
      region: REGIONS[rnd(4)], score: rnd(1000), budget: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
      source: SOURCES[rnd(5)], city: CITIES[rnd(5)], created_on: day, notes,
    };
  }
  return rows;
}

function fresh(dir, name) {
  const f = path.join(dir, name);
  for (const s of ['', '-wal', '-shm']) fs.rmSync(f + s, { force: true });
  return f;
}

function time(fn) {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  fn();
  const d = process.cpuUsage(c);
  return { cpu: (d.user + d.system) / 1e6, wall: Number(process.hrtime.bigint() - t) / 1e9 };
}
const best = (a, b) => ({ cpu: Math.min(a.cpu, b.cpu), wall: Math.min(a.wall, b.wall) });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-bench-node-'));
const rows = gen(ROWS);
const none = { cpu: Infinity, wall: Infinity };
let bestCrm = none, bestRaw = none, iterCrm = none, iterRaw = none;
for (let rep = 0; rep < REPS; rep++) {
  const db = crm.open(fresh(dir, 'crm.db'));
  db.apply(LEAD);
  bestCrm = best(bestCrm, time(() => db.insertMany('lead', rows)));
  iterCrm = best(iterCrm, time(() => {
    let n = 0;
    for (const r of db.query('lead')) if (r.id) n++;
    if (n !== ROWS) throw new Error(`libcrm read ${n} rows`);
  }));
  db.close();

  const raw = new Sqlite(fresh(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma(`cache_size = -${Number(process.env.BENCH_RAW_CACHE_KB || 2000)}`);
  raw.exec(RAW_SCHEMA);
  const ins = raw.prepare(`INSERT INTO lead(name, phone, email, region, score, budget, source, city, created_on, notes,
    created_at, updated_at, owner, version) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 1)`);
  const insertAll = raw.transaction((list) => {
    const now = Date.now();
    for (const r of list) {
      ins.run(r.name, r.phone, r.email, r.region, r.score, Math.round(Number(r.budget) * 100), r.source, r.city,
        r.created_on, r.notes, now, now);
    }
  });
  bestRaw = best(bestRaw, time(() => insertAll(rows)));
  const sel = raw.prepare('SELECT * FROM lead');
  iterRaw = best(iterRaw, time(() => {
    let n = 0;
    for (const r of sel.iterate()) if (r.id) n++;
    if (n !== ROWS) throw new Error(`better-sqlite3 read ${n} rows`);
  }));
  raw.close();
}
fs.rmSync(dir, { recursive: true, force: true });
const rate = (name, t) => console.log(`rate ${name} ${Math.round(ROWS / t.cpu)}/s`);
const ratio = (name, a, b) => {
  console.log(`ratio ${name} ${(a.cpu / b.cpu).toFixed(3)}`);
  console.log(`# ${name}: wall-clock ratio ${(a.wall / b.wall).toFixed(3)} (${a.wall.toFixed(2)} s vs ${b.wall.toFixed(2)} s)`);
};
rate('node_insert_many_libcrm', bestCrm);
rate('node_insert_many_better_sqlite3', bestRaw);
ratio('node_insert_many', bestCrm, bestRaw);
rate('node_query_iter_libcrm', iterCrm);
rate('node_query_iter_better_sqlite3', iterRaw);
ratio('node_query_iter', iterCrm, iterRaw);
console.log(`# node bench: ${ROWS} rows, best of ${REPS} (CPU time); better-sqlite3 ${require('better-sqlite3/package.json').version} (its own SQLite ${Sqlite(':memory:').prepare('select sqlite_version() v').get().v}, cache ${process.env.BENCH_RAW_CACHE_KB || 2000} KB), libcrm on the system SQLite`);
