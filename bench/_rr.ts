import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { POSTGRES_URL, addSource, percentile, startInProcessBraid } from './support.js';
const schema = 'braid_bench_profile_tmp';
const braid = await startInProcessBraid();
const id = await addSource(braid.baseUrl, braid.headers, { name: 'p', kind: 'postgres', config: { url: POSTGRES_URL, schemas: [schema] } });
const name = `${schema}.orders`;
const t = encodeURIComponent(name);
const h = braid.headers;
const { connector, table } = await braid.app.sources.resolveTable(id, name);
const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
const q = (i: number) => 1 + (i * 37) % 8000;
const f = (i: number) => encodeURIComponent(JSON.stringify({ field: 'customer_id', op: 'eq', value: q(i) }));
const text = `select id, customer_id, email, amount, created_at from ${schema}.orders where customer_id = $1 order by id limit 101`;
const cases: Record<string, (i: number) => Promise<unknown>> = {
  health: () => fetch(`${braid.baseUrl}/api/health`).then((r) => r.json()),
  me: () => fetch(`${braid.baseUrl}/api/auth/me`, { headers: h }).then((r) => r.json()),
  http1: (i) => fetch(`${braid.baseUrl}/api/sources/${id}/tables/${t}/rows?filter=${f(i)}&limit=1`, { headers: h }).then((r) => r.json()),
  http100: (i) => fetch(`${braid.baseUrl}/api/sources/${id}/tables/${t}/rows?filter=${f(i)}&limit=100`, { headers: h }).then((r) => r.json()),
  svc100: (i) => braid.app.rows.list(id, name, { filter: JSON.stringify({ field: 'customer_id', op: 'eq', value: q(i) }), limit: '100' }),
  sel100: (i) => connector.select(table, { filter: { field: 'customer_id', op: 'eq', value: q(i) }, limit: 100 }),
  pg100: (i) => pool.query(text, [q(i)]),
  pg1: (i) => pool.query(text.replace('101', '2'), [q(i)]),
};
const only = process.env.ONLY?.split(',');
const keys = Object.keys(cases).filter((k) => !only || only.includes(k));
const times = new Map(keys.map((k) => [k, [] as number[]]));
const cpu = new Map(keys.map((k) => [k, 0]));
const N = Number(process.env.N ?? 400);
for (let i = 0; i < N + 50; i++) {
  for (const k of i % 2 ? keys : [...keys].reverse()) {
    const c0 = process.cpuUsage(); const s = performance.now(); await cases[k]!(i); const e = performance.now() - s; const c = process.cpuUsage(c0);
    if (i >= 50) { times.get(k)!.push(e); cpu.set(k, cpu.get(k)! + (c.user + c.system) / 1000); }
  }
}
const base = percentile([...times.get('pg100') ?? [1]].sort((a, b) => a - b), 50);
for (const [k, xs] of times) { xs.sort((a, b) => a - b); console.log(k.padEnd(10), 'p50', percentile(xs, 50).toFixed(3), 'p90', percentile(xs, 90).toFixed(3), 'x pg100', (percentile(xs, 50) / base).toFixed(2), 'cpu/op', (cpu.get(k)! / N).toFixed(3)); }
await braid.close(); await pool.end();
