import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import {
  braidDataDir,
  buildBraid,
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
  mib,
  perSecond,
  ratio,
  registerCleanup,
  uniqueName,
  type BenchResult,
} from './support.js';

/**
 * A 1,000,000-row CSV file (8 columns, quoted names holding commas and quotes, empty cells for
 * NULL) loaded into a PostgreSQL table by `braid import FILE SOURCE TABLE` in its own process: rows/s
 * of the whole command and the peak memory of that process, against `psql \copy ... with csv header`
 * of the same file in the same run. Reads /proc, so it needs Linux.
 */

const ROWS = Number(process.env.BENCH_CSV_ROWS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_CSV_RUNS ?? 2);
const TARGET_ROWS_PER_SECOND = 150_000;
const TARGET_RSS_MIB = 300;

async function writeCsv(file: string): Promise<number> {
  const out = createWriteStream(file);
  out.write('id,name,email,phone,amount,created,active,count\n');
  const base = Date.parse('2025-01-01T00:00:00Z');
  let chunk = '';
  for (let i = 1; i <= ROWS; i++) {
    const name = i % 5 === 0 ? `"O""Neil, Person ${i}"` : `"Person, ${i}"`;
    const phone = i % 10 === 0 ? '' : `+1 555 ${String(i % 10_000_000).padStart(7, '0')}`;
    const amount = ((i % 100_000) / 7).toFixed(2);
    const created = new Date(base + i * 31_250).toISOString();
    const count = i % 11 === 0 ? '' : String(i % 1000);
    chunk += `${i},${name},person${i}@example.com,${phone},${amount},${created},${i % 3 !== 0},${count}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return (await fs.stat(file)).size;
}

export async function runCsvImport(): Promise<BenchResult> {
  const schema = uniqueName('braid_bench_csv');
  const s = pg.escapeIdentifier(schema);
  let dataDir: BraidDataDir | undefined;
  const cleanup = registerCleanup(`schema ${schema} and the CSV file`, async () => {
    await dataDir?.remove();
    await postgresQuery(`drop schema if exists ${s} cascade`);
  });
  try {
    buildBraid();
    await postgresQuery(`create schema ${s}`);
    for (const table of ['from_braid', 'from_native'])
      await postgresQuery(`create table ${s}.${table} (id bigint primary key, name text not null,
        email text not null, phone varchar(20), amount numeric(12,2) not null, created timestamptz not null,
        active boolean not null, count int)`);
    dataDir = await braidDataDir([
      { name: 'pg', kind: 'postgres', config: { url: POSTGRES_URL, schemas: [schema] } },
    ]);
    const file = path.join(dataDir.dir, 'people.csv');
    const bytes = await writeCsv(file);
    log(
      `${ROWS.toLocaleString('en-US')} rows, ${(bytes / 2 ** 20).toFixed(1)} MiB of CSV; loading ${RUNS} times each`,
    );

    const braid: number[] = [];
    const loadPhase: number[] = [];
    const native: number[] = [];
    const peaks: number[] = [];
    const sampled: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      await postgresQuery(`truncate ${s}.from_braid, ${s}.from_native`);
      log(`run ${run + 1}/${RUNS}: braid import, then psql \\copy`);
      const result = await runBraid(
        ['import', file, 'pg', `${schema}.from_braid`],
        dataDir.dir,
        'braid import',
      );
      if (!result.stdout.includes(`${ROWS} rows loaded`)) throw new Error(`braid import: ${result.stdout}`);
      braid.push(result.seconds);
      const load = phaseSeconds(result, 'load', 'succeeded');
      if (load !== null) loadPhase.push(load);
      peaks.push(result.peakKib);
      sampled.push(result.sampledMaxKib);
      native.push(
        await shell(
          `${psqlArgs()} -c "\\copy ${s}.from_native from '${file}' with csv header"`,
          'psql \\copy',
        ),
      );
    }

    const sums = await postgresQuery<{ t: string; n: string; digest: string }>(
      `select 'braid' as t, count(*) as n, sum(amount)::text || '/' || sum(count) || '/' || sum(length(name)) || '/' || sum(active::int) || '/' || count(phone) || '/' || max(created) as digest from ${s}.from_braid
       union all select 'native', count(*), sum(amount)::text || '/' || sum(count) || '/' || sum(length(name)) || '/' || sum(active::int) || '/' || count(phone) || '/' || max(created) from ${s}.from_native`,
    );
    for (const r of sums)
      if (Number(r.n) !== ROWS) throw new Error(`${r.t} table holds ${r.n} rows, expected ${ROWS}`);
    if (sums[0]!.digest !== sums[1]!.digest)
      throw new Error(`Braid and psql loaded different values: ${sums[0]!.digest} vs ${sums[1]!.digest}`);

    const best = Math.min(...braid);
    const nativeBest = Math.min(...native);
    const peakKib = Math.max(...peaks);
    return {
      name: 'csv-import',
      metrics: [
        ['braid import', `${perSecond(ROWS / best)} (${best.toFixed(1)} s)`],
        [
          'braid load phase',
          loadPhase.length
            ? `${perSecond(ROWS / Math.min(...loadPhase))} (${Math.min(...loadPhase).toFixed(1)} s)`
            : 'n/a',
        ],
        ['psql \\copy', `${perSecond(ROWS / nativeBest)} (${nativeBest.toFixed(1)} s)`],
        ['braid/psql', ratio(nativeBest / best)],
        ['braid VmHWM', mib(peakKib)],
        ['braid RSS max sampled', mib(Math.max(...sampled))],
      ],
      target: `>= ${TARGET_ROWS_PER_SECOND.toLocaleString('en-US')} rows/s and peak RSS < ${TARGET_RSS_MIB} MB`,
      met: ROWS / best >= TARGET_ROWS_PER_SECOND && (peakKib * 1024) / 1e6 < TARGET_RSS_MIB,
      notes: [
        `${ROWS} rows, ${(bytes / 2 ** 20).toFixed(1)} MiB; all runs braid ${braid.map((v) => v.toFixed(1)).join(', ')} s (load phase ${loadPhase.map((v) => v.toFixed(1)).join(', ')} s), psql ${native.map((v) => v.toFixed(1)).join(', ')} s; VmHWM ${peaks.map((k) => mib(k)).join(', ')}`,
        'the two tables hold the same sums of amount, count, name lengths, active, non-null phones and the same max(created)',
      ],
    };
  } finally {
    await cleanup();
  }
}
