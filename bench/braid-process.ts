import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { openBraidApp } from '../src/services/braid-app.js';
import { childrenOf, isAlive } from './processes.js';
import { MYSQL_URL, POSTGRES_URL, registerCleanup } from './support.js';

/**
 * Braid as people run it, for the consolidation and CSV benchmarks: the compiled build, a data dir
 * with the sources registered, one `bin/braid.mjs` process per command with its memory sampled
 * from /proc; plus plain SQL and shell helpers for the servers and the native tools.
 */

const BIN = fileURLToPath(new URL('../bin/braid.mjs', import.meta.url));

/** The compiled build, made once per benchmark run: Braid runs the way `npm install` leaves it. */
let built = false;
export function buildBraid(): void {
  if (built) return;
  const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed: the benchmark runs the compiled build');
  built = true;
}

export interface BraidDataDir {
  dir: string;
  remove(): Promise<void>;
}

/** A fresh BRAID_DATA_DIR with these sources registered (as `braid sources add` would). */
export async function braidDataDir(
  sources: { name: string; kind: 'postgres' | 'mysql'; config: Record<string, unknown> }[],
): Promise<BraidDataDir> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-bench-'));
  const app = await openBraidApp(loadConfig({ BRAID_DATA_DIR: dir, BRAID_DEMO: '0' }));
  try {
    for (const source of sources) await app.sources.create(source);
  } finally {
    await app.close();
  }
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

export interface BraidRun {
  seconds: number;
  stdout: string;
  stderr: string;
  /** Each stderr line with the seconds since the start at which it arrived (phase changes, outcome). */
  lines: { at: number; text: string }[];
  /** Of the node process that runs the command (the launcher's child), in KiB. */
  peakKib: number;
  sampledMaxKib: number;
}

async function statusKib(pid: number): Promise<{ rss: number; hwm: number } | null> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  if (status === null) return null;
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

/**
 * Runs `braid <args>` (bin/braid.mjs, compiled build) to its end and samples the memory of the
 * process that does the work every 50 ms: VmHWM is the kernel's own peak, read until the process
 * exits, so the last value read is the peak up to at most the final 50 ms.
 */
export async function runBraid(args: string[], dataDir: string, what: string): Promise<BraidRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, BRAID_RUNTIME: 'compiled', BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: BraidRun = { seconds: 0, stdout: '', stderr: '', lines: [], peakKib: 0, sampledMaxKib: 0 };
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    const at = (performance.now() - started) / 1000;
    run.stderr += chunk.toString();
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    for (const text of parts) run.lines.push({ at, text });
  });
  let worker = 0;
  const sampler = setInterval(() => {
    void (async () => {
      if (worker === 0) worker = (await childrenOf(child.pid!).catch(() => []))[0] ?? 0;
      if (worker === 0) return;
      const kib = await statusKib(worker);
      if (!kib) return;
      run.peakKib = Math.max(run.peakKib, kib.hwm);
      run.sampledMaxKib = Math.max(run.sampledMaxKib, kib.rss);
    })();
  }, 50);
  const stop = registerCleanup(`braid ${args[0]}`, async () => {
    clearInterval(sampler);
    if (child.exitCode === null) child.kill('SIGTERM');
    if (worker > 0 && isAlive(worker)) process.kill(worker, 'SIGTERM');
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  run.seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await stop();
  if (code !== 0)
    throw new Error(`${what}: braid ${args.join(' ')} exited with ${code}\n${run.stderr}\n${run.stdout}`);
  return run;
}

/** Seconds between the first stderr line that starts with `from` and the first after it starting with `to`. */
export function phaseSeconds(run: BraidRun, from: string, to: string): number | null {
  const start = run.lines.find((l) => l.text.startsWith(from));
  if (!start) return null;
  const end = run.lines.slice(run.lines.indexOf(start) + 1).find((l) => l.text.startsWith(to));
  return end ? end.at - start.at : null;
}

/** Runs a shell pipeline; fails with its stderr. */
export async function shell(command: string, what: string): Promise<number> {
  const started = performance.now();
  const child = spawn('bash', ['-o', 'pipefail', '-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`${what} exited with ${code}: ${stderr}`);
  return (performance.now() - started) / 1000;
}

export async function postgresQuery<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

export async function mysqlQuery(sql: string, database?: string): Promise<unknown[]> {
  const conn = await mysql.createConnection({ uri: MYSQL_URL, ...(database ? { database } : {}) });
  try {
    const [rows] = await conn.query(sql);
    return rows as unknown[];
  } finally {
    await conn.end();
  }
}

/** Connection arguments of the command-line clients, from the benchmark's URLs. */
export function psqlArgs(): string {
  return `psql -X -q -v ON_ERROR_STOP=1 '${POSTGRES_URL}'`;
}
export function mariadbArgs(database: string): string {
  const url = new URL(MYSQL_URL);
  const password = url.password ? ` -p'${decodeURIComponent(url.password)}'` : '';
  return `mariadb -h ${url.hostname} -P ${url.port || '3306'} -u ${decodeURIComponent(url.username)}${password} ${database}`;
}

export function mysqlUrlOf(database: string): string {
  const url = new URL(MYSQL_URL);
  url.pathname = `/${database}`;
  return url.toString();
}
