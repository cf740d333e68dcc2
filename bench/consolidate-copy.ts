import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import {
  braidDataDir,
  buildBraid,
  mariadbArgs,
  mysqlQuery,
  mysqlUrlOf,
  phaseSeconds,
  postgresQuery,
  psqlArgs,
  runBraid,
  shell,
  type BraidDataDir,
} from './braid-process.js';
import {
  POSTGRES_URL,
  log,
  perSecond,
  ratio,
  registerCleanup,
  uniqueName,
  type BenchResult,
} from './support.js';

/**
 * 1,000,000 rows of 8 columns copied PostgreSQL -> MariaDB and MariaDB -> PostgreSQL by
 * `braid consolidate run job.yaml` in its own process (a one-input job: the direct path, source
 * stream -> mapping -> COPY / LOAD DATA in one transaction, then the checksum read-back), against
 * the engines' own tools piped into each other in the same run: `psql \copy ... to stdout` into
 * `mariadb ... load data local infile '/dev/stdin'`, and `mariadb --batch --raw` into
 * `psql \copy ... from stdin`. Reads /proc, so it needs Linux.
 */

const ROWS = Number(process.env.BENCH_COPY_ROWS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_COPY_RUNS ?? 1);
const TARGET_RATIO = 0.7;

const COLUMNS = ['id', 'name', 'email', 'phone', 'amount', 'created', 'active', 'count'];

const PG_TABLE = (schema: string, table: string): string =>
  `create table ${pg.escapeIdentifier(schema)}.${table} (id bigint primary key, name text not null,
   email text not null, phone varchar(20), amount numeric(12,2) not null, created timestamptz not null,
   active boolean not null, count int)`;
const MYSQL_TABLE = (table: string): string =>
  `create table ${table} (id bigint primary key, name text not null, email text not null,
   phone varchar(20), amount decimal(12,2) not null, created timestamp(6) not null,
   active boolean not null, count int)`;

async function createFixtures(schema: string, database: string): Promise<void> {
  await postgresQuery(`create schema ${pg.escapeIdentifier(schema)}`);
  for (const table of ['people', 'from_braid', 'from_native']) await postgresQuery(PG_TABLE(schema, table));
  // Names with a comma and a quote now and then, a NULL phone in one row of ten, fractional seconds.
  await postgresQuery(`insert into ${pg.escapeIdentifier(schema)}.people
    select i, case when i % 7 = 0 then 'O''Neil, Person ' || i else 'Person ' || i end,
           'person' || i || '@example.com',
           case when i % 10 = 0 then null else '+1 555 ' || lpad((i % 10000000)::text, 7, '0') end,
           round((i % 100000)::numeric / 7, 2),
           timestamptz '2025-01-01 00:00:00+00' + i * interval '31.25 seconds',
           i % 3 <> 0, case when i % 11 = 0 then null else i % 1000 end
    from generate_series(1, ${ROWS}) as i`);
  await postgresQuery(`analyze ${pg.escapeIdentifier(schema)}.people`);

  await mysqlQuery(`create database \`${database}\``);
  for (const table of ['people', 'from_braid', 'from_native']) await mysqlQuery(MYSQL_TABLE(table), database);
  await mysqlQuery(
    `insert into people
     select seq, case when seq % 7 = 0 then concat('O''Neil, Person ', seq) else concat('Person ', seq) end,
            concat('person', seq, '@example.com'),
            case when seq % 10 = 0 then null else concat('+1 555 ', lpad(seq % 10000000, 7, '0')) end,
            round((seq % 100000) / 7, 2),
            timestamp '2025-01-01 00:00:00' + interval seq * 31.25 second,
            seq % 3 <> 0, case when seq % 11 = 0 then null else seq % 1000 end
     from seq_1_to_${ROWS}`,
    database,
  );
}

function jobYaml(
  name: string,
  target: string,
  targetTable: string,
  source: string,
  sourceTable: string,
): string {
  const columns = COLUMNS.map((c) => `          ${c}: ${c}`).join('\n');
  return `name: ${name}
target: { source: ${target} }
tables:
  - table: ${targetTable}
    inputs:
      - name: ${source}
        source: ${source}
        table: ${sourceTable}
        columns:
${columns}
`;
}

interface Direction {
  label: string;
  braid: number[];
  copyPhase: number[];
  native: number[];
  peakKib: number[];
}

