import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { ConsolidationReport } from '../src/consolidate/consolidation-report.js';
import { loadConfig } from '../src/config.js';
import { openBraidApp } from '../src/services/braid-app.js';
import {
  braidDataDir,
  buildBraid,
  mysqlQuery,
  mysqlUrlOf,
  postgresQuery,
  runBraid,
  type BraidDataDir,
} from './braid-process.js';
import { DEDUP_CONFIG, syntheticPeople } from './dedup.js';
import { POSTGRES_URL, log, mib, registerCleanup, uniqueName, type BenchResult } from './support.js';

/**
 * 100,000 person records (about 20% near-duplicates of another: case, spaces, phone formats, typos,
 * swapped names, missing emails; the generator of bench/dedup.ts), split between two PostgreSQL
 * inputs, consolidated into a new MariaDB table by `braid consolidate run` in its own process, with
 * `match.exact` on the normalized email and `match.fuzzy` on names, email and phone. Reports
 * records/s of the whole command and of the match step (from the job's log), entities and pairs.
 */

const RECORDS = Number(process.env.BENCH_CONSOLIDATE_RECORDS ?? 100_000);
const RUNS = Number(process.env.BENCH_CONSOLIDATE_RUNS ?? 1);
const FIELDS = ['first_name', 'last_name', 'email', 'phone'] as const;

async function createInputs(schema: string): Promise<{ entities: number }> {
  const people = syntheticPeople(RECORDS);
  const s = pg.escapeIdentifier(schema);
  await postgresQuery(`create schema ${s}`);
  const half = Math.ceil(people.length / 2);
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    for (const [table, part] of [
      ['crm', people.slice(0, half)],
      ['shop', people.slice(half)],
    ] as const) {
      await client.query(`create table ${s}.${table} (id int primary key, first_name text, last_name text,
        email text, phone text, updated_at timestamptz not null)`);
      await client.query(
        `insert into ${s}.${table} select i, f, l, e, p, timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute'
         from unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[]) as t(i, f, l, e, p)`,
        [part.map((_, i) => i + 1), ...FIELDS.map((f) => part.map((p) => p.values[f]))],
      );
    }
  } finally {
    await client.end();
  }
  return { entities: new Set(people.map((p) => p.entity)).size };
}

function jobYaml(schema: string): string {
  const input = (name: string) => ({
    name,
    source: 'pg',
    table: `${schema}.${name}`,
    columns: Object.fromEntries(FIELDS.map((f) => [f, f])),
    updatedAt: 'updated_at',
  });
  // JSON is YAML: the definition is written as the test suites write theirs.
  return JSON.stringify(
    {
      name: 'bench-people',
      target: { source: 'maria' },
      tables: [
        {
          table: 'people',
          create: {
            columns: [
              { name: 'id', type: 'bigint', nullable: false },
              { name: 'first_name', type: 'string', maxLength: 100 },
              { name: 'last_name', type: 'string', maxLength: 100 },
              { name: 'email', type: 'string', maxLength: 200 },
              { name: 'phone', type: 'string', maxLength: 30 },
            ],
            primaryKey: ['id'],
          },
          key: { column: 'id', generate: 'sequence' },
          inputs: [input('crm'), input('shop')],
          match: {
            exact: [[{ field: 'email', normalize: ['email'] }]],
            fuzzy: DEDUP_CONFIG,
          },
          resolve: { default: 'priority', fields: { phone: 'newest' } },
        },
      ],
    },
    null,
    2,
  );
}

/**
 * The steps' durations from the job's own log: match and merge log their duration (they are
 * synchronous, so their lines are stamped only after both ran); staging ends with the last input's
 * line; the rest (create the table, write, verify) is what is left of the job's run time.
 */
