import type { ConsolidationDefinition } from './consolidation-definition.js';
import type { MatchResult } from './match-entities.js';
import type { MergeResult } from './merge-entities.js';
import type { StageResult } from './stage-input.js';
import type { TargetTable } from './target-tables.js';
import type { Discrepancy, RejectedRow, WorkStore } from './work-store.js';

export interface TableReport {
  table: string;
  created: boolean;
  /** Where values may not fit (bigint into integer, text into varchar(80), dropped zones). */
  narrowing: string[];
  inputs: { input: string; read: number; staged: number; rejected: number }[];
  records: number;
  entities: number;
  /** Records that merged into another record's entity: records - entities (before merge rejects). */
  duplicatesMerged: number;
  exactPairs: number;
  fuzzyPairs: number;
  discrepancies: { total: number; byPolicy: Record<string, number>; pendingReview: number };
  /** Records left out at merge (their entity lacked a required value; skip mode only). */
  rejectedAtMerge: number;
  written: number | null;
  checksum: { expected: string; actual: string; match: boolean } | null;
}

export interface ConsolidationReport {
  job: string;
  name: string;
  dryRun: boolean;
  /** planned (dry run), verified (target matches the merged rows), or mismatch. */
  verdict: 'planned' | 'verified' | 'mismatch';
  tables: TableReport[];
  /** Every input row is either staged (and in exactly one entity) or rejected with a reason. */
  accounted: boolean;
  rejected: number;
  /** The first rejected rows; the rest page through the report API. */
  rejects: RejectedRow[];
  notes: string[];
}

/** Assembles the report from what the steps recorded; reading it never changes the job. */
export function buildReport(
  work: WorkStore,
  def: ConsolidationDefinition,
  targets: TargetTable[],
  options: { jobId: string; dryRun: boolean; notes: string[] },
): ConsolidationReport {
  const checksums = work.stepInfo<Record<string, { expected: string; actual: string }>>('verify');
  let accounted = true;
  const tables = targets.map((target): TableReport => {
    const table = target.def.table;
    const inputs = target.def.inputs.map((input) => {
      const staged = work.stepInfo<StageResult>(`stage:${table}:${input.name}`);
      const read = staged?.read ?? 0;
      if (staged && read !== staged.staged + staged.rejected) accounted = false;
      return { input: input.name, read, staged: staged?.staged ?? 0, rejected: staged?.rejected ?? 0 };
    });
    const matched = work.stepInfo<MatchResult>(`match:${table}`);
    const merged = work.stepInfo<MergeResult>(`merge:${table}`);
    const inLineage = (
      work.db.prepare('select count(*) as n from lineage where tbl = ?').get(table) as { n: number }
    ).n;
    // A direct copy keeps no lineage rows: target row n is the n-th accepted input row.
    if (!work.isDone('direct-copy') && inLineage !== inputs.reduce((n, i) => n + i.staged, 0))
      accounted = false;
    const checksum = checksums?.[table];
    const written = work.isDone('write') && !options.dryRun ? (merged?.entities ?? 0) : null;
    return {
      table,
      created: target.create !== null || work.isDone(`create:${table}`),
      narrowing: target.narrowing,
      inputs,
      records: matched?.records ?? 0,
      entities: merged?.entities ?? 0,
      duplicatesMerged: (matched?.records ?? 0) - (matched?.entities ?? 0),
      exactPairs: matched?.exactPairs ?? 0,
      fuzzyPairs: matched?.fuzzyPairs ?? 0,
      discrepancies: {
        total: merged?.discrepancies ?? 0,
        byPolicy: merged?.byPolicy ?? {},
        pendingReview: merged?.pending ?? 0,
      },
      rejectedAtMerge: merged?.rejectedRecords ?? 0,
      written,
      checksum: checksum ? { ...checksum, match: checksum.expected === checksum.actual } : null,
    };
  });
  const verdict = options.dryRun
    ? 'planned'
    : tables.every((t) => t.checksum?.match === true)
      ? 'verified'
      : 'mismatch';
  return {
    job: options.jobId,
    name: def.name,
    dryRun: options.dryRun,
    verdict,
    tables,
    accounted,
    rejected: work.rejectCount(),
    rejects: work.rejects(20),
    notes: work.isDone('direct-copy')
      ? [
          ...options.notes,
          'direct copy (one input, no matching): target row n is the n-th accepted input row in key order',
        ]
      : options.notes,
  };
}

/** A page of the discrepancies of a table (all tables when none is given). */
export function listDiscrepancies(
  work: WorkStore,
  options: { table?: string; pendingOnly?: boolean; limit: number; offset: number },
): Discrepancy[] {
  const where = [...(options.table ? ['tbl = @table'] : []), ...(options.pendingOnly ? ['pending = 1'] : [])];
  const rows = work.db
    .prepare(
      `select * from discrepancies ${where.length ? `where ${where.join(' and ')}` : ''} order by rowid limit @limit offset @offset`,
    )
    .all({ table: options.table, limit: options.limit, offset: options.offset }) as {
    tbl: string;
    entity: string;
    field: string;
    policy: string;
    chosen: string | null;
    candidates: string;
    pending: number;
  }[];
  return rows.map((r) => ({
    table: r.tbl,
    entity: r.entity,
    field: r.field,
    policy: r.policy,
    chosen: r.chosen === null ? null : JSON.parse(r.chosen),
    candidates: JSON.parse(r.candidates),
    pending: r.pending === 1,
  }));
}

export interface LineageEntry {
  table: string;
  targetKey: string;
  entity: string;
  /** The input rows merged into this target row, and why each pair was merged. */
  records: { input: string; sourceKey: string }[];
  merges: { a: string; b: string; kind: string; evidence: unknown }[];
}

/** Lineage of one target row (by its target key), or of a page of rows. */
export function lineage(
  work: WorkStore,
  options: { table: string; targetKey?: string; limit: number; offset: number },
): LineageEntry[] {
  const entities = work.db
    .prepare(
      `select ordinal, anchor, target_key from entities where tbl = @table
       ${options.targetKey !== undefined ? 'and target_key = @key' : ''} order by ordinal limit @limit offset @offset`,
    )
    .all({ table: options.table, key: options.targetKey, limit: options.limit, offset: options.offset }) as {
    ordinal: number;
    anchor: string;
    target_key: string;
  }[];
  const recordsOf = work.db.prepare(
    `select r.id, r.input, r.source_key from lineage l join records r on r.id = l.record_id
     where l.tbl = ? and l.ordinal = ? order by r.id`,
  );
  const mergesOf = work.db.prepare(
    `select m.a, m.b, m.kind, m.evidence from merges m join lineage l on l.record_id = m.a
     where m.tbl = ? and l.ordinal = ? order by m.rowid`,
  );
  return entities.map((e) => {
    const records = recordsOf.all(options.table, e.ordinal) as {
      id: number;
      input: string;
      source_key: string;
    }[];
    const name = new Map(records.map((r) => [r.id, `${r.input}:${r.source_key}`]));
    return {
      table: options.table,
      targetKey: e.target_key,
      entity: e.anchor,
      records: records.map((r) => ({ input: r.input, sourceKey: r.source_key })),
      merges: (
        mergesOf.all(options.table, e.ordinal) as { a: number; b: number; kind: string; evidence: string }[]
      ).map((m) => ({
        a: name.get(m.a) ?? String(m.a),
        b: name.get(m.b) ?? String(m.b),
        kind: m.kind,
        evidence: JSON.parse(m.evidence),
      })),
    };
  });
}
