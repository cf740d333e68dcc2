import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { sql } from 'kysely';
import { POSTGRES_URL, addSource, percentile, startInProcessBraid } from './support.js';
const schema = 'braid_bench_profile_tmp';
const braid = await startInProcessBraid();
const id = await addSource(braid.baseUrl, braid.headers, { name: 'p', kind: 'postgres', config: { url: POSTGRES_URL, schemas: [schema] } });
const name = `${schema}.orders`;
const { connector, table } = await braid.app.sources.resolveTable(id, name);
const c = connector as any;
const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
const braidPool: pg.Pool = c.shared.pool.pool;
async function time(label: string, n: number, fn: (i: number) => unknown) {
  for (let i = 0; i < 100; i++) await fn(i);
  const xs: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) { const s = performance.now(); await fn(i); xs.push(performance.now() - s); }
  const cpu = process.cpuUsage(cpu0);
  xs.sort((a, b) => a - b);
  console.log(label.padEnd(24), 'p50', percentile(xs, 50).toFixed(3), 'cpu/op', ((cpu.user + cpu.system) / 1000 / n).toFixed(3));
}
const q = (i: number) => 1 + (i * 37) % 8000;
const text = `select "id", "customer_id", "email", "amount", "created_at" from "${schema}"."orders" where ("customer_id" is not null and "customer_id" = $1) order by "id" asc limit 101`;
const raw = (await braidPool.query(text, [5])).rows;
const cases: Record<string, (i: number) => unknown> = {
  compileOnly: (i) => sql`select ${c.selectList(table, undefined)} from ${c.adapter.table(table)} where ("customer_id" is not null and "customer_id" = ${q(i)}) order by "id" limit ${sql.lit(101)}`.compile(c.db),
  decode101: () => raw.map((r: any) => c.decodeRow(table, r)),
  braidPoolRaw: (i) => braidPool.query(text, [q(i)]),
  kyselyExec: (i) => c.db.executeQuery(sql`${sql.raw(text)}`.compile(c.db).constructor === Object ? { sql: text, parameters: [q(i)], query: { kind: 'RawNode' } } : { sql: text, parameters: [q(i)], query: { kind: 'RawNode' } }),
  select100: (i) => connector.select(table, { filter: { field: 'customer_id', op: 'eq', value: q(i) }, limit: 100 }),
  pg100: (i) => pool.query(text, [q(i)]),
};
const only = process.env.ONLY?.split(',');
for (let round = 0; round < 2; round++)
for (const [k, fn] of Object.entries(cases)) if (!only || only.includes(k)) await time(k, 1000, fn);
await braid.close(); await pool.end();
