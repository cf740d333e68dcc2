import { createHash } from 'node:crypto';
import { badRequest } from '../model/errors.js';
import type { Decision } from './consolidation-definition.js';
import { resolveField, type Candidate } from './resolve-field.js';
import type { TargetTable } from './target-tables.js';
import { toRecord, type RejectedRow, type WorkStore } from './work-store.js';

export interface MergeResult {
  entities: number;
  discrepancies: number;
  byPolicy: Record<string, number>;
  pending: number;
  /** Records left out because their merged entity missed a required value (skip mode). */
  rejectedRecords: number;
}

const PAGE = 2_000;

/**
 * Builds each entity's row from its records: every mapped column settled by the table's policy for
 * it (see resolveField), the target key generated or taken from the mapped key columns. Entities
 * are read in ordinal order a page at a time, so memory holds one page whatever the table's size.
 */
export function mergeEntities(
  work: WorkStore,
  target: TargetTable,
  options: {
    jobId: string;
    onInvalidRow: 'fail' | 'skip';
    onProgress?: (done: number, total: number) => void;
  },
): MergeResult {
  const def = target.def;
  const fields = [...new Set(def.inputs.flatMap((i) => Object.keys(i.columns)))];
  const required = target.schema.columns.filter(
    (c) =>
      !c.nullable &&
      c.defaultValue === null &&
      !c.autoIncrement &&
      !c.generated &&
      c.name !== def.key?.column,
  );
  const decisions = new Map<string, Decision>(def.decisions.map((d) => [`${d.entity}\u0000${d.field}`, d]));
  const usedDecisions = new Set<string>();
  const page = work.db.prepare(
    `select r.*, l.ordinal from lineage l join records r on r.id = l.record_id
     where l.tbl = ? and l.ordinal > ? and l.ordinal <= ? order by l.ordinal, r.id`,
  );
  const insertEntity = work.db.prepare(
    'insert into entities (tbl, ordinal, anchor, target_key, vals, records) values (?, ?, ?, ?, ?, ?)',
  );
  const insertDiscrepancy = work.db.prepare(
    'insert into discrepancies (tbl, entity, field, policy, chosen, candidates, pending) values (?, ?, ?, ?, ?, ?, ?)',
  );
  const total =
    (
      work.db.prepare('select max(ordinal) as n from lineage where tbl = ?').get(def.table) as {
        n: number | null;
      }
    ).n ?? 0;
  const seenKeys = new Set<string>();
  const result: MergeResult = { entities: 0, discrepancies: 0, byPolicy: {}, pending: 0, rejectedRecords: 0 };
  for (let from = 0; from < total; from += PAGE) {
    options.onProgress?.(from, total);
    const rows = page.all(def.table, from, from + PAGE) as (Parameters<typeof toRecord>[0] & {
      ordinal: number;
    })[];
    let i = 0;
    while (i < rows.length) {
      const ordinal = rows[i]!.ordinal;
      const members = [];
      while (i < rows.length && rows[i]!.ordinal === ordinal) members.push(toRecord(rows[i++]!));
      const anchor = `${members[0]!.input}:${members[0]!.sourceKey}`;
      const values: Record<string, unknown> = {};
      const found: {
        field: string;
        policy: string;
        chosen: unknown;
        candidates: unknown;
        pending: boolean;
      }[] = [];
      for (const field of fields) {
        const candidates: Candidate[] = members.map((m) => ({
          recordId: m.id,
          input: m.input,
          sourceKey: m.sourceKey,
          priority: m.priority,
          updatedAt: m.updatedAt,
          value: field in m.values ? m.values[field] : null,
        }));
        const decisionKey = `${anchor}\u0000${field}`;
        const decision = decisions.get(decisionKey);
        if (decision) usedDecisions.add(decisionKey);
        const resolved = resolveField(def.resolve.fields[field] ?? def.resolve.default, candidates, decision);
        values[field] = resolved.value;
        if (resolved.discrepancy)
          found.push({
            field,
            policy: resolved.discrepancy.policy,
            chosen: resolved.value,
            candidates: resolved.discrepancy.candidates,
            pending: resolved.discrepancy.pending,
          });
      }
      const missing = required.find((c) => values[c.name] === null || values[c.name] === undefined);
      if (missing) {
        const reason = `entity ${anchor} has no value for required column "${missing.name}"`;
        if (options.onInvalidRow === 'fail')
          throw badRequest('missing_value', `${def.table}: ${reason}`, {
            table: def.table,
            entity: anchor,
            field: missing.name,
          });
        work.insertRejects(
          members.map((m): RejectedRow => ({
            table: def.table,
            input: m.input,
            sourceKey: m.sourceKey,
            line: null,
            field: missing.name,
            value: null,
            reason,
          })),
        );
        result.rejectedRecords += members.length;
        continue;
      }
      const targetKey = keyOf(target, values, ordinal, options.jobId);
      if (seenKeys.has(targetKey))
        throw badRequest(
          'duplicate_target_key',
          `${def.table}: two entities have the key ${targetKey} (${target.keyColumns.join(', ')}); match them on it (match.exact) or generate keys`,
          { table: def.table, key: targetKey },
        );
      seenKeys.add(targetKey);
      result.entities++;
      insertEntity.run(def.table, ordinal, anchor, targetKey, JSON.stringify(values), members.length);
      for (const d of found) {
        insertDiscrepancy.run(
          def.table,
          anchor,
          d.field,
          d.policy,
          JSON.stringify(d.chosen),
          JSON.stringify(d.candidates),
          d.pending ? 1 : 0,
        );
        result.discrepancies++;
        result.byPolicy[d.policy] = (result.byPolicy[d.policy] ?? 0) + 1;
        if (d.pending) result.pending++;
      }
    }
  }
  const unused = def.decisions.filter((d) => !usedDecisions.has(`${d.entity}\u0000${d.field}`));
  if (unused.length > 0)
    throw badRequest(
      'unknown_decision',
      `${def.table}: decision for entity "${unused[0]!.entity}" field "${unused[0]!.field}" matches no entity (entities are named input:sourceKey of their first record)`,
      { table: def.table, entity: unused[0]!.entity, field: unused[0]!.field },
    );
  return result;
}

/** The entity's target key as text: its ordinal, a UUID derived from job and ordinal, or the mapped key. */
function keyOf(target: TargetTable, values: Record<string, unknown>, ordinal: number, jobId: string): string {
  const key = target.def.key;
  if (key?.generate === 'sequence') return String(ordinal);
  if (key?.generate === 'uuid') {
    const hex = createHash('sha1').update(`${jobId}\u0000${target.def.table}\u0000${ordinal}`).digest('hex');
    // Version 5 layout (name-based, SHA-1), so the value is a valid UUID for every engine's type.
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
  const parts = target.keyColumns.map((c) => values[c]);
  if (parts.some((p) => p === null || p === undefined))
    throw badRequest(
      'missing_value',
      `${target.def.table}: an entity has no value for key ${target.keyColumns.join(', ')}`,
      {
        table: target.def.table,
      },
    );
  return parts.length === 1 ? String(parts[0]) : JSON.stringify(parts);
}
