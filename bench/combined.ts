import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createConnector } from '../src/connectors/create-connector.js';
import type { Connector } from '../src/connectors/connector.js';
import { parseCombinedDefinition, type JoinKind } from '../src/combined/combined-definition.js';
import type {
  CombinedDeps,
  CombinedQuery,
  CombinedRow,
  CombinedTable,
} from '../src/combined/combined-table.js';
import { listCombinedRows } from '../src/combined/combined-reader.js';
import { resolveCombinedTable } from '../src/combined/resolve-combined-table.js';
import { BraidError } from '../src/model/errors.js';
import type { Filter } from '../src/model/filter.js';
import type { SortTerm } from '../src/model/query.js';
import { qualifiedName, type DatabaseSchema } from '../src/model/schema.js';
import { createSandbox, type Sandbox } from '../src/sandbox/index.js';
import { mysqlQuery, mysqlUrlOf, postgresQuery } from './braid-process.js';
import { ROWS, createFixtures, createForeignTable } from './combined-fixtures.js';
import {
  POSTGRES_URL,
  log,
  mib,
  percentile,
  ratio,
  registerCleanup,
  uniqueName,
  type BenchResult,
} from './support.js';

/**
 * A combined table over a PostgreSQL table of 100,000 customers and a MariaDB table of 100,000
 * accounts, matched on customer_code (90% of the codes on both sides), read with Braid's combined
 * reader (`listCombinedRows`, in this process) against PostgreSQL running the same query as a join
 * over a mysql_fdw foreign table (Debian's postgresql-<major>-mysql-fdw, installed by
 * scripts/ensure-mysql-fdw.sh). Both the "full" and the "inner" join; every Braid page is checked
 * against the fdw page (same rows, same order, same values) before anything is timed.
 *
 * BENCH_COMBINED_WARMUP / _RUNS (5 / 30 per query and contender), _DEEP_ROW (50,000), _WALK_PAGE
 * (1,000); _ONLY="inner sort my" runs the matching queries only; _CALLS=1 logs every connector call
 * of the diagnostic Braid call; _EXPLAIN=1 logs the fdw plans.
 * The fixtures are in combined-fixtures.ts.
 */

const PAGE = 50;
const WARMUP = Number(process.env.BENCH_COMBINED_WARMUP ?? 5);
const RUNS = Number(process.env.BENCH_COMBINED_RUNS ?? 30);
const DEEP_ROW = Number(process.env.BENCH_COMBINED_DEEP_ROW ?? 50_000);
/** Rows per page of the untimed cursor walk to the deep page. */
const WALK_PAGE = Number(process.env.BENCH_COMBINED_WALK_PAGE ?? 1_000);
const JOINS: JoinKind[] = ['full', 'inner'];
/** Only the queries whose "<join> <label>" contains this text (a quicker look at one query). */
const ONLY = process.env.BENCH_COMBINED_ONLY;
const FIRST_PAGE_P50_MS = 100;

const PG_COLUMNS = ['name', 'city', 'segment', 'balance'];
const MY_COLUMNS = ['email', 'phone', 'country', 'plan'];
const FIELDS = ['customer_code', ...PG_COLUMNS, ...MY_COLUMNS];
/** Each exposed column as the fdw query writes it (c: the PostgreSQL table, a: the foreign table). */
const SQL_OF: Record<string, string> = {
  customer_code: 'coalesce(c.customer_code, a.customer_code)',
  ...Object.fromEntries(PG_COLUMNS.map((c) => [c, `c.${c}`])),
  ...Object.fromEntries(MY_COLUMNS.map((c) => [c, `a.${c}`])),
};

/** One city and one country hold 1% of their table's rows each (see the fixtures). */
const CITY = 'City 42';
const COUNTRY = 'BQ';

interface QuerySpec {
  label: string;
  filter?: Filter;
  sort?: SortTerm[];
  /** The page after row DEEP_ROW in the default order instead of the first page. */
  deep?: boolean;
}

