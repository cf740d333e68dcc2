import type { Row } from '../model/values.js';
import type { JsonValue, Sandbox } from '../sandbox/sandbox.js';
import type { SyncMember } from './sync-rule.js';

/** An entity's mapped values in the rule's vocabulary: canonical field name -> JSON value. */
export type CanonicalValues = Record<string, JsonValue>;

/** Context for transform errors: the row's key is named in the error message and details. */
export interface MappingOptions {
  rowKey?: unknown;
}

/**
 * Reads a member row into canonical values: each mapped column's wire value, passed through the
 * field's `read` expression (over `value` and `row`) when it has one. NULL is passed through without
 * running the transform, so `value.replace(...)` needs no null guard; a column missing from `row`
 * (a partial change event) leaves its field out. Transform failures reject with the sandbox's error
 * (`sandbox_error`, `sandbox_timeout`, ...), whose message names `rowKey`.
 *
 * @example
 * ```ts
 * await readCanonical(sandbox, crmMember, { id: 7, email: 'a@b.example', phone: '(555) 123-4567' }, { rowKey: { id: 7 } });
 * // { email: 'a@b.example', phone: '5551234567' }
 * ```
 */
export async function readCanonical(
  sandbox: Sandbox,
  member: SyncMember,
  row: Row,
  options: MappingOptions = {},
): Promise<CanonicalValues> {
  const out: CanonicalValues = {};
  for (const [field, mapping] of Object.entries(member.fields)) {
    if (!(mapping.column in row)) continue;
    const value = row[mapping.column] ?? null;
    out[field] =
      value === null || mapping.read === undefined
        ? toJson(value)
        : await sandbox.evaluate(mapping.read, { value, row }, { details: detailsOf(options, field) });
  }
  return out;
}

/**
 * Maps canonical values to the column values of one member, through each field's `write`
 * expression (over `value` and `row`, the member's current row when known, else null). Only the
 * columns of fields present in `canonical` are in the answer: every other column stays untouched.
 *
 * @example
 * ```ts
 * await writeMember(sandbox, invoicingMember, { phone: '5551234567' }); // { phone: 5551234567 }
 * ```
 */
export async function writeMember(
  sandbox: Sandbox,
  member: SyncMember,
  canonical: CanonicalValues,
  options: MappingOptions & { row?: Row | null } = {},
): Promise<Row> {
  const out: Row = {};
  for (const [field, mapping] of Object.entries(member.fields)) {
    if (!(field in canonical)) continue;
    const value = canonical[field] ?? null;
    out[mapping.column] =
      value === null || mapping.write === undefined
        ? value
        : await sandbox.evaluate(
            mapping.write,
            { value, row: options.row ?? null },
            { details: detailsOf(options, field) },
          );
  }
  return out;
}

function detailsOf(options: MappingOptions, field: string): Record<string, unknown> {
  return options.rowKey === undefined ? { field } : { rowKey: options.rowKey, field };
}

function toJson(value: unknown): JsonValue {
  // Wire values are JSON already (bigint and decimal as strings); this only drops what JSON cannot hold.
  return value === undefined ? null : (value as JsonValue);
}

/**
 * The comparison form of a canonical value: JSON text with object keys sorted. Two members agree on
 * a field when these are equal, so types matter: `'5551234567'` and `5551234567` differ unless a
 * `read` transform gives both sides the same type (`String(value)`), and `1` equals `1.0`.
 */
export function canonicalText(value: JsonValue | undefined): string {
  return JSON.stringify(sortKeys(value ?? null));
}

/** True when two canonical values are the same after JSON normalization (see `canonicalText`). */
export function canonicalEquals(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return canonicalText(a) === canonicalText(b);
}

function sortKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys(value[key]!)]),
  );
}
