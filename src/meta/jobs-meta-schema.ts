/**
 * Row types of the job tables (migration 0004-jobs), part of `MetaDatabase`. Same conventions as
 * meta-schema.ts: ISO 8601 UTC text timestamps, JSON as text, booleans as integers 0/1.
 */
export interface JobsMetaTables {
  jobs: JobsTable;
  job_logs: JobLogsTable;
}

export interface JobsTable {
  id: string;
  /** Which handler runs it (`import`, `consolidate`...). */
  kind: string;
  title: string;
  /** `queued`, `running`, `succeeded`, `failed`, `cancelled` or `interrupted`. */
  status: string;
  /** JSON of the handler's input; never holds a secret. */
  params: string;
  /** JSON `{phase, done, total, unit, ratePerSec, etaSec}`, flushed by the owner. */
  progress: string | null;
  /** JSON of what the handler answered, once succeeded. */
  result: string | null;
  /** JSON `{code, message, details}` once failed, cancelled or interrupted. */
  error: string | null;
  /** JSON the handler saves between steps, loaded back when the job is resumed. */
  checkpoint: string | null;
  created_by: string | null;
  /** Id of the process running it (host, pid and a random part); kept once it finished. */
  owner: string | null;
  /** While running: after this time another process may declare it interrupted. */
  lease_expires_at: string | null;
  /** 0 or 1: someone asked to cancel; the owner aborts at its next heartbeat. */
  cancel_requested: number;
  /** 1 when submitted, +1 on each resume. */
  attempts: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

export interface JobLogsTable {
  job_id: string;
  /** 1, 2, 3... per job: the order the lines were written in. */
  seq: number;
  at: string;
  level: string;
  message: string;
  /** JSON object or null. */
  details: string | null;
}
