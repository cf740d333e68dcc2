import { badRequest } from './errors.js';
import type { ColumnSchema, TableSchema } from './schema.js';

/**
 * The filter language, as JSON. Semantics are the same on every engine (the conformance suite in
 * test/conformance proves it):
 * - two-valued logic: a condition on a NULL field is false, except `isNull`, `ne` and `notIn`, which
 *   are true for NULL (NULL is "not equal" to any value). `not` therefore simply inverts.
 * - `eq`/`ne` with value null mean `isNull`/`notNull`.
 * - string comparisons are by Unicode code point, case-sensitive unless `caseInsensitive: true`
 *   (which folds case with Unicode rules on every engine); trailing spaces count.
 * - `contains`, `startsWith`, `endsWith` match the value literally (`%` and `_` are not wildcards).
 */
export type Filter = AndFilter | OrFilter | NotFilter | Condition;

export interface AndFilter {
  and: Filter[];
}
export interface OrFilter {
  or: Filter[];
}
export interface NotFilter {
  not: Filter;
}

export const FILTER_OPS = [
  'eq',
  'ne',
  'lt',
  'lte',
  'gt',
  'gte',
  'in',
  'notIn',
  'contains',
  'startsWith',
  'endsWith',
  'isNull',
  'notNull',
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export const STRING_OPS: ReadonlySet<FilterOp> = new Set(['contains', 'startsWith', 'endsWith']);

export interface Condition {
  field: string;
  op: FilterOp;
  value?: unknown;
  caseInsensitive?: boolean;
}

export function isCondition(f: Filter): f is Condition {
  return typeof (f as Condition).field === 'string';
}

const MAX_DEPTH = 32;
const MAX_IN_LIST = 10_000;

/** Parses a filter from its JSON text (query string `filter=`), naming what is wrong. */
export function parseFilterJson(text: string): Filter {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest('invalid_filter', `filter is not valid JSON: ${(err as Error).message}`, {
      filter: text,
    });
  }
  return validateFilterShape(value);
}

/** A filter as a request carries it: absent or empty, JSON text (query string), or an object (body). */
export function filterParam(value: string | Filter | undefined | null): Filter | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? parseFilterJson(value) : validateFilterShape(value);
}

/** Checks the structure of an untrusted filter value and returns it typed. */
export function validateFilterShape(value: unknown, path = 'filter', depth = 0): Filter {
  if (depth > MAX_DEPTH)
    throw badRequest('invalid_filter', `${path} is nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('invalid_filter', `${path} must be an object with and, or, not or field`, { path });
  }
  const obj = value as Record<string, unknown>;
  if ('and' in obj || 'or' in obj) {
    const key = 'and' in obj ? 'and' : 'or';
    const list = obj[key];
    if (!Array.isArray(list)) throw badRequest('invalid_filter', `${path}.${key} must be an array`, { path });
    const items = list.map((f, i) => validateFilterShape(f, `${path}.${key}[${i}]`, depth + 1));
    return key === 'and' ? { and: items } : { or: items };
  }
  if ('not' in obj) return { not: validateFilterShape(obj.not, `${path}.not`, depth + 1) };
  if (typeof obj.field !== 'string' || obj.field === '') {
    throw badRequest('invalid_filter', `${path}.field must be a non-empty string`, { path });
  }
  if (typeof obj.op !== 'string' || !(FILTER_OPS as readonly string[]).includes(obj.op)) {
    throw badRequest('invalid_filter', `${path}.op must be one of ${FILTER_OPS.join(', ')}`, {
      path,
      op: obj.op,
    });
  }
  const cond: Condition = { field: obj.field, op: obj.op as FilterOp };
  if ('value' in obj) cond.value = obj.value;
  if (obj.caseInsensitive !== undefined) {
    if (typeof obj.caseInsensitive !== 'boolean') {
      throw badRequest('invalid_filter', `${path}.caseInsensitive must be a boolean`, { path });
    }
    cond.caseInsensitive = obj.caseInsensitive;
  }
  return cond;
}

/**
 * Checks every field against the table's columns and every value against the field's type.
 * Returns the filter with values coerced to their canonical wire form. The shape is checked here too:
 * filters built in code (automations, syncs) reach connectors without passing through the JSON parser,
 * and an unknown op must be a 400, not a condition that compiles to nothing.
 */
export function bindFilter(
  filter: Filter,
  table: TableSchema,
  coerce: (column: ColumnSchema, value: unknown, path: string) => unknown,
): Filter {
  filter = validateFilterShape(filter);
  const visit = (f: Filter, path: string): Filter => {
    if ('and' in f) return { and: f.and.map((g, i) => visit(g, `${path}.and[${i}]`)) };
    if ('or' in f) return { or: f.or.map((g, i) => visit(g, `${path}.or[${i}]`)) };
    if ('not' in f) return { not: visit(f.not, `${path}.not`) };
    const column = table.columns.find((c) => c.name === f.field);
    if (!column) {
      throw badRequest('unknown_field', `unknown field "${f.field}" in ${path}`, {
        field: f.field,
        table: table.name,
      });
    }
    return bindCondition(f, column, path, coerce);
  };
  return visit(filter, 'filter');
}

function bindCondition(
  cond: Condition,
  column: ColumnSchema,
  path: string,
  coerce: (column: ColumnSchema, value: unknown, path: string) => unknown,
): Condition {
  const { op } = cond;
  if (op === 'isNull' || op === 'notNull') return { field: cond.field, op };
  if ((op === 'eq' || op === 'ne') && cond.value === null) {
    return { field: cond.field, op: op === 'eq' ? 'isNull' : 'notNull' };
  }
  if (column.type === 'json') {
    throw badRequest('unsupported_filter', `field "${cond.field}" is json: only isNull and notNull apply`, {
      field: cond.field,
      op,
    });
  }
  const textual = column.type === 'string' || column.type === 'text' || column.type === 'enum';
  if (STRING_OPS.has(op) || cond.caseInsensitive) {
    if (!textual && !(column.type === 'uuid' && !STRING_OPS.has(op))) {
      throw badRequest(
        'unsupported_filter',
        `${op} applies to text fields; "${cond.field}" is ${column.type}`,
        {
          field: cond.field,
          op,
        },
      );
    }
  }
  if (op === 'in' || op === 'notIn') {
    if (!Array.isArray(cond.value)) {
      throw badRequest('invalid_filter', `${path}.value must be an array for ${op}`, { field: cond.field });
    }
    if (cond.value.length > MAX_IN_LIST) {
      throw badRequest('invalid_filter', `${path}.value has more than ${MAX_IN_LIST} items`, {
        field: cond.field,
      });
    }
    const values = cond.value.map((v, i) => {
      if (v === null)
        throw badRequest('invalid_filter', `${path}.value[${i}] is null: use isNull`, { field: cond.field });
      return coerce(column, v, `${path}.value[${i}]`);
    });
    return withCase({ field: cond.field, op, value: values }, cond);
  }
  if (cond.value === undefined || cond.value === null) {
    throw badRequest('invalid_filter', `${path}.value is required for ${op}`, { field: cond.field, op });
  }
  if (STRING_OPS.has(op)) {
    if (typeof cond.value !== 'string') {
      throw badRequest('invalid_filter', `${path}.value must be a string for ${op}`, { field: cond.field });
    }
    return withCase({ field: cond.field, op, value: cond.value }, cond);
  }
  return withCase({ field: cond.field, op, value: coerce(column, cond.value, `${path}.value`) }, cond);
}

function withCase(bound: Condition, original: Condition): Condition {
  if (original.caseInsensitive) bound.caseInsensitive = true;
  return bound;
}
