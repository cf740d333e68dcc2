import type { Condition, Filter } from '../model/filter.js';
import type { PortableType } from '../model/schema.js';
import type { Row } from '../model/values.js';
import { compareValues } from './value-order.js';

/**
 * Evaluates a bound filter (values already coerced, see bindFilter) on a row in memory, with the
 * language's semantics: two-valued logic where a condition on NULL is false except `isNull`, `ne`
 * and `notIn`; case folding with toLowerCase as the engines' compiler does; literal patterns.
 * The combined reader runs every filter here on the joined rows, after pushing what it can.
 */
export function matchesFilter(filter: Filter, row: Row, typeOf: (field: string) => PortableType): boolean {
  if ('and' in filter) return filter.and.every((f) => matchesFilter(f, row, typeOf));
  if ('or' in filter) return filter.or.some((f) => matchesFilter(f, row, typeOf));
  if ('not' in filter) return !matchesFilter(filter.not, row, typeOf);
  return matchesCondition(filter, row[filter.field], typeOf(filter.field));
}

function matchesCondition(cond: Condition, raw: unknown, type: PortableType): boolean {
  const isNull = raw === null || raw === undefined;
  switch (cond.op) {
    case 'isNull':
      return isNull;
    case 'notNull':
      return !isNull;
    case 'ne':
      return isNull || !equal(cond, raw, cond.value, type);
    case 'notIn':
      return isNull || !(cond.value as unknown[]).some((v) => equal(cond, raw, v, type));
    default:
      break;
  }
  if (isNull) return false;
  const fold = (v: unknown) => (cond.caseInsensitive ? String(v).toLowerCase() : v);
  const a = fold(raw);
  const b = fold(cond.value);
  switch (cond.op) {
    case 'eq':
      return equal(cond, raw, cond.value, type);
    case 'in':
      return (cond.value as unknown[]).some((v) => equal(cond, raw, v, type));
    case 'lt':
      return compareValues(type, a, b) < 0;
    case 'lte':
      return compareValues(type, a, b) <= 0;
    case 'gt':
      return compareValues(type, a, b) > 0;
    case 'gte':
      return compareValues(type, a, b) >= 0;
    case 'contains':
      return String(a).includes(String(b));
    case 'startsWith':
      return String(a).startsWith(String(b));
    case 'endsWith':
      return String(a).endsWith(String(b));
    default:
      return false;
  }
}

function equal(cond: Condition, a: unknown, b: unknown, type: PortableType): boolean {
  if (cond.caseInsensitive) return String(a).toLowerCase() === String(b).toLowerCase();
  return compareValues(type, a, b) === 0;
}

/** The top-level conjuncts of a filter (nested `and`s flattened). */
export function conjuncts(filter: Filter | undefined): Filter[] {
  if (!filter) return [];
  if ('and' in filter) return filter.and.flatMap(conjuncts);
  return [filter];
}

/** Every field a filter names. */
export function fieldsOf(filter: Filter): string[] {
  if ('and' in filter) return filter.and.flatMap(fieldsOf);
  if ('or' in filter) return filter.or.flatMap(fieldsOf);
  if ('not' in filter) return fieldsOf(filter.not);
  return [filter.field];
}

/**
 * True when the filter is false for a row whose fields are all NULL: then a row passing it must
 * hold a value in some named field (`eq`, `lt`, `contains`, `notNull`...; not `isNull`, `ne`,
 * `notIn` or a `not`). Used to tell that a member owning those fields must hold the row.
 */
export function rejectsNulls(filter: Filter): boolean {
  if ('and' in filter) return filter.and.some(rejectsNulls);
  if ('or' in filter) return filter.or.length > 0 && filter.or.every(rejectsNulls);
  if ('not' in filter) return false;
  return !['isNull', 'ne', 'notIn'].includes(filter.op);
}

/** The filter with its fields renamed (combined column -> member column). */
export function renameFields(filter: Filter, rename: (field: string) => string): Filter {
  if ('and' in filter) return { and: filter.and.map((f) => renameFields(f, rename)) };
  if ('or' in filter) return { or: filter.or.map((f) => renameFields(f, rename)) };
  if ('not' in filter) return { not: renameFields(filter.not, rename) };
  return { ...filter, field: rename(filter.field) };
}
