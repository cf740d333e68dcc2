import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

/** Where a job's work store lives: one directory per job under the consolidations directory. */
export function workFile(workDir: string, jobId: string): string {
  return join(workDir, jobId, 'work.sqlite');
}

/** One input record as staged: its target-shaped values, where it came from, and its references. */
export interface StagedRecord {
  id: number;
  table: string;
  input: string;
  sourceKey: string;
  priority: number;
  updatedAt: string | null;
  values: Record<string, unknown>;
}

export interface RejectedRow {
  table: string;
  input: string;
  sourceKey: string;
  line: number | null;
  field: string | null;
  value: unknown;
  reason: string;
}

export interface Discrepancy {
  table: string;
  entity: string;
  field: string;
  policy: string;
  chosen: unknown;
  /** Every distinct value, with the records (input:sourceKey) that hold it. */
  candidates: { value: unknown; records: string[] }[];
  pending: boolean;
}

/**
 * The working state of one consolidation job, in a SQLite file of its own: staged records, match
 * keys, entities, lineage, merges with their evidence, discrepancies and rejects, plus the steps
 * done. Each step commits in one SQLite transaction together with its "done" mark, so a job killed
 * at any point resumes at the first step not marked, from exactly the state that step started from.
 */
export class WorkStore {
  readonly db: Database.Database;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      create table if not exists steps (name text primary key, done_at text not null, info text);
      create table if not exists records (id integer primary key, tbl text not null, input text not null,
        source_key text not null, priority real not null, updated_at text, vals text not null);
      create index if not exists records_by_source on records (tbl, input, source_key);
      create table if not exists match_keys (tbl text not null, k integer not null, key text not null,
        record_id integer not null);
      create table if not exists rejects (id integer primary key, tbl text not null, input text not null,
        source_key text not null, line integer, field text, value text, reason text not null);
      create table if not exists entities (tbl text not null, ordinal integer not null, anchor text not null,
        target_key text not null, vals text not null, records integer not null, primary key (tbl, ordinal));
      create table if not exists lineage (record_id integer primary key, tbl text not null,
        ordinal integer not null);
      create index if not exists lineage_by_entity on lineage (tbl, ordinal);
      create table if not exists merges (tbl text not null, a integer not null, b integer not null,
        kind text not null, evidence text not null);
      create index if not exists merges_by_record on merges (tbl, a);
      create table if not exists discrepancies (tbl text not null, entity text not null, field text not null,
        policy text not null, chosen text, candidates text not null, pending integer not null);`);
  }

  isDone(step: string): boolean {
    return this.db.prepare('select 1 from steps where name = ?').get(step) !== undefined;
  }

  stepInfo<T>(step: string): T | null {
    const row = this.db.prepare('select info from steps where name = ?').get(step) as
      { info: string | null } | undefined;
    return row?.info ? (JSON.parse(row.info) as T) : null;
  }

  /** Runs `work` and marks `step` done in the same transaction: both land, or neither. */
  step<T>(step: string, work: () => T, info?: (result: T) => unknown): T {
    return this.db.transaction(() => {
      const result = work();
      this.markDone(step, info ? info(result) : undefined);
      return result;
    })();
  }

  /**
   * For steps that await between writes (reading an input from a database): open a transaction
   * here, write, then `commit(step)` marks the step done in it. Only this job writes this file.
   */
  begin(): void {
    this.db.exec('begin');
  }

  commit(step: string, info?: unknown): void {
    this.markDone(step, info);
    this.db.exec('commit');
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('rollback');
  }

  /** Marks a step done whose effect lives elsewhere (the target database). */
  markDone(step: string, info?: unknown): void {
    this.db
      .prepare('insert or replace into steps (name, done_at, info) values (?, ?, ?)')
      .run(step, new Date().toISOString(), info === undefined ? null : JSON.stringify(info));
  }

  /** Drops what an interrupted, uncommitted staging of this input could not have left (defensive). */
  clearInput(table: string, input: string): void {
    this.db.prepare('delete from records where tbl = ? and input = ?').run(table, input);
    this.db.prepare('delete from rejects where tbl = ? and input = ?').run(table, input);
  }

  insertRecords(records: Omit<StagedRecord, 'id'>[]): void {
    const insert = this.db.prepare(
      'insert into records (tbl, input, source_key, priority, updated_at, vals) values (?, ?, ?, ?, ?, ?)',
    );
    for (const r of records)
      insert.run(r.table, r.input, r.sourceKey, r.priority, r.updatedAt, JSON.stringify(r.values));
  }

  insertRejects(rejects: RejectedRow[]): void {
    const insert = this.db.prepare(
      'insert into rejects (tbl, input, source_key, line, field, value, reason) values (?, ?, ?, ?, ?, ?, ?)',
    );
    for (const r of rejects) {
      insert.run(
        r.table,
        r.input,
        r.sourceKey,
        r.line,
        r.field,
        r.value === undefined ? null : JSON.stringify(r.value),
        r.reason,
      );
    }
  }

  /** Staged records of a table in id order (the order they were read). */
  *records(table: string): Generator<StagedRecord> {
    const statement = this.db.prepare(
      'select id, tbl, input, source_key, priority, updated_at, vals from records where tbl = ? order by id',
    );
    for (const row of statement.iterate(table) as Iterable<RecordRow>) yield toRecord(row);
  }

  recordRange(table: string): { first: number; last: number; count: number } {
    const row = this.db
      .prepare('select min(id) as first, max(id) as last, count(*) as count from records where tbl = ?')
      .get(table) as { first: number | null; last: number | null; count: number };
    return { first: row.first ?? 0, last: row.last ?? -1, count: row.count };
  }

  /** The record an input's source key names (for references from child tables). */
  recordBySource(table: string, input: string, sourceKey: string): number | null {
    const row = this.db
      .prepare('select id from records where tbl = ? and input = ? and source_key = ?')
      .get(table, input, sourceKey) as { id: number } | undefined;
    return row?.id ?? null;
  }

  targetKeyOfRecord(recordId: number): string | null {
    const row = this.db
      .prepare(
        `select e.target_key from lineage l join entities e on e.tbl = l.tbl and e.ordinal = l.ordinal
         where l.record_id = ?`,
      )
      .get(recordId) as { target_key: string } | undefined;
    return row?.target_key ?? null;
  }

  rejectCount(table?: string): number {
    const row = (
      table === undefined
        ? this.db.prepare('select count(*) as n from rejects').get()
        : this.db.prepare('select count(*) as n from rejects where tbl = ?').get(table)
    ) as { n: number };
    return row.n;
  }

  rejects(limit: number, offset = 0): RejectedRow[] {
    const rows = this.db.prepare('select * from rejects order by id limit ? offset ?').all(limit, offset) as {
      tbl: string;
      input: string;
      source_key: string;
      line: number | null;
      field: string | null;
      value: string | null;
      reason: string;
    }[];
    return rows.map((r) => ({
      table: r.tbl,
      input: r.input,
      sourceKey: r.source_key,
      line: r.line,
      field: r.field,
      value: r.value === null ? null : JSON.parse(r.value),
      reason: r.reason,
    }));
  }

  countsByInput(table: string): Map<string, { staged: number; rejected: number }> {
    const out = new Map<string, { staged: number; rejected: number }>();
    const get = (input: string) => {
      let entry = out.get(input);
      if (!entry) out.set(input, (entry = { staged: 0, rejected: 0 }));
      return entry;
    };
    for (const r of this.db
      .prepare('select input, count(*) as n from records where tbl = ? group by input')
      .all(table) as { input: string; n: number }[])
      get(r.input).staged = r.n;
    for (const r of this.db
      .prepare('select input, count(*) as n from rejects where tbl = ? group by input')
      .all(table) as { input: string; n: number }[])
      get(r.input).rejected = r.n;
    return out;
  }

  close(): void {
    this.db.close();
  }
}

interface RecordRow {
  id: number;
  tbl: string;
  input: string;
  source_key: string;
  priority: number;
  updated_at: string | null;
  vals: string;
}

export function toRecord(row: RecordRow): StagedRecord {
  return {
    id: row.id,
    table: row.tbl,
    input: row.input,
    sourceKey: row.source_key,
    priority: row.priority,
    updatedAt: row.updated_at,
    values: JSON.parse(row.vals) as Record<string, unknown>,
  };
}
