import { performance } from 'node:perf_hooks';
import pg from 'pg';
import {
  POSTGRES_URL,
  addSource,
  getJson,
  log,
  ms,
  percentile,
  ratio,
  registerCleanup,
  seededRandom,
  startInProcessBraid,
  uniqueName,
  type BenchResult,
  type InProcessBraid,
} from './support.js';

/**
 * One filtered page of a 1,000,000-row PostgreSQL table through the rows API (real HTTP, keep-alive,
 * API key) against the same query sent directly with `pg` from the same process.
 */

const ROWS = 1_000_000;
/** 8,000 customers: 125 rows each, so every filtered page of 100 is full and has a next cursor. */
const CUSTOMERS = 8_000;
const PAGE = 100;
const WARMUP = Number(process.env.BENCH_LIST_WARMUP ?? 100);
const ITERATIONS = Number(process.env.BENCH_LIST_ITERATIONS ?? 300);
const TARGET_RATIO = 1.5;

interface Series {
  times: number[];
  cpuMs: number;
}

const newSeries = (): Series => ({ times: [], cpuMs: 0 });

/** Runs one request, adding its wall time and this process's CPU time to `series` when recording. */
async function measure<T>(series: Series, record: boolean, fn: () => Promise<T>): Promise<T> {
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const value = await fn();
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  if (record) {
    series.times.push(elapsed);
    series.cpuMs += (cpu.user + cpu.system) / 1000;
  }
  return value;
}

interface Page {
  rows: { id: string }[];
  next: string | null;
}

async function createTable(pool: pg.Pool, schema: string): Promise<void> {
  const s = pg.escapeIdentifier(schema);
  log(`creating ${s}.orders with ${ROWS.toLocaleString('en-US')} rows`);
  await pool.query(`create schema ${s}`);
  await pool.query(`create table ${s}.orders (
    id bigserial primary key,
    customer_id int not null,
    email text not null,
    amount numeric(12,2) not null,
    created_at timestamptz not null)`);
  // One set-based insert; the index is built afterwards, which is faster than maintaining it per row.
  await pool.query(`insert into ${s}.orders (customer_id, email, amount, created_at)
    select 1 + (i % ${CUSTOMERS}), 'customer' || i || '@example.com',
           round((random() * 10000)::numeric, 2),
           timestamptz '2025-01-01 00:00:00+00' + i * interval '31 seconds'
    from generate_series(1, ${ROWS}) as i`);
  await pool.query(`create index on ${s}.orders (customer_id)`);
  await pool.query(`analyze ${s}.orders`);
}

/**
 * The plan of the statement Braid really sent: an idle backend keeps the text of its last query in
 * pg_stat_activity, and the schema name is unique to this run, so the row is Braid's own.
 */
async function explainBraidSql(pool: pg.Pool, schema: string, customerId: number): Promise<string> {
  const { rows: sent } = await pool.query<{ query: string }>(
    `select query from pg_stat_activity where application_name = 'braid' and query like 'select %' and strpos(query, $1) > 0 limit 1`,
    [schema],
  );
  const text = sent[0]?.query;
  if (!text) return 'not found in pg_stat_activity';
  const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`explain ${text}`, [customerId]);
  return `${text.replace(/\s+/g, ' ')} => ${rows.map((r) => r['QUERY PLAN'].trim()).join(' | ')}`;
}

export async function runListLatency(): Promise<BenchResult> {
  const schema = uniqueName('braid_bench_list');
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
  let braid: InProcessBraid | undefined;
  const cleanup = registerCleanup(`schema ${schema}`, async () => {
    await braid?.close().catch((err: unknown) => log(`closing Braid failed: ${String(err)}`));
    try {
      await pool.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    } finally {
      await pool.end();
    }
  });
  try {
    await createTable(pool, schema);
    braid = await startInProcessBraid();
    const sourceId = await addSource(braid.baseUrl, braid.headers, {
      name: 'bench',
      kind: 'postgres',
      config: { url: POSTGRES_URL, schemas: [schema] },
    });
    const pageUrl = (customerId: number) =>
      `${braid!.baseUrl}/api/sources/${sourceId}/tables/${encodeURIComponent(`${schema}.orders`)}/rows?` +
      new URLSearchParams({
        filter: JSON.stringify({ field: 'customer_id', op: 'eq', value: customerId }),
        limit: String(PAGE),
      });
    const headers = braid.headers;
    const healthUrl = `${braid.baseUrl}/api/health`;
    const directSql = `select id, customer_id, email, amount, created_at from ${pg.escapeIdentifier(schema)}.orders
      where customer_id = $1 order by id limit ${PAGE + 1}`;

    const random = seededRandom(20261124);
    const nextCustomer = () => 1 + Math.floor(random() * CUSTOMERS);
    const api = newSeries();
    const direct = newSeries();
    // A public request that touches no database: the cost of HTTP itself (client and
    // server in this process), the floor under any API answer.
    const floor = newSeries();
    log(`list latency: ${WARMUP} warm-up + ${ITERATIONS} measured requests each`);
    for (let i = 0; i < WARMUP + ITERATIONS; i++) {
      const customerId = nextCustomer();
      const record = i >= WARMUP;
      let page: Page | undefined;
      let result: pg.QueryResult | undefined;
      const steps = [
        async () =>
          (page = await measure(api, record, async () =>
            getJson<Page>(pageUrl(customerId), headers, 'list rows'),
          )),
        async () => (result = await measure(direct, record, () => pool.query(directSql, [customerId]))),
        async () => measure(floor, record, () => getJson(healthUrl, {}, 'health')),
      ];
      // Rotate the order, so no side always runs right after another has warmed the same pages.
      for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]!();
      // Both must have read the same page, or the comparison means nothing.
      const directIds = result!.rows.slice(0, PAGE).map((r: { id: string }) => String(r.id));
      if (
        page!.rows.length !== PAGE ||
        page!.next === null ||
        page!.rows.map((r) => r.id).join() !== directIds.join()
      ) {
        throw new Error(`API and driver disagree for customer ${customerId}`);
      }
    }
    const apiP50 = percentile(
      api.times.sort((a, b) => a - b),
      50,
    );
    const directP50 = percentile(
      direct.times.sort((a, b) => a - b),
      50,
    );
    const floorP50 = percentile(
      floor.times.sort((a, b) => a - b),
      50,
    );
    const plan = await explainBraidSql(pool, schema, nextCustomer());
    const cpu = (series: Series) => ms(series.cpuMs / series.times.length, 3);
    return {
      name: 'list latency',
      metrics: [
        ['API p50', ms(apiP50)],
        ['API p99', ms(percentile(api.times, 99))],
        ['pg p50', ms(directP50)],
        ['pg p99', ms(percentile(direct.times, 99))],
        ['p50 ratio', ratio(apiP50 / directP50)],
        ['HTTP floor p50', `${ms(floorP50)} (${ratio(floorP50 / directP50)} pg)`],
        ['CPU/request API', cpu(api)],
        ['CPU/request pg', cpu(direct)],
        ['CPU/request floor', cpu(floor)],
      ],
      target: `API p50 <= ${TARGET_RATIO}x direct pg p50`,
      met: apiP50 / directP50 <= TARGET_RATIO,
      notes: [
        `${ITERATIONS} requests each after ${WARMUP} warm-up; ${PAGE}-row pages of ${ROWS} rows; HTTP floor = GET /api/health`,
        'CPU/request = user+system CPU of this process (HTTP client and server both run here)',
        `plan of Braid's SQL: ${plan}`,
      ],
    };
  } finally {
    await cleanup();
  }
}
