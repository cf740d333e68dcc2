import os from 'node:os';
import { runCombined } from './combined.js';
import { runConsolidateCopy } from './consolidate-copy.js';
import { runConsolidateDedup } from './consolidate-dedup.js';
import { runCsvImport } from './csv-import.js';
import { runDedup } from './dedup.js';
import { runIntrospect } from './introspect.js';
import { runListLatency } from './list-latency.js';
import { runStream } from './stream.js';
import { runSyncLatency } from './sync-latency.js';
import { log, runPendingCleanups, type BenchResult } from './support.js';

/**
 * `npm run bench` runs every benchmark; `npm run bench -- stream introspect` runs the named ones.
 * It prints a summary and writes nothing: docs/benchmarks.md is written by hand from a real run.
 */

/** A benchmark answers one result, or several (the sync benchmark: one per capture strategy). */
const BENCHMARKS: Record<string, () => Promise<BenchResult | BenchResult[]>> = {
  'list-latency': runListLatency,
  stream: runStream,
  introspect: runIntrospect,
  sync: runSyncLatency,
  dedup: runDedup,
  copy: runConsolidateCopy,
  'csv-import': runCsvImport,
  'consolidate-dedup': runConsolidateDedup,
  combined: runCombined,
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function verdict(met: boolean | null): string {
  if (met === null) return 'not checked';
  return met ? 'met' : 'MISSED';
}

/** Ctrl-C skips every `finally`: drop what the running benchmark created before exiting. */
function cleanUpOnInterrupt(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up before exit`);
      const deadline = new Promise((resolve) => setTimeout(resolve, 30_000).unref());
      void Promise.race([runPendingCleanups(), deadline]).finally(() => process.exit(130));
    });
  }
}

async function main(): Promise<void> {
  cleanUpOnInterrupt();
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in BENCHMARKS));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}\n`,
    );
    process.exit(2);
  }
  const selected = names.length > 0 ? names : Object.keys(BENCHMARKS);
  const results: BenchResult[] = [];
  let failed = false;
  for (const name of selected) {
    process.stderr.write(`\n== ${name}\n`);
    const started = Date.now();
    try {
      results.push(...[await BENCHMARKS[name]!()].flat());
    } catch (err) {
      // One failing benchmark still lets the others run; the exit status reports it.
      failed = true;
      process.stderr.write(
        `${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
    }
    process.stderr.write(`  (${((Date.now() - started) / 1000).toFixed(1)} s including setup and cleanup)\n`);
  }

  const cpus = os.cpus();
  const lines = [
    '',
    `Braid benchmarks, ${new Date().toISOString()}, Node ${process.version}, ${cpus.length} x ${cpus[0]?.model ?? 'cpu'}`,
    '',
  ];
  const rows = [['benchmark', 'metric', 'value']];
  for (const result of results) {
    result.metrics.forEach(([label, value], i) => rows.push([i === 0 ? result.name : '', label, value]));
    rows.push(['', 'target', `${result.target}: ${verdict(result.met)}`]);
  }
  lines.push(table(rows), '');
  for (const result of results) for (const note of result.notes) lines.push(`${result.name}: ${note}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exitCode = failed ? 1 : 0;
}

await main();
