import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import { childrenOf, isAlive } from './processes.js';
import {
  POSTGRES_URL,
  addSource,
  expectJson,
  log,
  mib,
  perSecond,
  ratio,
  registerCleanup,
  uniqueName,
  type BenchResult,
} from './support.js';

/**
 * Every row of a 1,000,000-row table as NDJSON from a Braid server in its own process (started the
 * way a person starts it, `bin/braid.mjs start`), against the same rows read with pg-query-stream
 * in this process. The server's memory is read from /proc, so this benchmark needs Linux.
 */

const ROWS = 1_000_000;
const RUNS = 2;
const TARGET_RSS_MIB = 256;
const BIN = fileURLToPath(new URL('../bin/braid.mjs', import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;

interface Server {
  /** The `braid` launcher; it re-executes Node, so the server is its child. */
  launcher: ChildProcess;
  serverPid: number;
  baseUrl: string;
  dataDir: string;
}

async function createTable(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const s = pg.escapeIdentifier(schema);
    await client.query(`create schema ${s}`);
    await client.query(`create table ${s}.orders (id bigserial primary key, customer_id int not null,
      email text not null, amount numeric(12,2) not null, created_at timestamptz not null)`);
    await client.query(`insert into ${s}.orders (customer_id, email, amount, created_at)
      select 1 + (i % 8000), 'customer' || i || '@example.com', round((random() * 10000)::numeric, 2),
             timestamptz '2025-01-01 00:00:00+00' + i * interval '31 seconds'
      from generate_series(1, ${ROWS}) as i`);
    await client.query(`analyze ${s}.orders`);
  } finally {
    await client.end();
  }
}

/** The status line of a process from /proc, in KiB (VmRSS, VmHWM). */
async function procStatusKib(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} for process ${pid}`);
  return Number(match[1]);
}

async function startServer(adminEmail: string, adminPassword: string): Promise<Server> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-bench-stream-'));
  // The server runs as people run it after `npm install`: the compiled build (see bin/braid.mjs).
  const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (build.status !== 0)
    throw new Error('npm run build failed: the stream benchmark needs the compiled server');
  const launcher = spawn(process.execPath, [BIN, 'start'], {
    env: {
      ...process.env,
      BRAID_RUNTIME: 'compiled',
      PORT: '0',
      HOST: '127.0.0.1',
      BRAID_DATA_DIR: dataDir,
      BRAID_DEMO: '0',
      BRAID_ADMIN_EMAIL: adminEmail,
      BRAID_ADMIN_PASSWORD: adminPassword,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server: Server = { launcher, serverPid: 0, baseUrl: '', dataDir };
  try {
    server.baseUrl = await readyUrl(launcher);
    server.serverPid = await serverProcess(launcher.pid!);
    return server;
  } catch (err) {
    await stopServer(server);
    throw err;
  }
}

/** The URL the server prints once it listens (PORT=0 lets the system pick a free port). */
function readyUrl(launcher: ChildProcess): Promise<string> {
  let output = '';
  launcher.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Braid did not start within ${STARTUP_TIMEOUT_MS} ms: ${output}`)),
      STARTUP_TIMEOUT_MS,
    );
    launcher.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Braid is running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    launcher.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Braid exited with ${code} before it was ready: ${output}`));
    });
  });
}

/** The node process that runs the server: the launcher's child, checked by its command line. */
async function serverProcess(launcherPid: number): Promise<number> {
  for (const pid of await childrenOf(launcherPid)) {
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes('start')) return pid;
  }
  throw new Error(`found no server process under the braid launcher (pid ${launcherPid})`);
}

async function stopServer(server: Server): Promise<void> {
  if (server.launcher.exitCode === null && server.launcher.signalCode === null) {
    const exited = new Promise((resolve) => server.launcher.once('exit', resolve));
    server.launcher.kill('SIGTERM'); // forwarded to the server, which closes its pools
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (server.launcher.exitCode === null) server.launcher.kill('SIGKILL');
  }
  // A launcher killed outright does not take its child along.
  if (server.serverPid > 0 && isAlive(server.serverPid)) process.kill(server.serverPid, 'SIGKILL');
  await fs.rm(server.dataDir, { recursive: true, force: true });
}

/** Streams through the API, counting newline bytes as the body arrives (JSON escapes them inside values). */
async function streamViaApi(
  url: string,
  cookie: string,
): Promise<{ rows: number; seconds: number; firstLine: string }> {
  const start = performance.now();
  const response = await fetch(url, { headers: { cookie } });
  if (!response.ok || !response.body)
    throw new Error(`stream: HTTP ${response.status} ${await response.text()}`);
  let rows = 0;
  let firstLine = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (firstLine === '' && rows === 0) firstLine = Buffer.from(chunk).toString('utf8').split('\n', 1)[0]!;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
  }
  return { rows, seconds: (performance.now() - start) / 1000, firstLine };
}

async function streamDirect(schema: string): Promise<{ rows: number; seconds: number }> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const start = performance.now();
    const stream = client.query(
      new QueryStream(
        `select id, customer_id, email, amount, created_at from ${pg.escapeIdentifier(schema)}.orders order by id`,
        [],
        { batchSize: 1000 },
      ),
    );
    let rows = 0;
    for await (const _row of stream) rows++;
    return { rows, seconds: (performance.now() - start) / 1000 };
  } finally {
    await client.end();
  }
}

export async function runStream(): Promise<BenchResult> {
  const schema = uniqueName('braid_bench_stream');
  const admin = { email: 'bench@example.test', password: randomBytes(16).toString('hex') };
  let server: Server | undefined;
  let sampler: NodeJS.Timeout | undefined;
  const cleanup = registerCleanup(`schema ${schema} and the server`, async () => {
    if (sampler) clearInterval(sampler);
    if (server)
      await stopServer(server).catch((err: unknown) => log(`stopping the server failed: ${String(err)}`));
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    } finally {
      await client.end();
    }
  });
  try {
    log(`creating ${schema}.orders with ${ROWS.toLocaleString('en-US')} rows`);
    await createTable(schema);
    server = await startServer(admin.email, admin.password);
    const login = await fetch(`${server.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    });
    await expectJson(login, 'login');
    const cookie = /braid_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')?.[0];
    if (!cookie) throw new Error('login answered no session cookie');
    const sourceId = await addSource(
      server.baseUrl,
      { cookie },
      { name: 'bench', kind: 'postgres', config: { url: POSTGRES_URL, schemas: [schema] } },
    );
    await expectJson(
      await fetch(`${server.baseUrl}/api/sources/${sourceId}/tables`, { headers: { cookie } }),
      'fetch tables',
    );
    const idleKib = await procStatusKib(server.serverPid, 'VmRSS');
    // The peak so far (start-up, migrations, introspection), to tell it apart from the stream's.
    const peakBeforeKib = await procStatusKib(server.serverPid, 'VmHWM');

    const pid = server.serverPid;
    let sampledMaxKib = idleKib;
    sampler = setInterval(() => {
      procStatusKib(pid, 'VmRSS').then(
        (kib) => (sampledMaxKib = Math.max(sampledMaxKib, kib)),
        () => {},
      );
    }, 50);
    const url = `${server.baseUrl}/api/sources/${sourceId}/tables/${encodeURIComponent(`${schema}.orders`)}/stream`;
    const api: number[] = [];
    const direct: number[] = [];
    // Alternated, best of RUNS each: a throughput run on two shared cores is easily slowed by neighbours.
    for (let run = 0; run < RUNS; run++) {
      log(`run ${run + 1}/${RUNS}: API stream, then pg-query-stream`);
      const viaApi = await streamViaApi(url, cookie);
      if (viaApi.rows !== ROWS) throw new Error(`the API streamed ${viaApi.rows} rows, expected ${ROWS}`);
      JSON.parse(viaApi.firstLine); // every line is one JSON row
      api.push(ROWS / viaApi.seconds);
      const viaDriver = await streamDirect(schema);
      if (viaDriver.rows !== ROWS)
        throw new Error(`pg-query-stream read ${viaDriver.rows} rows, expected ${ROWS}`);
      direct.push(ROWS / viaDriver.seconds);
    }
    clearInterval(sampler);
    const peakKib = await procStatusKib(pid, 'VmHWM');
    const afterKib = await procStatusKib(pid, 'VmRSS');
    const apiBest = Math.max(...api);
    const directBest = Math.max(...direct);
    return {
      name: 'stream',
      metrics: [
        ['API NDJSON', perSecond(apiBest)],
        ['pg-query-stream', perSecond(directBest)],
        ['API/direct', ratio(apiBest / directBest)],
        ['server RSS idle', mib(idleKib)],
        ['server VmHWM before', mib(peakBeforeKib)],
        ['server RSS max sampled', mib(sampledMaxKib)],
        ['server VmHWM after', mib(peakKib)],
        ['server RSS after', mib(afterKib)],
      ],
      target: `server peak RSS < ${TARGET_RSS_MIB} MiB`,
      met: peakKib / 1024 < TARGET_RSS_MIB,
      notes: [
        `${ROWS} rows, best of ${RUNS} alternated runs; all runs API ${api.map((v) => Math.round(v)).join(', ')} rows/s, direct ${direct.map((v) => Math.round(v)).join(', ')} rows/s`,
        `server = pid under bin/braid.mjs; RSS sampled every 50 ms, VmHWM read after the runs`,
      ],
    };
  } finally {
    await cleanup();
  }
}
