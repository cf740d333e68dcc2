import { randomUUID } from 'node:crypto';
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

/** Jobs kept after they end, newest first, so a client that polls late still finds its result. */
const KEPT = 50;

/**
 * Reconciliation jobs of this process, in memory: a job belongs to the request that started it and
 * its result is read back by polling. Durable jobs shared between processes come with the job queue;
 * a restarted server forgets these (the sync's own initial reconciliation is durable: see
 * SyncSupervisor).
 */
export class ReconcileJobs {
  private readonly jobs = new Map<string, ReconcileJob>();
  private readonly done = new Map<string, Promise<ReconcileJob>>();

  constructor(private readonly engine: SyncEngine) {}

  start(syncId: string, input: ReconcileJobInput): ReconcileJob {
    const running = [...this.jobs.values()].find((j) => j.syncId === syncId && j.state === 'running');
    if (running) {
      throw new BraidError(
        409,
        'reconcile_running',
        `sync "${syncId}" is already being reconciled (job ${running.id})`,
        {
          job: running.id,
        },
      );
    }
    const job: ReconcileJob = {
      id: randomUUID(),
      syncId,
      mode: input.mode,
      createMissing: input.createMissing,
      state: 'running',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      progress: { phase: 'starting', done: 0, total: null },
      report: null,
      sample: null,
      error: null,
    };
    this.jobs.set(job.id, job);
    this.prune();
    const run = this.engine
      .reconcile(syncId, {
        mode: input.mode,
        createMissing: input.createMissing,
        onProgress: (progress) => (job.progress = progress),
      })
      .then(
        (report) => {
          job.report = summarize(report);
          job.sample = {
            discrepancies: report.plan.entities.filter((e) => e.discrepancies.length > 0).slice(0, 100),
            unmatched: report.plan.unmatched.slice(0, 100),
            duplicates: report.plan.duplicates.slice(0, 100),
            rowErrors: report.plan.rowErrors.slice(0, 100),
          };
          job.state = 'done';
        },
        (err: unknown) => {
          job.error = (err as Error).message;
          job.state = 'failed';
        },
      )
      .then(() => {
        job.finishedAt = new Date().toISOString();
        return job;
      });
    this.done.set(job.id, run);
    return job;
  }

  get(id: string): ReconcileJob | null {
    return this.jobs.get(id) ?? null;
  }

  /** Resolves with the job once it has ended (failed jobs too: their `error` says why). */
  async settled(id: string): Promise<ReconcileJob> {
    return (await this.done.get(id)) ?? this.jobs.get(id)!;
  }

  private prune(): void {
    const ended = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const job of ended.slice(0, Math.max(0, ended.length - KEPT))) {
      this.jobs.delete(job.id);
      this.done.delete(job.id);
    }
  }
}
