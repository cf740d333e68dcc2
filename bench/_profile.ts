// temporary profiling harness (deleted before handing back)
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { POSTGRES_URL, addSource, percentile, startInProcessBraid } from './support.js';

const schema = 'braid_bench_profile_tmp';
const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
const exists = (await pool.query(`select 1 from pg_namespace where nspname = $1`, [schema])).rowCount;
if (!exists) {
  await pool.query(`create schema ${schema}`);
  await pool.query(`create table ${schema}.orders (id bigserial primary key, customer_id int not null, email text not null, amount numeric(12,2) not null, created_at timestamptz not null)`);
  await pool.query(`insert into ${schema}.orders (customer_id, email, amount, created_at) select 1 + (i % 8000), 'customer' || i || '@example.com', round((random() * 10000)::numeric, 2), timestamptz '2025-01-01 00:00:00+00' + i * interval '31 seconds' from generate_series(1, 1000000) as i`);
  await pool.query(`create index on ${schema}.orders (customer_id)`);
  await pool.query(`analyze ${schema}.orders`);
}
const braid = await startInProcessBraid();
const id = await addSource(braid.baseUrl, braid.headers, { name: 'p', kind: 'postgres', config: { url: POSTGRES_URL, schemas: [schema] } });
const t = encodeURIComponent(`${schema}.orders`);
const N = Number(process.env.N ?? 500);
async function time(label: string, fn: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 50; i++) await fn(i);
  const xs: number[] = [];
  for (let i = 0; i < N; i++) { const s = performance.now(); await fn(i); xs.push(performance.now() - s); }
  xs.sort((a, b) => a - b);
  console.log(label.padEnd(40), percentile(xs, 50).toFixed(3), percentile(xs, 99).toFixed(3));
}
const h = braid.headers;
const only = process.env.ONLY;
const cases: Record<string, (i: number) => Promise<unknown>> = {
  health: () => fetch(`${braid.baseUrl}/api/health`).then((r) => r.text()),
  me: () => fetch(`${braid.baseUrl}/api/auth/me`, { headers: h }).then((r) => r.text()),
  schema: () => fetch(`${braid.baseUrl}/api/sources/${id}/tables/${t}`, { headers: h }).then((r) => r.text()),
  rows1: (i) => fetch(`${braid.baseUrl}/api/sources/${id}/tables/${t}/rows?filter=${encodeURIComponent(JSON.stringify({ field: 'customer_id', op: 'eq', value: 1 + (i * 37) % 8000 }))}&limit=1`, { headers: h }).then((r) => r.json()),
  rows100: (i) => fetch(`${braid.baseUrl}/api/sources/${id}/tables/${t}/rows?filter=${encodeURIComponent(JSON.stringify({ field: 'customer_id', op: 'eq', value: 1 + (i * 37) % 8000 }))}&limit=100`, { headers: h }).then((r) => r.json()),
  service100: (i) => braid.app.rows.list(id, `${schema}.orders`, { filter: JSON.stringify({ field: 'customer_id', op: 'eq', value: 1 + (i * 37) % 8000 }), limit: '100' }),
  pg100: (i) => pool.query(`select id, customer_id, email, amount, created_at from ${schema}.orders where customer_id = $1 order by id limit 101`, [1 + (i * 37) % 8000]),
  pg1: (i) => pool.query(`select id, customer_id, email, amount, created_at from ${schema}.orders where customer_id = $1 order by id limit 2`, [1 + (i * 37) % 8000]),
};
for (const [k, fn] of Object.entries(cases)) if (!only || only.split(',').includes(k)) await time(k, fn);
await braid.close();
await pool.end();