const QUERIES: QuerySpec[] = [
  { label: `filter pg city = '${CITY}'`, filter: { field: 'city', op: 'eq', value: CITY } },
  { label: `filter my country = '${COUNTRY}'`, filter: { field: 'country', op: 'eq', value: COUNTRY } },
  { label: 'sort pg name asc', sort: [{ field: 'name', dir: 'asc' }] },
  { label: 'sort pg name desc', sort: [{ field: 'name', dir: 'desc' }] },
  { label: 'sort my email asc', sort: [{ field: 'email', dir: 'asc' }] },
  { label: 'sort my email desc', sort: [{ field: 'email', dir: 'desc' }] },
  { label: `deep page (row ${DEEP_ROW.toLocaleString('en-US')})`, deep: true },
];

// ------------------------------------------------------------------------------------ fixtures

// ------------------------------------------------------------------------------------ fdw SQL

interface FdwQuery {
  text: string;
  values: unknown[];
}

interface OrderTerm {
  expr: string;
  dir: 'asc' | 'desc';
  nullsFirst: boolean;
  /** The column of an fdw answer row holding the term's value. */
  key: string;
}

/**
 * The combined order as SQL (src/combined/stream-plan.ts, stream-reader.ts): the user's terms, NULL
 * first ascending and last descending; then the stream, i.e. whether the entity is in the first
 * member of the partition order (the owner of the first sort column, else the first member: rows
 * holding it come first); then that stream's driver primary key, which is the partition-first
 * member's id, or the other member's id for the entities the first one lacks.
 */
function orderTerms(spec: QuerySpec): OrderTerm[] {
  const first = spec.sort?.[0] && MY_COLUMNS.includes(spec.sort[0].field) ? 'a' : 'c';
  const other = first === 'a' ? 'c' : 'a';
  const idKey = (alias: string) => (alias === 'c' ? 'pg_id' : 'my_id');
  return [
    ...(spec.sort ?? []).map((t) => ({
      expr: SQL_OF[t.field]!,
      dir: t.dir,
      nullsFirst: t.dir === 'asc',
      key: t.field,
    })),
    { expr: `${first}.id`, dir: 'asc' as const, nullsFirst: false, key: idKey(first) },
    { expr: `${other}.id`, dir: 'asc' as const, nullsFirst: false, key: idKey(other) },
  ];
}

/** "Comes after the row with these sort values" over `terms` (lexicographic), as bound SQL. */
function afterPredicate(terms: OrderTerm[], last: unknown[], values: unknown[]): string {
  const bind = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const disjuncts: string[] = [];
  terms.forEach((term, i) => {
    const v = last[i];
    if (v === null && !term.nullsFirst) return; // nothing comes after NULL when NULLs come last
    const parts = terms
      .slice(0, i)
      .map((t, j) => (last[j] === null ? `${t.expr} is null` : `${t.expr} = ${bind(last[j])}`));
    const beyond = term.dir === 'asc' ? '>' : '<';
    if (v === null) parts.push(`${term.expr} is not null`);
    else if (term.nullsFirst) parts.push(`${term.expr} ${beyond} ${bind(v)}`);
    else parts.push(`(${term.expr} ${beyond} ${bind(v)} or ${term.expr} is null)`);
    disjuncts.push(`(${parts.join(' and ')})`);
  });
  return disjuncts.length === 0 ? 'false' : disjuncts.join(' or ');
}

function fdwQuery(
  schema: string,
  join: JoinKind,
  spec: QuerySpec,
  after: unknown[] | null,
  limit = PAGE,
  offset = 0,
): FdwQuery {
  const s = pg.escapeIdentifier(schema);
  const values: unknown[] = [];
  const where: string[] = [];
  if (spec.filter) {
    const f = spec.filter as { field: string; op: string; value: unknown };
    if (f.op !== 'eq') throw new Error(`fdw SQL for op ${f.op} is not written`);
    values.push(f.value);
    where.push(`${SQL_OF[f.field]} = $${values.length}`);
  }
  const terms = orderTerms(spec);
  if (after) where.push(`(${afterPredicate(terms, after, values)})`);
  const order = terms.map((t) => `${t.expr} ${t.dir} nulls ${t.nullsFirst ? 'first' : 'last'}`).join(', ');
  const text = `select ${FIELDS.map((f) => `${SQL_OF[f]} as ${f}`).join(', ')}, c.id as pg_id, a.id as my_id
    from ${s}.customers c ${join === 'full' ? 'full join' : 'join'} ${s}.accounts a on a.customer_code = c.customer_code
    ${where.length ? `where ${where.join(' and ')}` : ''} order by ${order} limit ${limit}${offset ? ` offset ${offset}` : ''}`;
  return { text, values };
}

