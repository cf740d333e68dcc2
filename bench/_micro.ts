import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { POSTGRES_URL, addSource, percentile, startInProcessBraid } from './support.js';
const schema = 'braid_bench_profile_tmp';
const braid = await startInProcessBraid();
const id = await addSource(braid.baseUrl, braid.headers, { name: 'p', kind: 'postgres', config: { url: POSTGRES_URL, schemas: [schema] } });
const name = `${schema}.orders`;
const key = braid.headers.authorization!.slice(7);
const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
async function time(label: string, n: number, fn: (i: number) => unknown) {
  for (let i = 0; i < 50; i++) await fn(i);
  const xs: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) { const s = performance.now(); await fn(i); xs.push(performance.now() - s); }
  const cpu = process.cpuUsage(cpu0);
  xs.sort((a, b) => a - b);
  console.log(label.padEnd(24), 'p50', percentile(xs, 50).toFixed(3), 'cpu/op', ((cpu.user + cpu.system) / 1000 / n).toFixed(3));
}
const { connector, table } = await braid.app.sources.resolveTable(id, name);
const page = await connector.select(table, { filter: { field: 'customer_id', op: 'eq', value: 5 }, limit: 100 });
const only = process.env.ONLY?.split(',');
const cases: Record<string, (i: number) => unknown> = {
  auth: () => braid.app.auth.authenticateApiKey(key),
  resolve: () => braid.app.sources.resolveTable(id, name),
  metaGet: () => (braid.app.meta as any).sources.get(id),
  select100: (i) => connector.select(table, { filter: { field: 'customer_id', op: 'eq', value: 1 + (i * 37) % 8000 }, limit: 100 }),
  pg100: (i) => pool.query(`select id, customer_id, email, amount, created_at from ${schema}.orders where customer_id = $1 order by id limit 101`, [1 + (i * 37) % 8000]),
  stringify: () => JSON.stringify(page),
  svcList: (i) => braid.app.rows.list(id, name, { filter: JSON.stringify({ field: 'customer_id', op: 'eq', value: 1 + (i * 37) % 8000 }), limit: '100' }),
};
for (const [k, fn] of Object.entries(cases)) if (!only || only.includes(k)) await time(k, 1000, fn);
await braid.close(); await pool.end();
