import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { POSTGRES_URL, addSource, percentile, startInProcessBraid } from './support.js';
import { fixtureBatches } from './introspect-fixtures.js';
const schema = 'braid_bench_big_tmp';
const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
const exists = (await pool.query(`select 1 from pg_namespace where nspname = $1`, [schema])).rowCount;
if (!exists) {
  await pool.query(`create schema ${schema}`);
  for (const b of fixtureBatches('postgres', (n) => `${schema}.${n}`)) await pool.query(b.join(';\n'));
}
const braid = await startInProcessBraid();
const id = await addSource(braid.baseUrl, braid.headers, { name: 'big', kind: 'postgres', config: { url: POSTGRES_URL, schemas: [schema] } });
const small = await addSource(braid.baseUrl, braid.headers, { name: 'small', kind: 'postgres', config: { url: POSTGRES_URL, schemas: ['braid_bench_profile_tmp'] } });
await braid.app.sources.resolveTable(id, `${schema}.t_0000`);
await braid.app.sources.resolveTable(small, `braid_bench_profile_tmp.orders`);
async function time(label: string, fn: () => Promise<unknown>) {
  for (let i = 0; i < 20; i++) await fn();
  const xs: number[] = [];
  for (let i = 0; i < 200; i++) { const s = performance.now(); await fn(); xs.push(performance.now() - s); }
  xs.sort((a, b) => a - b); console.log(label.padEnd(30), percentile(xs, 50).toFixed(3), percentile(xs, 90).toFixed(3));
}
await time('resolve big', () => braid.app.sources.resolveTable(id, `${schema}.t_0000`));
await time('resolve small', () => braid.app.sources.resolveTable(small, `braid_bench_profile_tmp.orders`));
await time('http rows big (limit 1)', () => fetch(`${braid.baseUrl}/api/sources/${id}/tables/${schema}.t_0000/rows?limit=1`, { headers: braid.headers }).then((r) => r.json()));
await time('http rows small (limit 1)', () => fetch(`${braid.baseUrl}/api/sources/${small}/tables/braid_bench_profile_tmp.orders/rows?limit=1`, { headers: braid.headers }).then((r) => r.json()));
const rec = await (braid.app.meta as any).db.selectFrom('sources').select('schema_cache').where('id', '=', id).executeTakeFirst();
console.log('schema cache bytes', rec.schema_cache.length);
await braid.close(); await pool.end();