/** The sort values of an fdw answer row, in `orderTerms` order. */
function sortValues(spec: QuerySpec, row: Record<string, unknown>): unknown[] {
  return orderTerms(spec).map((t) => row[t.key] ?? null);
}

// ------------------------------------------------------------------------------------ Braid side

interface CallLog {
  enabled: boolean;
  calls: { source: string; method: string; ms: number; rows: number; what: string }[];
}

/** A select's shape for the call log: filter operators (with `in` list sizes), sort, cursor, limit. */
function describeQuery(query: unknown): string {
  if (typeof query !== 'object' || query === null) return '';
  const q = query as { filter?: Filter; sort?: SortTerm[]; limit?: number; cursor?: string };
  const ops: string[] = [];
  const walk = (f: Filter): void => {
    if ('and' in f) f.and.forEach(walk);
    else if ('or' in f) f.or.forEach(walk);
    else if ('not' in f) walk(f.not);
    else ops.push(`${f.field} ${f.op}${Array.isArray(f.value) ? `(${f.value.length})` : ''}`);
  };
  if (q.filter) walk(q.filter);
  const sort = (q.sort ?? []).map((t) => `${t.field} ${t.dir}`).join(', ');
  return `[${ops.join(' & ') || 'all'}${sort ? `; sort ${sort}` : ''}${q.cursor ? '; cursor' : ''}; limit ${q.limit ?? '-'}]`;
}

/** The connector with its query methods timed into `calls` while `enabled` (diagnostics only). */
function instrumented(source: string, connector: Connector, calls: CallLog): Connector {
  const timed = new Set(['select', 'count', 'rawQuery', 'getByKey']);
  return new Proxy(connector, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (!timed.has(String(prop))) return (value as (...a: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        const started = performance.now();
        const result = (await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as {
          rows?: unknown[];
        };
        if (calls.enabled)
          calls.calls.push({
            source,
            method: String(prop),
            ms: performance.now() - started,
            rows: result?.rows?.length ?? 0,
            what: describeQuery(args[1]),
          });
        return result;
      };
    },
  });
}

function combinedDeps(connectors: Record<string, Connector>, sandbox: Sandbox): CombinedDeps {
  const schemas = new Map<string, Promise<DatabaseSchema>>();
  return {
    async resolveSourceId(idOrName) {
      if (idOrName in connectors) return idOrName;
      throw new BraidError(404, 'unknown_source', `no source "${idOrName}"`);
    },
    async resolveTable(sourceId, name) {
      const connector = connectors[sourceId]!;
      if (!schemas.has(sourceId)) schemas.set(sourceId, connector.introspect());
      const schema = await schemas.get(sourceId)!;
      const table =
        schema.tables.find((t) => qualifiedName(t, connector.defaultSchema) === name) ??
        schema.tables.find((t) => t.name === name);
      if (!table)
        throw new BraidError(404, 'unknown_table', `table "${name}" was not found in source "${sourceId}"`);
      return { connector, table };
    },
    sandbox,
  };
}

function definition(join: JoinKind, schema: string) {
  return parseCombinedDefinition({
    name: `bench_${join}`,
    join,
    members: [
      {
        name: 'pg',
        source: 'pg',
        table: `${schema}.customers`,
        match: { column: 'customer_code', normalize: [] },
      },
      { name: 'my', source: 'my', table: 'accounts', match: { column: 'customer_code', normalize: [] } },
    ],
    columns: [
      { name: 'customer_code', owners: ['pg.customer_code', 'my.customer_code'] },
      ...PG_COLUMNS.map((c) => ({ name: c, owners: [`pg.${c}`] })),
      ...MY_COLUMNS.map((c) => ({ name: c, owners: [`my.${c}`] })),
    ],
  });
}

const memberId = (row: CombinedRow, member: string): unknown => row._members[member]?.id ?? null;

function braidQuery(spec: QuerySpec, cursor?: string): CombinedQuery {
  return {
    limit: PAGE,
    ...(spec.filter ? { filter: spec.filter } : {}),
    ...(spec.sort ? { sort: spec.sort } : {}),
    ...(cursor ? { cursor } : {}),
  };
}

// ------------------------------------------------------------------------------------ checks and stats

