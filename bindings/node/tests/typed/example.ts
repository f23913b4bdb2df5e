// A typed use of the binding, checked with `tsc --noEmit` (never run).
import { open, ValidationError, Database, Cursor } from 'libcrm';

interface Lead { id: number; name: string; budget: string | null; seen_at: Date | null }

async function main(): Promise<void> {
  const db: Database = open(':memory:', { decimals: 'string', dates: 'date' });
  db.apply({ form: 'lead', fields: [{ name: 'name', type: 'text', required: true }] });
  const id = db.insert('lead', { name: 'Ann', seen_at: new Date() });
  const lead = db.get<Lead>('lead', id);
  const name: string = lead.name;
  const n: number = db.insertMany('lead', [{ name: 'a' }]);
  const ids = db.insertMany('lead', [{ name: 'b' }], { ids: true });
  const cur: Cursor<Lead> = db.query<Lead>('lead', { filter: { field: 'name', op: 'eq', value: name }, limit: 10 });
  for (const row of cur) console.log(row.budget);
  for await (const row of db.query<Lead>('lead')) console.log(row.seen_at?.toISOString());
  await db.insertManyAsync('lead', [{ name: 'c' }]);
  try {
    db.insert('lead', {});
  } catch (e) {
    if (e instanceof ValidationError) for (const f of e.errors) console.log(f.field, f.code);
  }
  const { inserted } = db.upsert('lead', 'name', { name: 'Ann' });
  db.as('ann', ['rep'], { team: 'north' }).count('lead');
  const csv: string = db.reportOutput('r', null, 'csv');
  db.transaction(() => db.update('lead', id, { name: 'B' }, { expectedVersion: 1 }));
  console.log(n, ids.length, inserted, csv, db.tick(new Date()), db.export({ form: 'lead' }).length);
  db.close();
}
declare const console: { log(...a: unknown[]): void };
void main();
