/**
 * The vocabulary of durable jobs: imports, consolidations, reconciliations and automation runs are
 * handlers that the queue (job-queue.ts) runs with a context giving them progress, a log, a
 * checkpoint and an abort signal.
 *
 * @example
 * queue.register<{ file: string }, { rows: number }>('import', async (ctx) => {
 *   const from = (await ctx.loadCheckpoint<{ offset: number }>())?.offset ?? 0;
 *   for await (const batch of readBatches(ctx.job.params.file, from)) {
 *     ctx.throwIfCancelled();
 *     await write(batch);
 *     ctx.progress({ phase: 'import', done: batch.end, total: null, unit: 'rows' });
 *     await ctx.saveCheckpoint({ offset: batch.end });
 *   }
 *   return { rows: total };
 * });
 */

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export const JOB_STATUSES: readonly JobStatus[] = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
];

/** Statuses a job reaches at the end of a run (`wait` resolves on them). */
export const FINISHED_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'interrupted'];

export interface JobProgress {
  phase: string;
  done: number;
  total: number | null;
  unit: string;
  /** Computed by the queue from `done` over the last seconds of the phase. */
  ratePerSec?: number | null;
  /** Computed by the queue: (total - done) / rate, when both are known. */
  etaSec?: number | null;
}

export interface JobError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface Job<P = unknown, R = unknown> {
  id: string;
  kind: string;
  title: string;
  status: JobStatus;
  params: P;
  progress: JobProgress | null;
  result: R | null;
  error: JobError | null;
  createdBy: string | null;
  /** The process that runs (or last ran) it. */
  owner: string | null;
  /** 1 when submitted, +1 on each resume. */
  attempts: number;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

export interface JobContext<P = unknown> {
  readonly job: Job<P>;
  /** Aborted on cancel (here or from another process, seen at the next heartbeat) and on queue stop. */
  readonly signal: AbortSignal;
  /** Cheap to call per batch: kept in memory, persisted at most every 500 ms and on finish. */
  progress(update: Partial<JobProgress>): void;
  log(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): Promise<void>;
  /** Durable JSON the handler saves between steps; a resumed job loads it back. */
  loadCheckpoint<T>(): Promise<T | null>;
  saveCheckpoint(value: unknown): Promise<void>;
  /** Throws JobCancelledError when the signal was aborted. */
  throwIfCancelled(): void;
}

export type JobHandler<P = unknown, R = unknown> = (ctx: JobContext<P>) => Promise<R>;

/** Thrown by a handler (or `throwIfCancelled`) to stop because it was asked to. */
export class JobCancelledError extends Error {
  constructor(message = 'the job was cancelled') {
    super(message);
    this.name = 'JobCancelledError';
  }
}

export function isFinished(status: JobStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}