const cell = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Fails loudly unless both pages hold the same rows in the same order with the same values. */
function assertSamePage(what: string, braid: CombinedRow[], fdw: Record<string, unknown>[]): void {
  const codes = (rows: Record<string, unknown>[]) => rows.map((r) => String(r.customer_code)).join(',');
  if (braid.length !== fdw.length || codes(braid) !== codes(fdw)) {
    const at = braid.findIndex((r, i) => r.customer_code !== fdw[i]?.customer_code);
    throw new Error(
      `${what}: Braid and the fdw disagree (${braid.length} vs ${fdw.length} rows; first difference at row ${at}: ` +
        `braid ${JSON.stringify(braid[at] ?? null)} fdw ${JSON.stringify(fdw[at] ?? null)})`,
    );
  }
  braid.forEach((row, i) => {
    for (const field of FIELDS)
      if (cell(row[field]) !== cell(fdw[i]![field]))
        throw new Error(
          `${what}: row ${i} (${String(row.customer_code)}) ${field} is ${JSON.stringify(row[field])} in Braid, ${JSON.stringify(fdw[i]![field])} in the fdw`,
        );
    if (
      cell(memberId(row, 'pg')) !== cell(fdw[i]!.pg_id) ||
      cell(memberId(row, 'my')) !== cell(fdw[i]!.my_id)
    )
      throw new Error(
        `${what}: row ${i} (${String(row.customer_code)}) comes from other member rows in Braid and the fdw`,
      );
  });
}

interface Measured {
  join: JoinKind;
  spec: QuerySpec;
  braid: number[];
  fdw: number[];
  /** One diagnostic Braid call, its connector calls. */
  calls: CallLog['calls'];
  diagnosticMs: number;
}

const p = (times: number[], q: number) =>
  percentile(
    [...times].sort((a, b) => a - b),
    q,
  );
const fmt = (v: number) => `${v.toFixed(1)} ms`;

// ------------------------------------------------------------------------------------ the run

