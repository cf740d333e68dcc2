import { performance } from 'node:perf_hooks';
import { POSTGRES_URL, addSource, percentile, startInProcessBraid } from './support.js';
const schema = 'braid_bench_profile_tmp';
const braid = await startInProcessBraid();
const id = await addSource(braid.baseUrl, braid.headers, { name: 'p', kind: 'postgres', config: { url: POSTGRES_URL, schemas: [schema] } });
const t = encodeURIComponent(`${schema}.orders`);
const rowsSvc = braid.app.rows as any;
const origList = rowsSvc.list.bind(rowsSvc);
let tIn = 0, tOut = 0;
rowsSvc.list = async (...a: any[]) => { tIn = performance.now(); const r = await origList(...a); tOut = performance.now(); return r; };
const auth = braid.app.auth as any; const origAuth = auth.authenticateApiKey.bind(auth);
let aIn = 0, aOut = 0;
auth.authenticateApiKey = async (k: string) => { aIn = performance.now(); const r = await origAuth(k); aOut = performance.now(); return r; };
const lim = process.env.LIMIT ?? '1';
const parts: number[][] = [];
for (let i = 0; i < 600; i++) {
  const s = performance.now();
  const r = await fetch(`${braid.baseUrl}/api/sources/${id}/tables/${t}/rows?filter=${encodeURIComponent(JSON.stringify({ field: 'customer_id', op: 'eq', value: 1 + (i * 37) % 8000 }))}&limit=${lim}`, { headers: braid.headers });
  const h = performance.now();
  await r.json();
  const e = performance.now();
  if (i >= 100) parts.push([aIn - s, aOut - aIn, tIn - aOut, tOut - tIn, h - tOut, e - h, e - s]);
}
const labels = ['req->auth', 'auth', 'auth->svc', 'svc', 'svc->headers', 'body', 'total'];
labels.forEach((l, j) => { const xs = parts.map((p) => p[j]!).sort((a, b) => a - b); console.log(l.padEnd(14), percentile(xs, 50).toFixed(3), percentile(xs, 90).toFixed(3)); });
await braid.close();
