import { performance } from 'node:perf_hooks';
import fjs from 'fast-json-stringify';
import { pageSchema } from '../src/server/schemas.js';
const rows = Array.from({ length: 100 }, (_, i) => ({ id: String(i + 1000000), customer_id: 1234, email: `customer${i}@example.com`, amount: '1234.56', created_at: '2025-03-01T12:34:56Z' }));
const page = { rows, next: 'eyJzIjoiaWQiLCJ2IjpbIjEyMyJdfQ' };
const ser = fjs(pageSchema as any);
for (const [k, fn] of [['fjs', () => ser(page)], ['JSON', () => JSON.stringify(page)]] as const) {
  for (let i = 0; i < 2000; i++) fn();
  const s = performance.now(); for (let i = 0; i < 20000; i++) fn(); console.log(k, ((performance.now() - s) / 20000 * 1000).toFixed(1), 'us', fn().length);
}
