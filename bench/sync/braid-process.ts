import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { MetaStore } from '../../src/meta/index.js';
import type { SyncStatus } from '../../src/sync/engine/index.js';
import { log, registerCleanup } from '../support.js';
import { childrenOf, isAlive } from '../processes.js';

/**
 * Braid as its own process, started the way an operator starts it (`bin/braid.mjs worker`), so its
 * CPU and memory can be read from /proc and it can be killed with SIGKILL. The launcher re-executes
 * Node, so the process measured and killed is its child (found by command line).
 */

const BIN = fileURLToPath(new URL('../../bin/braid.mjs', import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);

/** What bin/braid.mjs would run; the benchmark builds dist/ first so the worker runs compiled. */
export function prepareRuntime(): 'compiled' | 'source' {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status === 0) return 'compiled';
  log('npm run build failed (sources being edited?): the worker runs through the TypeScript loader');
  return 'source';
}

export interface WorkerProcess {
  /** The worker process itself (the launcher's child); 0 until found. */
  pid: number;
  launcher: ChildProcess;
  output(): string;
}

/** Starts `braid worker` and resolves once it says it runs syncs. */
export async function startWorker(env: Record<string, string>, runtime: string): Promise<WorkerProcess> {
  const launcher = spawn(process.execPath, [BIN, 'worker'], {
    env: { ...process.env, ...env, BRAID_RUNTIME: runtime },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    // Keep the tail only: a failing sync logs on every retry.
    output = (output + chunk.toString()).slice(-20_000);
  };
  launcher.stdout!.on('data', append);
  launcher.stderr!.on('data', append);
  const worker: WorkerProcess = { pid: 0, launcher, output: () => output };
  // Ctrl-C: the worker must not outlive the run (it holds a replication slot).
  const dispose = registerCleanup(`worker process ${launcher.pid}`, () => killWorker(worker, 'SIGKILL'));
  launcher.once('exit', () => void dispose());
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`braid worker did not start within ${STARTUP_TIMEOUT_MS} ms: ${output}`)),
      STARTUP_TIMEOUT_MS,
    );
    const check = () => {
      if (/worker running syncs/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    launcher.stdout!.on('data', check);
    launcher.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`braid worker exited (${code ?? signal}) before it was ready: ${output}`));
    });
  });
  for (const child of await childrenOf(launcher.pid!)) {
    const cmdline = await fs.readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes('worker')) worker.pid = child;
  }
  if (worker.pid === 0) {
    await killWorker(worker, 'SIGKILL');
    throw new Error(`found no worker process under the braid launcher (pid ${launcher.pid})`);
  }
  return worker;
}

/**
 * SIGTERM: the worker stops its syncs and releases the leases. SIGKILL: the worker process itself
 * (not the launcher, which would leave it running) dies on the spot, as in a crash.
 */
export async function killWorker(worker: WorkerProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const exited = new Promise((resolve) => {
    if (worker.launcher.exitCode !== null || worker.launcher.signalCode !== null) resolve(undefined);
    else worker.launcher.once('exit', resolve);
  });
  if (signal === 'SIGKILL') {
    if (worker.pid > 0 && isAlive(worker.pid)) process.kill(worker.pid, 'SIGKILL');
    else worker.launcher.kill('SIGKILL');
  } else {
    worker.launcher.kill('SIGTERM'); // forwarded to the worker
  }
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (worker.launcher.exitCode === null && worker.launcher.signalCode === null)
    worker.launcher.kill('SIGKILL');
  if (worker.pid > 0 && isAlive(worker.pid)) process.kill(worker.pid, 'SIGKILL');
}

/** CPU (one core = 100%) and memory of a process, sampled every second from /proc. */
export class ResourceSampler {
  private timer: NodeJS.Timeout | null = null;
  private first: { ticks: number; at: number } | null = null;
  private last: { ticks: number; at: number } | null = null;
  /** Ticks of processes sampled before (a killed worker's CPU still counts). */
  private carried = 0;
  peakRssKib = 0;
  readonly rssSamples: number[] = [];

  constructor(private pid: number) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), 1_000);
  }

  /** Follows a restarted worker: the CPU time of the old one stays in the total. */
  follow(pid: number): void {
    if (this.last) this.carried += this.last.ticks - (this.first?.ticks ?? 0);
    this.first = null;
    this.pid = pid;
  }

  private async sample(): Promise<void> {
    const pid = this.pid;
    try {
      const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
      const ticks = Number(fields[11]) + Number(fields[12]);
      const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
      const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const hwm = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      if (pid !== this.pid) return;
      const now = performance.now();
      this.first ??= { ticks, at: now };
      this.last = { ticks, at: now };
      this.rssSamples.push(rss);
      this.peakRssKib = Math.max(this.peakRssKib, rss, hwm);
    } catch {
      // The process just exited (killed on purpose): the next sample follows the new one.
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** CPU seconds used while sampled. */
  cpuSeconds(): number {
    const own = this.last && this.first ? this.last.ticks - this.first.ticks : 0;
    return (this.carried + own) / TICKS_PER_SECOND;
  }
}

/** What the worker publishes in `sync_leases.status` (SyncSupervisor's PublishedStatus). */
export interface LeaseStatus {
  owner: string;
  heartbeatAt: string;
  engine: SyncStatus | null;
  startError: string | null;
}

/** The worker's last published status of a sync, read through the bench's own store connection. */
export async function readLeaseStatus(store: MetaStore, syncId: string): Promise<LeaseStatus | null> {
  const { rows } = await sql<{ owner: string; heartbeat_at: string; status: string | null }>`
    select owner, heartbeat_at, status from sync_leases where sync_id = ${syncId}`.execute(store.db);
  const row = rows[0];
  if (!row?.status) return null;
  const published = JSON.parse(row.status) as { engine?: SyncStatus | null; startError?: string | null };
  return {
    owner: row.owner,
    heartbeatAt: row.heartbeat_at,
    engine: published.engine ?? null,
    startError: published.startError ?? null,
  };
}

/** Waits until the worker published a running engine whose members all run (or fails with why not). */
export async function waitUntilRunning(
  store: MetaStore,
  syncId: string,
  worker: WorkerProcess,
  options: { notOwner?: string; timeoutMs?: number } = {},
): Promise<LeaseStatus> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await readLeaseStatus(store, syncId).catch(() => null);
    const ours = status !== null && status.owner !== options.notOwner;
    if (ours && status.engine?.running && status.engine.members.every((m) => m.running)) return status;
    if (Date.now() > deadline)
      throw new Error(
        `the sync did not run within ${timeoutMs} ms: ${JSON.stringify(status)}; worker said: ${worker.output().slice(-2000)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
