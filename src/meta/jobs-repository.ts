import { sql, type Kysely, type Selectable } from 'kysely';
import { isUniqueViolation, isoNow } from './db-errors.js';
import type { JobsTable } from './jobs-meta-schema.js';
import type { MetaDatabase } from './meta-schema.js';

export type StoredJobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

/** Statuses a job never leaves on its own (resume may queue a failed, cancelled or interrupted one again). */
export const FINISHED_JOB_STATUSES: readonly StoredJobStatus[] = [
  'succeeded',
  'failed',
  'cancelled',
  'interrupted',
];

/** The statuses `resume` accepts. */
export const RESUMABLE_JOB_STATUSES: readonly StoredJobStatus[] = ['failed', 'cancelled', 'interrupted'];

export interface StoredJobError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** A job row with its JSON columns parsed (src/jobs gives them their types). */
export interface StoredJob {
  id: string;
  kind: string;
  title: string;
  status: StoredJobStatus;
  params: unknown;
  progress: unknown;
  result: unknown;
  error: StoredJobError | null;
  createdBy: string | null;
  owner: string | null;
  attempts: number;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

export interface StoredJobLog {
  seq: number;
  at: string;
  level: string;
  message: string;
  details: Record<string, unknown> | null;
}

export interface NewJob {
  id: string;
  kind: string;
  title: string;
  params: unknown;
  createdBy: string | null;
  /** Stored already running for this owner (the submitting process runs it) instead of queued. */
  runBy?: { owner: string; leaseMs: number };
}

export interface JobListFilter {
  kind?: string | undefined;
  status?: StoredJobStatus | undefined;
  createdBy?: string | undefined;
  limit?: number | undefined;
}

/** What a finished run writes; `progress` is the owner's last one, flushed with it. */
export interface JobOutcome {
  status: 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
  result?: unknown;
  error?: StoredJobError | null;
  progress?: unknown;
}

const json = (value: unknown): string => JSON.stringify(value === undefined ? null : value);
const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));
const leaseUntil = (now: Date, leaseMs: number) => isoNow(new Date(now.getTime() + leaseMs));

