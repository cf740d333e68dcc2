import { BraidError } from '../model/errors.js';
import type { ColumnSchema } from '../model/schema.js';
import { coerceValue } from '../model/values.js';
import { matchKey } from '../match/normalize.js';
import type { InputDefinition } from './consolidation-definition.js';
import type { InputRow } from './input-reader.js';
import type { InputMapping } from './input-mapping.js';
import { typeNarrowing, type TargetTable } from './target-tables.js';
import type { RejectedRow, WorkStore } from './work-store.js';

export interface StageOptions {
  work: WorkStore;
  target: TargetTable;
  input: InputDefinition;
  rows: AsyncIterable<InputRow[]>;
  mapping: InputMapping;
  /** The target key of a parent row, by the parent input's source key; null when there is none. */
  parentKey(column: string, sourceKey: string): string | null;
  onBatch(read: number): void;
  signal?: AbortSignal;
  /** Target columns whose values arrive already valid for them (see passThroughColumns). */
  passThrough?: ReadonlySet<string>;
}

export interface StageResult {
  read: number;
  staged: number;
  rejected: number;
}

/**
 * Reads one input into the work store: maps each row to the target's columns, coerces every value
 * to the target column's type, points references at the parents' target keys and computes the
 * exact match keys. A row that fails any of that is rejected with the field, value and reason.
 * The caller wraps this in one work-store transaction, so an interrupted input leaves nothing.
 */
export async function stageInput(options: StageOptions): Promise<StageResult> {
  const { work, target, input } = options;
  const insertRecord = work.db.prepare(
    'insert into records (tbl, input, source_key, priority, updated_at, vals) values (?, ?, ?, ?, ?, ?)',
  );
  const insertKey = work.db.prepare('insert into match_keys (tbl, k, key, record_id) values (?, ?, ?, ?)');
  const result: StageResult = { read: 0, staged: 0, rejected: 0 };
  for await (const batch of options.rows) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    const shaped = await shapeBatch(batch, options);
    result.read += batch.length;
    for (const { inputRow, values } of shaped.accepted) {
      const updatedAt = input.updatedAt ? toInstantText(inputRow.row[input.updatedAt]) : null;
      const id = Number(
        insertRecord.run(
          target.def.table,
          input.name,
          inputRow.sourceKey,
          input.priority,
          updatedAt,
          JSON.stringify(values),
        ).lastInsertRowid,
      );
      target.def.exact.forEach((parts, k) => {
        // Every part must have a value: two records missing an email are not the same person.
        const key: string[] = [];
        for (const p of parts) {
          const part = matchKey(values, p.field, p.normalize);
          if (part === null) return;
          key.push(part);
        }
        insertKey.run(target.def.table, k, key.join('\u0000'), id);
      });
      result.staged++;
    }
    if (shaped.rejects.length) {
      work.insertRejects(shaped.rejects);
      result.rejected += shaped.rejects.length;
    }
    options.onBatch(batch.length);
  }
  return result;
}

export interface ShapedBatch {
  accepted: { inputRow: InputRow; values: Record<string, unknown> }[];
  rejects: RejectedRow[];
}

/**
 * Maps a batch of input rows to the target's columns (transforms in one sandbox call), coerces each
 * value to its column's type and points references at the parents' target keys. A row failing any
 * of it is rejected with the field, the value and the reason.
 */
export async function shapeBatch(
  batch: InputRow[],
  options: Pick<StageOptions, 'target' | 'input' | 'mapping' | 'parentKey' | 'passThrough'>,
): Promise<ShapedBatch> {
  const { target, input } = options;
  const columns = new Map(target.schema.columns.map((c) => [c.name, c]));
  const mapped = await options.mapping.map(batch.map((r) => r.row));
  const out: ShapedBatch = { accepted: [], rejects: [] };
  batch.forEach((inputRow, i) => {
    const m = mapped[i]!;
    const reject = (field: string | null, value: unknown, reason: string) =>
      out.rejects.push({
        table: target.def.table,
        input: input.name,
        sourceKey: inputRow.sourceKey,
        line: inputRow.line,
        field,
        value,
        reason,
      });
    if (!m.ok) return reject(m.field, m.value, m.reason);
    const values: Record<string, unknown> = {};
    for (const [name, raw] of Object.entries(m.values)) {
      const column = columns.get(name)!;
      let value: unknown;
      if (options.passThrough?.has(name)) {
        values[name] = raw;
        continue;
      }
      try {
        value = coerceValue(column, normalizeInput(column, raw));
      } catch (err) {
        return reject(name, raw, err instanceof BraidError ? reasonOf(err.message) : String(err));
      }
      const reference = input.references[name];
      if (reference && value !== null) {
        const parent = options.parentKey(name, String(value));
        if (parent === null)
          return reject(name, value, `orphan: no "${reference.table}" row with key ${JSON.stringify(value)}`);
        value = coerceValue(column, parent);
      }
      values[name] = value;
    }
    out.accepted.push({ inputRow, values });
  });
  return out;
}

/**
 * Target columns an input fills straight from a source column of the same portable type that is no
 * wider than the target (typeNarrowing says nothing narrows, enum values are a subset): the
 * connector already delivers canonical wire values for that type, so coercing them again would
 * only cost time (about a twentieth of a direct copy's CPU).
 */
export function passThroughColumns(
  input: InputDefinition,
  sourceColumns: ColumnSchema[] | null,
  target: TargetTable,
): Set<string> {
  const out = new Set<string>();
  if (!sourceColumns) return out;
  for (const [name, spec] of Object.entries(input.columns)) {
    if (spec.transform !== null || spec.from === null || input.references[name]) continue;
    const from = sourceColumns.find((c) => c.name === spec.from);
    const to = target.schema.columns.find((c) => c.name === name);
    if (!from || !to || from.type !== to.type || typeNarrowing(from, to) !== null) continue;
    if (from.nullable && !to.nullable) continue;
    if (to.type === 'enum' && !(from.enumValues ?? []).every((v) => to.enumValues?.includes(v))) continue;
    out.add(name);
  }
  return out;
}

/** Driver values that are not wire values yet (Date from a CSV-less path, Buffer) become text. */
function normalizeInput(column: ColumnSchema, value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && value === '' && column.type !== 'string' && column.type !== 'text')
    return null;
  return value;
}

/** "row.x: "abc" is not a valid integer for "x": expected an integer" -> "expected an integer". */
function reasonOf(message: string): string {
  const i = message.lastIndexOf(': ');
  return i >= 0 ? `not a valid value: ${message.slice(i + 2)}` : message;
}

function toInstantText(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}