async function stepSeconds(dataDir: string, jobId: string): Promise<Record<string, number>> {
  const app = await openBraidApp(loadConfig({ BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' }));
  try {
    const job = await app.jobs.get(jobId);
    const logs = await app.jobs.logs(jobId, { afterSeq: 0, limit: 10_000 });
    const line = (pattern: RegExp) => {
      const found = logs.find((l) => pattern.test(l.message));
      if (!found)
        throw new Error(`no log line ${pattern} in job ${jobId}: ${logs.map((l) => l.message).join(' | ')}`);
      return found;
    };
    const seconds = (pattern: RegExp): number => {
      const value = line(pattern).details?.seconds;
      if (typeof value !== 'number') throw new Error(`the log line ${pattern} carries no duration`);
      return value;
    };
    const total = (Date.parse(job.finishedAt!) - Date.parse(job.startedAt!)) / 1000;
    const stage = (Date.parse(line(/<- shop: .* read/).at) - Date.parse(job.startedAt!)) / 1000;
    const match = seconds(/records -> .* entities/);
    const merge = seconds(/discrepancies settled/);
    return { stage, match, merge, 'create+write+verify': total - stage - match - merge };
  } finally {
    await app.close();
  }
}

export async function runConsolidateDedup(): Promise<BenchResult> {
  const schema = uniqueName('braid_bench_people');
  const database = uniqueName('braid_bench_people');
  let dataDir: BraidDataDir | undefined;
  const cleanup = registerCleanup(`schema and database ${schema}/${database}`, async () => {
    await dataDir?.remove();
    await postgresQuery(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    await mysqlQuery(`drop database if exists \`${database}\``);
  });
  try {
    buildBraid();
    log(`creating ${RECORDS.toLocaleString('en-US')} people in ${schema}.crm and ${schema}.shop`);
    const { entities: trueEntities } = await createInputs(schema);
    await mysqlQuery(`create database \`${database}\``);
    dataDir = await braidDataDir([
      { name: 'pg', kind: 'postgres', config: { url: POSTGRES_URL, schemas: [schema] } },
      { name: 'maria', kind: 'mysql', config: { url: mysqlUrlOf(database) } },
    ]);
    const job = path.join(dataDir.dir, 'people.yaml');
    await fs.writeFile(job, jobYaml(schema));

    const totals: number[] = [];
    const steps: Record<string, number>[] = [];
    const peaks: number[] = [];
    const progressNotes: string[] = [];
    let report: ConsolidationReport | undefined;
    for (let run = 0; run < RUNS; run++) {
      if (run > 0) await mysqlQuery('drop table people', database);
      log(`run ${run + 1}/${RUNS}: braid consolidate run`);
      const result = await runBraid(['--json', 'consolidate', 'run', job], dataDir.dir, 'consolidate');
      report = JSON.parse(result.stdout) as ConsolidationReport;
      if (report.verdict !== 'verified' || !report.accounted)
        throw new Error(`the consolidation ended ${report.verdict}, accounted ${report.accounted}`);
      totals.push(result.seconds);
      peaks.push(result.peakKib);
      steps.push(await stepSeconds(dataDir.dir, report.job));
      // When each phase began as the progress lines showed it (a synchronous step shows late).
      progressNotes.push(
        result.lines
          .filter((l) => !l.text.startsWith('job '))
          .map((l) => ({ at: l.at, phase: l.text.split('  ')[0]! }))
          .filter((l, i, all) => i === 0 || l.phase !== all[i - 1]!.phase)
          .map((l) => `${l.at.toFixed(1)} s ${l.phase}`)
          .join(', '),
      );
    }
    const table = report!.tables[0]!;
    const [{ n }] = (await mysqlQuery('select count(*) as n from people', database)) as [{ n: number }];
    if (Number(n) !== table.entities)
      throw new Error(`the target holds ${n} rows, the report says ${table.entities} entities`);

    const best = Math.min(...totals);
    const bestRun = totals.indexOf(best);
    const match = Math.min(...steps.map((s) => s.match!));
    return {
      name: 'consolidate-dedup',
      metrics: [
        [
          'end to end',
          `${Math.round(RECORDS / best).toLocaleString('en-US')} records/s (${best.toFixed(1)} s)`,
        ],
        [
          'match step',
          `${Math.round(RECORDS / match).toLocaleString('en-US')} records/s (${match.toFixed(1)} s)`,
        ],
        [
          'steps (best run)',
          Object.entries(steps[bestRun]!)
            .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
            .join(', '),
        ],
        ['records -> entities', `${table.records} -> ${table.entities} (generated from ${trueEntities})`],
        ['pairs matched', `${table.exactPairs} exact, ${table.fuzzyPairs} fuzzy`],
        ['discrepancies', String(table.discrepancies.total)],
        ['braid VmHWM', mib(Math.max(...peaks))],
      ],
      target: 'none set (measured for the record)',
      met: null,
      notes: [
        `all runs: ${totals.map((t) => t.toFixed(1)).join(', ')} s end to end; match step ${steps.map((s) => s.match!.toFixed(1)).join(', ')} s`,
        `from the progress lines: ${progressNotes.join('; ')}`,
        `target rows counted in MariaDB: ${n}; checksum ${table.checksum?.match ? 'equal' : 'DIFFERENT'}`,
      ],
    };
  } finally {
    await cleanup();
  }
}