function toJob(row: Selectable<JobsTable>): StoredJob {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    status: row.status as StoredJobStatus,
    params: parse(row.params),
    progress: parse(row.progress),
    result: parse(row.result),
    error: parse(row.error) as StoredJobError | null,
    createdBy: row.created_by,
    owner: row.owner,
    attempts: Number(row.attempts),
    cancelRequested: Number(row.cancel_requested) === 1,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Jobs and their log lines. A job runs in the process named in `owner` while its lease lasts; the
 * owner renews it with each heartbeat. Every change of status is one conditional statement (on the
 * status and, while running, on the owner), so two processes can never both claim a job, and an
 * owner whose job was declared interrupted (its lease expired) can no longer write to it.
 *
 * @example
 * const ids = await store.jobs.queuedIds(['import'], 2);
 * if (await store.jobs.claim(ids[0], owner, 15_000)) { ... }
 * const { held, cancelRequested } = await store.jobs.heartbeat(ids[0], owner, 15_000, progress);
 */
export class JobsRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async insert(job: NewJob, now = new Date()): Promise<StoredJob> {
    const at = isoNow(now);
    const row = {
      id: job.id,
      kind: job.kind,
      title: job.title,
      status: job.runBy ? 'running' : 'queued',
      params: json(job.params),
      progress: null,
      result: null,
      error: null,
      checkpoint: null,
      created_by: job.createdBy,
      owner: job.runBy?.owner ?? null,
      lease_expires_at: job.runBy ? leaseUntil(now, job.runBy.leaseMs) : null,
      cancel_requested: 0,
      attempts: 1,
      created_at: at,
      started_at: job.runBy ? at : null,
      finished_at: null,
      updated_at: at,
    };
    await this.db.insertInto('jobs').values(row).execute();
    return toJob(row);
  }

  async get(id: string): Promise<StoredJob | null> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toJob(row) : null;
  }

  /** Newest first. */
  async list(filter: JobListFilter = {}): Promise<StoredJob[]> {
    let query = this.db.selectFrom('jobs').selectAll();
    if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.createdBy !== undefined) query = query.where('created_by', '=', filter.createdBy);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(Math.max(filter.limit ?? 100, 1), 1000))
      .execute();
    return rows.map(toJob);
  }

  /** Ids of queued jobs of these kinds, oldest first: the candidates of a claim. */
  async queuedIds(kinds: readonly string[], limit: number): Promise<string[]> {
    if (kinds.length === 0 || limit <= 0) return [];
    const rows = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('status', '=', 'queued')
      .where('kind', 'in', [...kinds])
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** Takes a queued job for `owner`; false when another process was first (or it was cancelled). */
  async claim(id: string, owner: string, leaseMs: number, now = new Date()): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({
        status: 'running',
        owner,
        lease_expires_at: leaseUntil(now, leaseMs),
        started_at: isoNow(now),
        updated_at: isoNow(now),
      })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * The owner's heartbeat: renews the lease, stores the progress when given, and answers whether
   * the job is still ours and whether someone asked to cancel it.
   */
  async heartbeat(
    id: string,
    owner: string,
    leaseMs: number,
    progress?: unknown,
    now = new Date(),
  ): Promise<{ held: boolean; cancelRequested: boolean }> {
    const row = await this.db
      .updateTable('jobs')
      .set({
        lease_expires_at: leaseUntil(now, leaseMs),
        updated_at: isoNow(now),
        ...(progress === undefined ? {} : { progress: json(progress) }),
      })
      .where('id', '=', id)
      .where('owner', '=', owner)
      .where('status', '=', 'running')
      .returning('cancel_requested')
      .executeTakeFirst();
    return { held: row !== undefined, cancelRequested: Number(row?.cancel_requested ?? 0) === 1 };
  }

  /** Stores the owner's progress between heartbeats; false when the job is no longer ours. */
  async saveProgress(id: string, owner: string, progress: unknown, now = new Date()): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ progress: json(progress), updated_at: isoNow(now) })
      .where('id', '=', id)
      .where('owner', '=', owner)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** The end of a run, written by its owner; false when the job was no longer ours. */
  async finish(id: string, owner: string, outcome: JobOutcome, now = new Date()): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({
        status: outcome.status,
        result: outcome.result === undefined ? null : json(outcome.result),
        error: outcome.error ? json(outcome.error) : null,
        ...(outcome.progress === undefined ? {} : { progress: json(outcome.progress) }),
        lease_expires_at: null,
        finished_at: isoNow(now),
        updated_at: isoNow(now),
      })
      .where('id', '=', id)
      .where('owner', '=', owner)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Cancels a job nobody runs (queued or interrupted); false when it is not in such a state now. */
  async cancelWaiting(id: string, error: StoredJobError, now = new Date()): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({
        status: 'cancelled',
        cancel_requested: 1,
        error: json(error),
        lease_expires_at: null,
        finished_at: isoNow(now),
        updated_at: isoNow(now),
      })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'interrupted'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Asks the owner of a running job to cancel it (it aborts at its next heartbeat). */
  async requestCancel(id: string, now = new Date()): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ cancel_requested: 1, updated_at: isoNow(now) })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Queues a failed, cancelled or interrupted job again (params, checkpoint and progress kept,
   * attempts + 1), or with `runBy` hands it straight to that owner; false in any other state.
   */
  async requeue(id: string, runBy?: { owner: string; leaseMs: number }, now = new Date()): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set((eb) => ({
        status: runBy ? 'running' : 'queued',
        owner: runBy?.owner ?? null,
        lease_expires_at: runBy ? leaseUntil(now, runBy.leaseMs) : null,
        started_at: runBy ? isoNow(now) : null,
        cancel_requested: 0,
        attempts: eb('attempts', '+', 1),
        result: null,
        error: null,
        finished_at: null,
        updated_at: isoNow(now),
      }))
      .where('id', '=', id)
      .where('status', 'in', [...RESUMABLE_JOB_STATUSES])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Running jobs whose lease expired (their owner died or hung) become `interrupted`, or `cancelled`
   * when a cancel was asked for; answers the ids of each.
   */
  async sweepExpired(
    errors: { interrupted: StoredJobError; cancelled: StoredJobError },
    now = new Date(),
  ): Promise<{ interrupted: string[]; cancelled: string[] }> {
    const sweep = async (status: 'interrupted' | 'cancelled', cancelRequested: number) => {
      const rows = await this.db
        .updateTable('jobs')
        .set({
          status,
          error: json(errors[status]),
          lease_expires_at: null,
          finished_at: isoNow(now),
          updated_at: isoNow(now),
        })
        .where('status', '=', 'running')
        .where('lease_expires_at', '<', isoNow(now))
        .where('cancel_requested', '=', cancelRequested)
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    };
    return { cancelled: await sweep('cancelled', 1), interrupted: await sweep('interrupted', 0) };
  }

  async loadCheckpoint(id: string): Promise<unknown> {
    const row = await this.db.selectFrom('jobs').select('checkpoint').where('id', '=', id).executeTakeFirst();
    return parse(row?.checkpoint ?? null);
  }

  /** Stores the owner's checkpoint; false when the job is no longer ours. */
  async saveCheckpoint(id: string, owner: string, value: unknown, now = new Date()): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ checkpoint: json(value), updated_at: isoNow(now) })
      .where('id', '=', id)
      .where('owner', '=', owner)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Appends a log line numbered after the job's last one. The number is computed in the insert
   * itself; two writers racing for the same number (PostgreSQL) retry.
   */
  async appendLog(
    jobId: string,
    line: { level: string; message: string; details?: Record<string, unknown> | null },
    now = new Date(),
  ): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        const row = await this.db
          .insertInto('job_logs')
          .values({
            job_id: jobId,
            seq: sql<number>`(select coalesce(max(seq), 0) + 1 from job_logs where job_id = ${jobId})`,
            at: isoNow(now),
            level: line.level,
            message: line.message,
            details: line.details ? json(line.details) : null,
          })
          .returning('seq')
          .executeTakeFirstOrThrow();
        return Number(row.seq);
      } catch (err) {
        if (!isUniqueViolation(err) || attempt >= 10) throw err;
      }
    }
  }

  /** Log lines after `afterSeq`, in order. */
  async logs(jobId: string, options: { afterSeq?: number; limit?: number } = {}): Promise<StoredJobLog[]> {
    const rows = await this.db
      .selectFrom('job_logs')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('seq', '>', options.afterSeq ?? 0)
      .orderBy('seq')
      .limit(Math.min(Math.max(options.limit ?? 1000, 1), 10_000))
      .execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: r.at,
      level: r.level,
      message: r.message,
      details: parse(r.details) as Record<string, unknown> | null,
    }));
  }
}
