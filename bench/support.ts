import http from 'node:http';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config.js';
import { buildServer } from '../src/server/build-server.js';
import { openBraidApp, type BraidApp } from '../src/services/braid-app.js';

/**
 * What the benchmarks share: the servers to run against, statistics, unique names for the objects
 * each benchmark creates (so two runs never touch each other's tables) and an in-process Braid.
 */

export const POSTGRES_URL =
  process.env.BRAID_BENCH_POSTGRES_URL ??
  process.env.BRAID_TEST_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL =
  process.env.BRAID_BENCH_MYSQL_URL ?? process.env.BRAID_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** One benchmark's outcome, printed by run.ts in the summary table. */
export interface BenchResult {
  name: string;
  /** Measured values, already formatted, in display order. */
  metrics: [label: string, value: string][];
  target: string;
  /** null when the target could not be checked (a comparison was skipped). */
  met: boolean | null;
  notes: string[];
}

const pendingCleanups = new Set<() => Promise<void>>();

/**
 * Registers what undoes a benchmark's setup (drop the schema, stop the server) and answers a
 * function that runs it once. The benchmark calls it from `finally`; run.ts calls whatever is still
 * pending when the run is interrupted (Ctrl-C), where no `finally` runs.
 */
export function registerCleanup(what: string, cleanup: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  const once = (): Promise<void> =>
    (running ??= (async () => {
      pendingCleanups.delete(once);
      await cleanup().catch((err: unknown) => log(`cleanup of ${what} failed: ${String(err)}`));
    })());
  pendingCleanups.add(once);
  return once;
}

export async function runPendingCleanups(): Promise<void> {
  await Promise.allSettled([...pendingCleanups].map((cleanup) => cleanup()));
}

/** Nearest-rank percentile of already sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** A deterministic PRNG (mulberry32): the API and the driver see the same sequence of values on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A name no other run uses: benchmarks create and drop their own schemas, databases and files. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

export const ms = (value: number, digits = 2): string => `${value.toFixed(digits)} ms`;
export const ratio = (value: number): string => `${value.toFixed(2)}x`;
export const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
export const perSecond = (value: number): string => `${Math.round(value).toLocaleString('en-US')} rows/s`;

export function log(message: string): void {
  process.stderr.write(`  ${message}\n`);
}

/** Parses a JSON answer and fails loudly (with the body) on any non-2xx status. */
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });

/**
 * GET over node:http with a keep-alive agent: what a server-side client of the API would use.
 * Node's fetch costs about 0.3 ms more per request in this process, which would be charged to Braid.
 */
export function getJson<T>(url: string, headers: Record<string, string>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: keepAlive, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((response.statusCode ?? 500) >= 400)
          reject(new Error(`${what}: HTTP ${response.statusCode} ${text.slice(0, 500)}`));
        else resolve(JSON.parse(text) as T);
      });
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

export async function expectJson<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

export interface InProcessBraid {
  baseUrl: string;
  /** Headers carrying the API key. */
  headers: Record<string, string>;
  app: BraidApp;
  server: FastifyInstance;
  close(): Promise<void>;
}

/**
 * A real Braid (metadata store in a temp dir, no demo) listening on a free port, with an admin and
 * an API key: requests go through the real socket, auth hook and serializers.
 */
export async function startInProcessBraid(): Promise<InProcessBraid> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-bench-'));
  let app: BraidApp | undefined;
  let server: FastifyInstance | undefined;
  try {
    app = await openBraidApp(loadConfig({ BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' }));
    const admin = await app.createAdmin('bench@example.test', randomBytes(16).toString('hex'));
    const { key } = await app.auth.createApiKey(admin.id, 'bench');
    server = await buildServer(app, { logger: false });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const address = server.server.address();
    if (!address || typeof address !== 'object') throw new Error('the server did not report its port');
    const opened = { app, server };
    return {
      baseUrl: `http://127.0.0.1:${address.port}`,
      headers: { authorization: `Bearer ${key}` },
      ...opened,
      async close() {
        await opened.server.close();
        await opened.app.close();
        await fs.rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server?.close().catch(() => {});
    await app?.close().catch(() => {});
    await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** Adds a source through the API and answers its id. */
export async function addSource(
  baseUrl: string,
  headers: Record<string, string>,
  body: { name: string; kind: string; config: Record<string, unknown> },
): Promise<string> {
  const response = await fetch(`${baseUrl}/api/sources`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await expectJson<{ id: string }>(response, 'add source')).id;
}
