import type { MetaStore } from '../meta/index.js';
import type { JobOutcome, StoredJobError } from '../meta/jobs-repository.js';
import { BraidError } from '../model/errors.js';
import {
  JobCancelledError,
  type Job,
  type JobContext,
  type JobError,
  type JobHandler,
  type JobProgress,
} from './job.js';
import { ProgressTracker } from './progress-tracker.js';

export interface JobLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

const PROGRESS_FLUSH_MS = 500;

export const INTERRUPTED: StoredJobError = {
  code: 'job_interrupted',
  message: 'the process running the job stopped before it finished; resume it to continue',
};
export const CANCELLED: StoredJobError = { code: 'job_cancelled', message: 'the job was cancelled' };

export function jsonSafe(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

/** The error a failed handler leaves on its job: a BraidError's code and details, else `job_failed`. */
export function jobErrorOf(err: unknown): JobError {
  if (err instanceof BraidError) {
    const error: JobError = { code: err.code, message: err.message };
    if (err.details && jsonSafe(err.details)) error.details = err.details;
    return error;
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'job_failed', message: message || 'the job failed' };
}

export type AbortCause = 'cancel' | 'stop';

/**
 * One run of a job in this process: the handler's context, its progress kept in memory and flushed
 * at most every 500 ms, its log lines written in call order, and the outcome written at the end,
 * conditionally on the job still being ours.
 */
export class JobRun {
  readonly controller = new AbortController();
  /** Settles once the outcome is written (or knowingly not). */
  readonly finished: Promise<void>;
  private cause: AbortCause | null = null;
  /** Another process declared the job interrupted (our lease expired): nothing more is written. */
  private lost = false;
  /** stop() gave up waiting for the handler and wrote `interrupted` itself. */
  private abandoned = false;
  private readonly tracker: ProgressTracker;
  private lastFlush = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<unknown> = Promise.resolve();
  private logChain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly job: Job,
    handler: JobHandler,
    /** Claimed by the poll loop (counts against the queue's concurrency). */
    readonly polled: boolean,
    private readonly store: MetaStore,
    private readonly owner: string,
    private readonly logger: JobLogger,
  ) {
    this.tracker = new ProgressTracker(job.progress);
    this.finished = this.execute(handler);
  }

  abort(cause: AbortCause): void {
    if (this.controller.signal.aborted) return;
    this.cause = cause;
    this.controller.abort(
      new JobCancelledError(cause === 'stop' ? 'Braid is stopping' : 'the job was cancelled'),
    );
  }

  /** The heartbeat: renews the lease with the latest progress; aborts on a cancel or a lost lease. */
  async beat(leaseMs: number): Promise<void> {
    if (this.abandoned) return;
    const progress = this.tracker.dirty ? this.tracker.snapshot() : undefined;
    try {
      const { held, cancelRequested } = await this.store.jobs.heartbeat(
        this.job.id,
        this.owner,
        leaseMs,
        progress,
      );
      if (!held) this.markLost();
      else if (cancelRequested) this.abort('cancel');
    } catch (err) {
      this.logger.warn(`job ${this.job.id}: heartbeat failed`, { error: (err as Error).message });
    }
  }

  /** For a handler that ignores its signal: marks the job interrupted now; its late outcome is dropped. */
  async abandon(): Promise<void> {
    this.abandoned = true;
    this.logger.warn(`job ${this.job.id}: handler did not stop in time; marked interrupted`);
    await this.store.jobs
      .finish(this.job.id, this.owner, {
        status: 'interrupted',
        error: INTERRUPTED,
        progress: this.tracker.snapshot(),
      })
      .catch(() => false);
  }

  private markLost(): void {
    this.lost = true;
    if (!this.controller.signal.aborted)
      this.controller.abort(new JobCancelledError('the job was taken over'));
  }

  private async execute(handler: JobHandler): Promise<void> {
    // Let the constructor finish before the handler runs.
    await Promise.resolve();
    const { id } = this.job;
    void this.log('info', `started (attempt ${this.job.attempts})`, { owner: this.owner }).catch(() => {});
    let outcome: JobOutcome;
    try {
      const result = await handler(this.context());
      outcome = jsonSafe(result)
        ? { status: 'succeeded', result: result ?? null }
        : {
            status: 'failed',
            error: { code: 'job_result_invalid', message: 'the job answered a result that is not JSON' },
          };
    } catch (err) {
      outcome = this.outcomeOf(err);
    }
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await this.flushing;
    if (this.abandoned) return;
    if (this.lost) {
      this.logger.warn(`job ${id}: lost its lease while running; its outcome is not stored`);
      return;
    }
    const ended = outcome.error ? `${outcome.status}: ${outcome.error.message}` : outcome.status;
    await this.log(outcome.status === 'failed' ? 'error' : 'info', ended).catch(() => {});
    outcome.progress = this.tracker.snapshot() ?? undefined;
    try {
      if (!(await this.store.jobs.finish(id, this.owner, outcome))) {
        this.logger.warn(`job ${id}: was no longer held by this process when it ended`);
      }
    } catch (err) {
      // The lease expires and a sweep marks the job interrupted: resumable, not lost.
      this.logger.error(`job ${id}: could not store its outcome`, { error: (err as Error).message });
    }
  }

  private outcomeOf(err: unknown): JobOutcome {
    if (this.cause === 'stop') return { status: 'interrupted', error: INTERRUPTED };
    if (err instanceof JobCancelledError || this.cause === 'cancel')
      return { status: 'cancelled', error: CANCELLED };
    return { status: 'failed', error: jobErrorOf(err) };
  }

  private context(): JobContext {
    const { id } = this.job;
    const signal = this.controller.signal;
    return {
      job: this.job,
      signal,
      progress: (update) => this.progress(update),
      log: async (level, message, details) => this.log(level, message, details),
      loadCheckpoint: async <T>() => (await this.store.jobs.loadCheckpoint(id)) as T | null,
      saveCheckpoint: async (value) => {
        if (!jsonSafe(value)) throw new BraidError(400, 'invalid_checkpoint', 'a checkpoint must be JSON');
        if (!(await this.store.jobs.saveCheckpoint(id, this.owner, value))) {
          this.markLost();
          throw new JobCancelledError('the job is no longer held by this process');
        }
      },
      throwIfCancelled: () => {
        if (signal.aborted) throw new JobCancelledError();
      },
    };
  }

  private progress(update: Partial<JobProgress>): void {
    this.tracker.update(update);
    if (this.flushTimer) return;
    const wait = Math.max(0, this.lastFlush + PROGRESS_FLUSH_MS - Date.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.lastFlush = Date.now();
      if (!this.tracker.dirty) return;
      this.flushing = this.store.jobs
        .saveProgress(this.job.id, this.owner, this.tracker.snapshot())
        .catch((err: Error) =>
          this.logger.warn(`job ${this.job.id}: progress not stored`, { error: err.message }),
        );
    }, wait);
  }

  /** Log lines are written one after the other, so their numbers follow the order of the calls. */
  private log(level: string, message: string, details?: Record<string, unknown>): Promise<void> {
    const write = this.logChain.then(() =>
      this.store.jobs.appendLog(this.job.id, { level, message, details: details ?? null }),
    );
    this.logChain = write.catch(() => undefined);
    return write.then(() => undefined);
  }
}