export async function runCombined(): Promise<BenchResult> {
  const schema = uniqueName('bench_combined');
  const database = uniqueName('bench_combined');
  const server = uniqueName('bench_combined_mysql');
  const connectors: Connector[] = [];
  let sandbox: Sandbox | undefined;
  let client: pg.Client | undefined;
  let createdExtension = false;
  /** Set when the cleanup began (Ctrl-C): every query after it fails, and is not a finding. */
  let stopping = false;
  const cleanup = registerCleanup(
    `schema, database and foreign server ${schema}/${database}/${server}`,
    async () => {
      stopping = true;
      await client?.end().catch(() => {});
      await Promise.allSettled(connectors.map((c) => c.close()));
      await sandbox?.close().catch(() => {});
      await postgresQuery(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
      await postgresQuery(`drop server if exists ${pg.escapeIdentifier(server)} cascade`);
      if (createdExtension) await postgresQuery('drop extension if exists mysql_fdw');
      await mysqlQuery(`drop database if exists \`${database}\``);
    },
  );
  try {
    const script = fileURLToPath(new URL('../scripts/ensure-mysql-fdw.sh', import.meta.url));
    execFileSync('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'] });
    const installed = await postgresQuery<{ v: string | null }>(
      `select installed_version as v from pg_available_extensions where name = 'mysql_fdw'`,
    );
    createdExtension = !installed[0]?.v;
    await postgresQuery('create extension if not exists mysql_fdw');

    log(
      `creating ${ROWS.toLocaleString('en-US')} rows in ${schema}.customers (PostgreSQL) and ${database}.accounts (MariaDB)`,
    );
    const loadStarted = performance.now();
    await createFixtures(schema, database);
    await createForeignTable(schema, database, server);
    log(`fixtures loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);

    client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    const fdw = client;
    const analyzed = await fdw.query(`analyze ${pg.escapeIdentifier(schema)}.accounts`).then(
      () => 'analyzed',
      (err: unknown) => `ANALYZE refused: ${err instanceof Error ? err.message : String(err)}`,
    );
    log(`foreign table ${analyzed}`);
    const counts = (
      await fdw.query(`select
      (select count(*) from ${pg.escapeIdentifier(schema)}.customers) as pg,
      (select count(*) from ${pg.escapeIdentifier(schema)}.accounts) as my,
      (select count(*) from ${pg.escapeIdentifier(schema)}.customers c join ${pg.escapeIdentifier(schema)}.accounts a using (customer_code)) as shared`)
    ).rows[0] as Record<string, string>;
    log(`rows: ${counts.pg} customers, ${counts.my} accounts, ${counts.shared} codes on both sides`);

    const calls: CallLog = { enabled: false, calls: [] };
    const pgConnector = createConnector('postgres', { url: POSTGRES_URL, schemas: [schema] });
    const myConnector = createConnector('mysql', { url: mysqlUrlOf(database) });
    connectors.push(pgConnector, myConnector);
    sandbox = createSandbox();
    const deps = combinedDeps(
      { pg: instrumented('pg', pgConnector, calls), my: instrumented('my', myConnector, calls) },
      sandbox,
    );

    const measured: Measured[] = [];
    const failures: string[] = [];
    for (const join of JOINS) {
      const table: CombinedTable = await resolveCombinedTable(
        `bench_${join}`,
        definition(join, schema),
        deps,
      );
      for (const spec of QUERIES) {
        if (ONLY && !`${join} ${spec.label}`.includes(ONLY)) continue;
        // A query Braid answers wrongly or refuses is reported with the others, then fails the run.
        try {
          measured.push(await measureQuery({ table, fdw, schema, join, spec, calls }));
        } catch (err) {
          if (stopping) throw err;
          const message = err instanceof Error ? err.message : String(err);
          failures.push(`${join} join, ${spec.label}: ${message}`);
          log(`${join} join, ${spec.label}: FAILED: ${message}`);
        }
      }
    }
    const result = report(measured, analyzed);
    if (failures.length > 0)
      throw new Error(
        `${failures.length} of ${JOINS.length * QUERIES.length} queries failed:\n  ${failures.join('\n  ')}`,
      );
    return result;
  } finally {
    await cleanup();
  }
}

interface QueryContext {
  table: CombinedTable;
  fdw: pg.Client;
  schema: string;
  join: JoinKind;
  spec: QuerySpec;
  calls: CallLog;
}

/**
 * Where the deep page starts: Braid follows its cursor (untimed, pages of WALK_PAGE), the fdw side
 * takes the sort values of the same row, which must be the same entity.
 */
async function deepStart(q: QueryContext, what: string): Promise<{ cursor: string; after: unknown[] }> {
  let seen = 0;
  let cursor: string | undefined;
  let last: CombinedRow | undefined;
  const started = performance.now();
  while (seen < DEEP_ROW) {
    const page = await listCombinedRows(q.table, {
      limit: Math.min(WALK_PAGE, DEEP_ROW - seen),
      ...(cursor ? { cursor } : {}),
    });
    if (!page.next || page.rows.length === 0) throw new Error(`${what}: the result ended after ${seen} rows`);
    seen += page.rows.length;
    last = page.rows.at(-1);
    cursor = page.next;
  }
  const fdwLast = (await q.fdw.query(fdwQuery(q.schema, q.join, q.spec, null, 1, DEEP_ROW - 1).text))
    .rows[0] as Record<string, unknown>;
  log(`${what}: Braid walked ${seen} rows in pages of ${WALK_PAGE} in ${fmt(performance.now() - started)}`);
  assertSamePage(`${what}: row ${DEEP_ROW} of the walk`, [last!], [fdwLast]);
  return { cursor: cursor!, after: sortValues(q.spec, fdwLast) };
}

async function measureQuery(q: QueryContext): Promise<Measured> {
  const { table, fdw, spec, calls } = q;
  const what = `${q.join} join, ${spec.label}`;
  const start = spec.deep ? await deepStart(q, what) : null;
  const query = fdwQuery(q.schema, q.join, spec, start?.after ?? null);
  const runBraid = () => listCombinedRows(table, braidQuery(spec, start?.cursor));
  const runFdw = () => fdw.query(query.text, query.values);

  assertSamePage(what, (await runBraid()).rows, (await runFdw()).rows as Record<string, unknown>[]);
  if (process.env.BENCH_COMBINED_EXPLAIN) {
    const plan = await fdw.query(`explain ${query.text}`, query.values);
    log(
      `${what}: fdw plan\n${plan.rows.map((r: Record<string, string>) => `      ${r['QUERY PLAN']}`).join('\n')}`,
    );
  }
  const m: Measured = { join: q.join, spec, braid: [], fdw: [], calls: [], diagnosticMs: 0 };
  for (let i = 0; i < WARMUP + RUNS; i++) {
    // Alternate which contender goes first, so neither always runs on the other's warm cache.
    const order = i % 2 === 0 ? (['braid', 'fdw'] as const) : (['fdw', 'braid'] as const);
    for (const who of order) {
      const started = performance.now();
      if (who === 'braid') await runBraid();
      else await runFdw();
      if (i >= WARMUP) m[who].push(performance.now() - started);
    }
  }
  // One more Braid call with its connector calls timed: where its time goes.
  calls.calls = [];
  calls.enabled = true;
  const started = performance.now();
  await runBraid();
  m.diagnosticMs = performance.now() - started;
  calls.enabled = false;
  m.calls = calls.calls;
  log(`${what}: ${diagnostics(m)}`);
  if (process.env.BENCH_COMBINED_CALLS)
    for (const c of m.calls) log(`    ${c.source}.${c.method} ${fmt(c.ms)} ${c.rows} rows ${c.what}`);
  log(
    `${what}: braid p50 ${fmt(p(m.braid, 50))} p95 ${fmt(p(m.braid, 95))}, fdw p50 ${fmt(p(m.fdw, 50))} ` +
      `p95 ${fmt(p(m.fdw, 95))}, fdw/braid ${ratio(p(m.fdw, 50) / p(m.braid, 50))}`,
  );
  return m;
}

/** The diagnostic Braid call: its wall time and its connector calls, summed per source and method. */
function diagnostics(m: Measured): string {
  const bySource = new Map<string, { n: number; ms: number; rows: number }>();
  for (const c of m.calls) {
    const key = `${c.source}.${c.method}`;
    const entry = bySource.get(key) ?? { n: 0, ms: 0, rows: 0 };
    bySource.set(key, { n: entry.n + 1, ms: entry.ms + c.ms, rows: entry.rows + c.rows });
  }
  const parts = [...bySource].map(([k, v]) => `${k} x${v.n} ${fmt(v.ms)} (${v.rows} rows)`);
  return `one Braid call ${fmt(m.diagnosticMs)}: ${parts.join(', ') || 'no timed connector calls'}`;
}

function report(measured: Measured[], analyzed: string): BenchResult {
  const metrics: [string, string][] = [];
  const notes: string[] = [];
  let met = true;
  const slower: string[] = [];
  const rows = [['join', 'query', 'braid p50', 'braid p95', 'fdw p50', 'fdw p95', 'fdw/braid']];
  for (const m of measured) {
    const [b50, b95, f50, f95] = [p(m.braid, 50), p(m.braid, 95), p(m.fdw, 50), p(m.fdw, 95)];
    const faster = b50 < f50;
    const firstPageOk = m.spec.deep || b50 < FIRST_PAGE_P50_MS;
    met &&= faster && firstPageOk;
    if (!faster) slower.push(`${m.join} ${m.spec.label}`);
    rows.push([m.join, m.spec.label, fmt(b50), fmt(b95), fmt(f50), fmt(f95), ratio(f50 / b50)]);
    metrics.push([
      `${m.join} ${m.spec.label}`,
      `braid ${fmt(b50)} / p95 ${fmt(b95)}; fdw ${fmt(f50)} / p95 ${fmt(f95)}; fdw/braid ${ratio(f50 / b50)}`,
    ]);
    notes.push(`${m.join} ${m.spec.label}: ${diagnostics(m)}`);
  }
  metrics.push(['peak RSS (whole process)', mib(process.resourceUsage().maxRSS)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stderr.write(
    `\n${rows.map((r) => '  ' + r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n')}\n\n`,
  );
  notes.push(
    `${WARMUP} warm-up + ${RUNS} timed runs per query and contender, alternating; pages of ${PAGE}; ` +
      `every Braid page equal to the fdw page (rows, order, values, member ids)`,
    `fdw deep page: keyset WHERE on the sort values of row ${DEEP_ROW} (not OFFSET); Braid: its cursor after an untimed walk`,
    `fdw: mysql_fdw with default options, foreign table ${analyzed}`,
  );
  if (slower.length) notes.push(`Braid slower than the fdw on: ${slower.join('; ')}`);
  return {
    name: 'combined',
    metrics,
    target: `braid faster than the fdw on every query, braid p50 < ${FIRST_PAGE_P50_MS} ms on first pages`,
    met,
    notes,
  };
}
