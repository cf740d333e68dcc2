import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import type { MetaStore } from '../meta/index.js';
import { RESUMABLE_JOB_STATUSES, type StoredJob } from '../meta/jobs-repository.js';
import { BraidError, notFound } from '../model/errors.js';
import { isFinished, type Job, type JobHandler, type JobStatus } from './job.js';
import { CANCELLED, INTERRUPTED, JobRun, jsonSafe, type JobLogger } from './job-run.js';

export { jobErrorOf } from './job-run.js';
export type JobQueueLogger = JobLogger;

export interface JobQueueOptions {
  store: MetaStore;
  /** Id of this process in `jobs.owner` (default host:pid:random). */
  owner?: string;
  /** Jobs claimed from the queue at once (default 2); jobs run here on request come on top. */
  concurrency?: number;
  /** How often running jobs renew their lease, flush progress and look for a cancel (default 2 s). */
  heartbeatMs?: number;
  /** How long a running job stays with a process that stopped renewing it (default 15 s). */
  leaseMs?: number;
  /** How often queued jobs are looked for (default 1 s). */
  pollMs?: number;
  /** How long stop() waits for aborted handlers before marking them interrupted anyway (default 10 s). */
  stopTimeoutMs?: number;
  logger?: JobQueueLogger;
}

const WAIT_POLL_MS = 250;

const silent: JobQueueLogger = { info: () => {}, warn: () => {}, error: () => {} };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function toJob<P = unknown>(stored: StoredJob): Job<P> {
  return stored as unknown as Job<P>;
}

/**
 * The durable job queue on the metadata store. Jobs are rows; a process runs a job while it holds
 * its lease, renewed by a heartbeat that also stores progress and reads cancel requests, so the
 * server, `braid worker` processes and the CLI can share jobs: any of them submits, any process
 * that runs jobs (`start()`) claims queued ones with a conditional update, and a process that dies
 * leaves its jobs `interrupted` (found by the sweep once their lease expired), to be resumed from
 * their checkpoint.
 *
 * @example
 * const queue = new JobQueue({ store });
 * queue.register('import', importHandler);
 * await queue.start();
 * const job = await queue.submit('import', { file: 'customers.csv' }, { title: 'Import customers.csv' });
 * const done = await queue.wait(job.id, { onProgress: (j) => bar.update(j) });
 */
export class JobQueue {
  readonly owner: string;
  private readonly store: MetaStore;
  private readonly concurrency: number;
  private readonly heartbeatMs: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly stopTimeoutMs: number;
  private readonly logger: JobQueueLogger;
  private readonly handlers = new Map<string, JobHandler<any, any>>();
  private readonly running = new Map<string, JobRun>();
  private started = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private beating = false;
  private ticking: Promise<void> | null = null;
  private tickAgain = false;
  private lastSweep = 0;

