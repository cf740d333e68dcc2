import type { Job } from '../jobs/job.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { BraidError } from '../model/errors.js';
import type { SyncEngine } from '../sync/engine/index.js';
import type { ReconcilePlan } from '../sync/reconcile-plan.js';
import { summarize, type ReconcileSummary } from './sync-supervisor.js';

export interface ReconcileJobInput {
  mode: 'dry-run' | 'apply';
  createMissing: boolean;
  /** Answer once the job is done instead of at once. */
  wait: boolean;
}

/** A reconciliation started through the API or the CLI. */
export interface ReconcileJob {
  id: string;
  syncId: string;
  mode: 'dry-run' | 'apply';
  createMissing: boolean;
  state: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  /** What it is doing: reading each member's rows, then applying entity by entity. */
  progress: { phase: string; done: number; total: number | null };
  /** Counts once done; the full per-entity plan is left out (it can hold every row). */
  report: ReconcileSummary | null;
  /** Up to 100 of each: entities with discrepancies, unmatched rows, duplicate groups, row errors. */
  sample: {
    discrepancies: ReconcilePlan['entities'];
    unmatched: ReconcilePlan['unmatched'];
    duplicates: ReconcilePlan['duplicates'];
    rowErrors: ReconcilePlan['rowErrors'];
  } | null;
  error: string | null;
}

const KIND = 'sync-reconcile';

interface ReconcileParams {
  syncId: string;
  mode: 'dry-run' | 'apply';
  createMissing: boolean;
}

interface ReconcileResult {
  report: ReconcileSummary;
  sample: NonNullable<ReconcileJob['sample']>;
}

/**
 * Reconciliations started through the API or the CLI, as durable jobs of the queue (kind
 * `sync-reconcile`): they survive a restart of the process that reads them, show in `/api/jobs`
 * with their progress, and can be cancelled there. They run in the process that started them
 * (`runHere`), which has the sync engine. The answers keep the shape of a reconcile job.
 */
export class ReconcileJobs {
  constructor(
    private readonly engine: SyncEngine,
    private readonly queue: JobQueue,
  ) {
    queue.register<ReconcileParams, ReconcileResult>(KIND, async (ctx) => {
      const { syncId, mode, createMissing } = ctx.job.params;
      const report = await this.engine.reconcile(syncId, {
        mode,
        createMissing,
        onProgress: (progress) => ctx.progress({ ...progress, unit: 'rows' }),
      });
      return {
        report: summarize(report),
        sample: {
          discrepancies: report.plan.entities.filter((e) => e.discrepancies.length > 0).slice(0, 100),
          unmatched: report.plan.unmatched.slice(0, 100),
          duplicates: report.plan.duplicates.slice(0, 100),
          rowErrors: report.plan.rowErrors.slice(0, 100),
        },
      };
    });
  }

  async start(syncId: string, input: ReconcileJobInput): Promise<ReconcileJob> {
    const active = [
      ...(await this.queue.list({ kind: KIND, status: 'running' })),
      ...(await this.queue.list({ kind: KIND, status: 'queued' })),
    ].find((j) => (j.params as ReconcileParams).syncId === syncId);
    if (active) {
      throw new BraidError(
        409,
        'reconcile_running',
        `sync "${syncId}" is already being reconciled (job ${active.id})`,
        { job: active.id },
      );
    }
    const job = await this.queue.submit<ReconcileParams>(
      KIND,
      { syncId, mode: input.mode, createMissing: input.createMissing },
      { title: `reconcile sync ${syncId} (${input.mode})`, createdBy: null, runHere: true },
    );
    return view(job);
  }

  async get(id: string): Promise<ReconcileJob | null> {
    const job = await this.queue.get(id).catch((err: unknown) => {
      if (err instanceof BraidError && err.status === 404) return null;
      throw err;
    });
    return job && job.kind === KIND ? view(job) : null;
  }

  /** Resolves with the job once it has ended (failed jobs too: their `error` says why). */
  async settled(id: string): Promise<ReconcileJob> {
    return view(await this.queue.wait(id));
  }
}

function view(job: Job): ReconcileJob {
  const params = job.params as ReconcileParams;
  const result = job.result as ReconcileResult | null;
  const state =
    job.status === 'succeeded'
      ? 'done'
      : job.status === 'queued' || job.status === 'running'
        ? 'running'
        : 'failed';
  return {
    id: job.id,
    syncId: params.syncId,
    mode: params.mode,
    createMissing: params.createMissing,
    state,
    startedAt: job.startedAt ?? job.createdAt,
    finishedAt: state === 'running' ? null : (job.finishedAt ?? job.updatedAt),
    progress: job.progress
      ? { phase: job.progress.phase, done: job.progress.done, total: job.progress.total }
      : { phase: 'starting', done: 0, total: null },
    report: result?.report ?? null,
    sample: result?.sample ?? null,
    error: job.error?.message ?? null,
  };
}
