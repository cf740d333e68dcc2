import type { Filter } from '../model/filter.js';

/** A sort term as one stream's driver sees it. */
export interface DriverSortTerm {
  dir: 'asc' | 'desc';
  /** The driver column holding the term's value, or null when the value is NULL throughout the stream. */
  column: string | null;
}

/** A filter, or a condition already known to be always true or always false. */
export type Predicate = Filter | boolean;

export function allOf(parts: Predicate[]): Predicate {
  if (parts.some((p) => p === false)) return false;
  const real = parts.filter((p): p is Filter => p !== true);
  if (real.length === 0) return true;
  return real.length === 1 ? real[0]! : { and: real };
}

export function anyOf(parts: Predicate[]): Predicate {
  if (parts.some((p) => p === true)) return true;
  const real = parts.filter((p): p is Filter => p !== false);
  if (real.length === 0) return false;
  return real.length === 1 ? real[0]! : { or: real };
}

function equalTo(term: DriverSortTerm, value: unknown): Predicate {
  const isNull = value === null || value === undefined;
  if (term.column === null) return isNull;
  return isNull ? { field: term.column, op: 'isNull' } : { field: term.column, op: 'eq', value };
}

/** "Comes after `value`" in the term's order, NULL first ascending and last descending. */
function after(term: DriverSortTerm, value: unknown): Predicate {
  const isNull = value === null || value === undefined;
  if (term.column === null) return term.dir === 'desc' && !isNull;
  if (term.dir === 'asc')
    return isNull ? { field: term.column, op: 'notNull' } : { field: term.column, op: 'gt', value };
  if (isNull) return false;
  return {
    or: [
      { field: term.column, op: 'lt', value },
      { field: term.column, op: 'isNull' },
    ],
  };
}

/**
 * The keyset condition "row sorts after `values`" over `terms` (lexicographic), or "at or after"
 * when `strict` is false. Terms whose value is NULL throughout the stream are decided here, so the
 * filter sent to the source names only its own columns.
 *
 * @example
 * ```ts
 * keysetAfter([{ dir: 'asc', column: 'city' }, { dir: 'asc', column: 'id' }], ['Oslo', 7], true);
 * // {or: [{field: 'city', op: 'gt', value: 'Oslo'}, {and: [{field: 'city', op: 'eq', value: 'Oslo'}, {field: 'id', op: 'gt', value: 7}]}]}
 * ```
 */
export function keysetAfter(terms: DriverSortTerm[], values: unknown[], strict: boolean): Predicate {
  const options: Predicate[] = [];
  const prefix: Predicate[] = [];
  terms.forEach((term, i) => {
    options.push(allOf([...prefix, after(term, values[i])]));
    prefix.push(equalTo(term, values[i]));
  });
  if (!strict) options.push(allOf(prefix));
  return anyOf(options);
}