  constructor(options: JobQueueOptions) {
    this.store = options.store;
    this.owner = options.owner ?? `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.concurrency = options.concurrency ?? 2;
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.pollMs = options.pollMs ?? 1_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.logger = options.logger ?? silent;
  }

  register<P, R>(kind: string, handler: JobHandler<P, R>): void {
    this.handlers.set(kind, handler as JobHandler<any, any>);
  }

  /** True when this process has a handler for the kind (it can run such jobs itself). */
  handles(kind: string): boolean {
    return this.handlers.has(kind);
  }

  /**
   * Stores a job. runHere: claims it at once for this process (the CLI runs its own jobs) and starts
   * it; else status 'queued' and any process that runs jobs of that kind claims it.
   */
  async submit<P>(
    kind: string,
    params: P,
    options: { title?: string; createdBy?: string | null; runHere?: boolean } = {},
  ): Promise<Job<P>> {
    if (options.runHere) this.handlerOf(kind);
    if (!jsonSafe(params)) throw new BraidError(400, 'invalid_job_params', 'job parameters must be JSON');
    const stored = await this.store.jobs.insert({
      id: randomUUID(),
      kind,
      title: options.title ?? kind,
      params,
      createdBy: options.createdBy ?? null,
      ...(options.runHere ? { runBy: { owner: this.owner, leaseMs: this.leaseMs } } : {}),
    });
    const job = toJob<P>(stored);
    if (options.runHere) this.launch(job as Job, false);
    else void this.wake();
    return job;
  }

  async get(id: string): Promise<Job> {
    const stored = await this.store.jobs.get(id);
    if (!stored) throw notFound(`job "${id}"`, { id });
    return toJob(stored);
  }

  /** Newest first. */
  async list(
    filter: { kind?: string; status?: JobStatus; createdBy?: string; limit?: number } = {},
  ): Promise<Job[]> {
    return (await this.store.jobs.list(filter)).map((j) => toJob(j));
  }

  async logs(
    id: string,
    options: { afterSeq?: number; limit?: number } = {},
  ): Promise<
    { seq: number; at: string; level: string; message: string; details: Record<string, unknown> | null }[]
  > {
    await this.get(id);
    return this.store.jobs.logs(id, options);
  }

  /**
   * queued/interrupted -> cancelled now; running here -> abort; running elsewhere -> cancel
   * requested (its owner aborts at its next heartbeat). Finished jobs: 409 job_finished.
   */
  async cancel(id: string): Promise<Job> {
    // A job may change state between the read and the write (claimed, finished): look again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const job = await this.get(id);
      if (job.status === 'queued' || job.status === 'interrupted') {
        if (await this.store.jobs.cancelWaiting(id, CANCELLED)) {
          await this.store.jobs.appendLog(id, { level: 'info', message: 'cancelled' }).catch(() => 0);
          return this.get(id);
        }
        continue;
      }
      if (job.status !== 'running') {
        throw new BraidError(409, 'job_finished', `job "${id}" has already ${job.status}`, {
          id,
          status: job.status,
        });
      }
      if (!(await this.store.jobs.requestCancel(id))) continue;
      const run = this.running.get(id);
      if (run) run.abort('cancel');
      return this.get(id);
    }
    throw new BraidError(409, 'job_busy', `job "${id}" keeps changing state; try again`, { id });
  }

  /**
   * interrupted, failed or cancelled -> queued again keeping params and checkpoint, attempts + 1;
   * runHere as in submit. Other states: 409 job_not_resumable.
   */
  async resume(id: string, options: { runHere?: boolean } = {}): Promise<Job> {
    let job = await this.get(id);
    // A job still "running" for a process that died is interrupted once its lease expires; a
    // resume asked for after that need not wait for some process's periodic sweep.
    if (job.status === 'running') {
      await this.sweep();
      job = await this.get(id);
    }
    if (!RESUMABLE_JOB_STATUSES.includes(job.status)) throw notResumable(job);
    if (options.runHere) this.handlerOf(job.kind);
    const runBy = options.runHere ? { owner: this.owner, leaseMs: this.leaseMs } : undefined;
    if (!(await this.store.jobs.requeue(id, runBy))) throw notResumable(await this.get(id));
    const resumed = await this.get(id);
    if (options.runHere) this.launch(resumed, false);
    else void this.wake();
    return resumed;
  }

  /**
   * Resolves with the finished job (succeeded/failed/cancelled/interrupted) by polling the store,
   * so it works for jobs run by another process; onProgress on each change.
   */
  async wait(
    id: string,
    options: { onProgress?: (job: Job) => void; signal?: AbortSignal } = {},
  ): Promise<Job> {
    let seen = '';
    for (;;) {
      options.signal?.throwIfAborted();
      const job = await this.get(id);
      const key = `${job.status}|${job.updatedAt}|${JSON.stringify(job.progress)}`;
      if (key !== seen) {
        seen = key;
        options.onProgress?.(job);
      }
      if (isFinished(job.status)) return job;
      await sleep(WAIT_POLL_MS, options.signal);
    }
  }

  /**
   * Starts claiming queued jobs of registered kinds (poll loop) and sweeping: a running job whose
   * lease expired (its owner died) becomes interrupted. Resolves after the first round.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.wake();
    this.schedulePoll();
  }

  /**
   * Aborts this process's running jobs, waits (at most 10 s) for their handlers to settle and marks
   * them interrupted (resumable); stops the loops.
   */
  async stop(): Promise<void> {
    this.started = false;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    await this.ticking;
    const runs = [...this.running.values()];
    for (const run of runs) run.abort('stop');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(runs.map((r) => r.finished)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.stopTimeoutMs))),
    ]);
    clearTimeout(timer);
    for (const run of runs) {
      if (this.running.get(run.job.id) !== run) continue;
      this.running.delete(run.job.id);
      await run.abandon();
    }
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private handlerOf(kind: string): JobHandler {
    const handler = this.handlers.get(kind);
    if (!handler) {
      throw new BraidError(400, 'job_kind_unknown', `this process cannot run jobs of kind "${kind}"`, {
        kind,
      });
    }
    return handler;
  }

  /** Runs a poll round now (after a submit or resume); resolves when done. */
  private wake(): Promise<void> {
    if (!this.started) return Promise.resolve();
    if (this.ticking) {
      this.tickAgain = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      try {
        do {
          this.tickAgain = false;
          await this.tick();
        } while (this.tickAgain && this.started);
      } finally {
        this.ticking = null;
      }
    })();
    return this.ticking;
  }

  private schedulePoll(): void {
    if (!this.started) return;
    this.pollTimer = setTimeout(() => {
      void this.wake().finally(() => this.schedulePoll());
    }, this.pollMs);
  }

  private async tick(): Promise<void> {
    try {
      // A dead owner's jobs need not be found within a second: a third of a lease (at most 5 s)
      // keeps the sweep's write off every poll.
      if (Date.now() - this.lastSweep >= Math.max(this.pollMs, Math.min(5_000, this.leaseMs / 3))) {
        this.lastSweep = Date.now();
        await this.sweep();
      }
      let free = this.concurrency - [...this.running.values()].filter((r) => r.polled).length;
      if (free <= 0) return;
      const ids = await this.store.jobs.queuedIds([...this.handlers.keys()], free);
      for (const id of ids) {
        if (!this.started || free <= 0) return;
        if (!(await this.store.jobs.claim(id, this.owner, this.leaseMs))) continue;
        free--;
        this.launch(await this.get(id), true);
      }
    } catch (err) {
      this.logger.error('job queue: poll failed', { error: (err as Error).message });
    }
  }

  private async sweep(): Promise<void> {
    const swept = await this.store.jobs.sweepExpired({ interrupted: INTERRUPTED, cancelled: CANCELLED });
    for (const id of [...swept.interrupted, ...swept.cancelled]) {
      this.logger.warn(
        `job ${id}: its process stopped renewing it; marked ${swept.cancelled.includes(id) ? 'cancelled' : 'interrupted'}`,
      );
      await this.store.jobs
        .appendLog(id, { level: 'warn', message: 'the process running the job stopped renewing its lease' })
        .catch(() => 0);
    }
  }

  /** Runs a job this process holds (claimed, or stored as running for it). */
  private launch(job: Job, polled: boolean): void {
    const run = new JobRun(job, this.handlerOf(job.kind), polled, this.store, this.owner, this.logger);
    this.running.set(job.id, run);
    this.ensureHeartbeat();
    void run.finished
      .catch((err: Error) => this.logger.error(`job ${job.id}: run failed`, { error: err.message }))
      .finally(() => {
        if (this.running.get(job.id) === run) this.running.delete(job.id);
        // A slot is free: look for the next queued job without waiting for the poll.
        if (polled) void this.wake();
      });
  }

  private ensureHeartbeat(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
  }

  private async heartbeat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      if (this.running.size === 0) {
        if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
        this.heartbeatTimer = null;
        return;
      }
      await Promise.all([...this.running.values()].map((run) => run.beat(this.leaseMs)));
    } finally {
      this.beating = false;
    }
  }
}

function notResumable(job: Job): BraidError {
  return new BraidError(
    409,
    'job_not_resumable',
    `job "${job.id}" is ${job.status}; only failed, cancelled or interrupted jobs can be resumed`,
    {
      id: job.id,
      status: job.status,
    },
  );
}