export async function runConsolidateCopy(): Promise<BenchResult> {
  const schema = uniqueName('braid_bench_copy');
  const database = uniqueName('braid_bench_copy');
  let dataDir: BraidDataDir | undefined;
  const cleanup = registerCleanup(`schema and database ${schema}/${database}`, async () => {
    await dataDir?.remove();
    await postgresQuery(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    await mysqlQuery(`drop database if exists \`${database}\``);
  });
  try {
    buildBraid();
    log(
      `creating ${ROWS.toLocaleString('en-US')} rows in ${schema}.people (PostgreSQL) and ${database}.people (MariaDB)`,
    );
    await createFixtures(schema, database);
    dataDir = await braidDataDir([
      { name: 'pg', kind: 'postgres', config: { url: POSTGRES_URL, schemas: [schema] } },
      { name: 'maria', kind: 'mysql', config: { url: mysqlUrlOf(database) } },
    ]);
    const toMaria = path.join(dataDir.dir, 'to-maria.yaml');
    const toPg = path.join(dataDir.dir, 'to-pg.yaml');
    await fs.writeFile(toMaria, jobYaml('copy-to-maria', 'maria', 'from_braid', 'pg', `${schema}.people`));
    await fs.writeFile(toPg, jobYaml('copy-to-pg', 'pg', `${schema}.from_braid`, 'maria', 'people'));

    const s = pg.escapeIdentifier(schema);
    const pgSelect = `select id, name, email, phone, amount, created at time zone 'UTC', active::int, count from ${s}.people`;
    const nativeToMaria =
      `${psqlArgs()} -c "\\copy (${pgSelect}) to stdout with (format csv, null '\\N')" | ` +
      `${mariadbArgs(database)} --local-infile=1 -e "load data local infile '/dev/stdin' into table from_native ` +
      `fields terminated by ',' optionally enclosed by '\\"'"`;
    // --raw: no escaping of the values (none holds a tab, newline or backslash); NULL arrives as the word NULL.
    const nativeToPg =
      `${mariadbArgs(database)} --batch --raw --skip-column-names -e "select ${COLUMNS.join(', ')} from people" | ` +
      `${psqlArgs()} -c "\\copy ${s}.from_native from stdin with (format text, null 'NULL')"`;

    const directions: Direction[] = [
      { label: 'PostgreSQL -> MariaDB', braid: [], copyPhase: [], native: [], peakKib: [] },
      { label: 'MariaDB -> PostgreSQL', braid: [], copyPhase: [], native: [], peakKib: [] },
    ];
    const notes: string[] = [];
    for (let round = 0; round < RUNS; round++) {
      if (round > 0) {
        for (const t of ['from_braid', 'from_native']) {
          await mysqlQuery(`truncate table ${t}`, database);
          await postgresQuery(`truncate table ${s}.${t}`);
        }
      }
      for (const [i, d] of directions.entries()) {
        const job = i === 0 ? toMaria : toPg;
        log(`run ${round + 1}/${RUNS} ${d.label}: braid consolidate run, then the native pipeline`);
        const braid = await runBraid(['consolidate', 'run', job], dataDir.dir, `copy ${d.label}`);
        if (!/: verified/.test(braid.stdout))
          throw new Error(`copy ${d.label} was not verified:\n${braid.stdout}`);
        d.braid.push(braid.seconds);
        d.peakKib.push(braid.peakKib);
        const copy = phaseSeconds(braid, 'copy ', 'verify ');
        if (copy !== null) d.copyPhase.push(copy);
        const verify = phaseSeconds(braid, 'verify ', 'succeeded');
        if (round === 0)
          notes.push(
            `${d.label}: braid phases: copy ${copy?.toFixed(1) ?? '?'} s, verify ${verify?.toFixed(1) ?? '?'} s of ${braid.seconds.toFixed(1)} s`,
          );
        d.native.push(await shell(i === 0 ? nativeToMaria : nativeToPg, `native ${d.label}`));
      }
    }

    // Row counts in all four targets, and the same sums in the Braid and native copies.
    const sums = 'count(*) as n, sum(amount) as amount, sum(count) as count, sum(active) as active';
    const mariaRows = (await mysqlQuery(
      `select 'braid' as t, ${sums} from from_braid union all select 'native', ${sums} from from_native`,
      database,
    )) as { t: string; n: number; amount: string; count: string; active: string }[];
    const pgRows = await postgresQuery<{
      t: string;
      n: string;
      amount: string;
      count: string;
      active: string;
    }>(
      `select 'braid' as t, count(*) as n, sum(amount) as amount, sum(count) as count, sum(active::int) as active from ${s}.from_braid
       union all select 'native', count(*), sum(amount), sum(count), sum(active::int) from ${s}.from_native`,
    );
    for (const [engine, rows] of [
      ['MariaDB', mariaRows],
      ['PostgreSQL', pgRows],
    ] as const) {
      for (const r of rows)
        if (Number(r.n) !== ROWS)
          throw new Error(`${engine} ${r.t} target holds ${r.n} rows, expected ${ROWS}`);
      const [a, b] = rows.map((r) => `${Number(r.amount).toFixed(2)}/${r.count}/${r.active}`);
      if (a !== b)
        throw new Error(`${engine}: the Braid and native copies differ (amount/count/active ${a} vs ${b})`);
    }
    notes.push(
      `row counts: ${ROWS} in all four targets; sum(amount), sum(count), sum(active) equal between Braid and native`,
    );

    const metrics: [string, string][] = [];
    let met = true;
    for (const d of directions) {
      const braidBest = Math.min(...d.braid);
      const nativeBest = Math.min(...d.native);
      const r = nativeBest / braidBest;
      met &&= r >= TARGET_RATIO;
      metrics.push(
        [`${d.label} braid`, `${perSecond(ROWS / braidBest)} (${braidBest.toFixed(1)} s)`],
        [
          `${d.label} braid copy phase`,
          d.copyPhase.length
            ? `${perSecond(ROWS / Math.min(...d.copyPhase))} (${Math.min(...d.copyPhase).toFixed(1)} s)`
            : 'n/a',
        ],
        [`${d.label} native`, `${perSecond(ROWS / nativeBest)} (${nativeBest.toFixed(1)} s)`],
        [`${d.label} braid/native`, ratio(r)],
        [`${d.label} braid peak RSS`, `${(Math.max(...d.peakKib) / 1024).toFixed(1)} MiB`],
      );
      notes.push(
        `${d.label}: all runs braid ${d.braid.map((v) => v.toFixed(1)).join(', ')} s (copy phase ${d.copyPhase.map((v) => v.toFixed(1)).join(', ')} s), native ${d.native.map((v) => v.toFixed(1)).join(', ')} s`,
      );
    }
    return {
      name: 'copy',
      metrics,
      target: `braid/native >= ${TARGET_RATIO}x both ways (whole command)`,
      met,
      notes,
    };
  } finally {
    await cleanup();
  }
}
