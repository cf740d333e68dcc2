import type { Filter } from '../model/filter.js';
import { coerceValue, type Row } from '../model/values.js';
import type { ResolvedMember } from './combined-table.js';

/** Values per `in` list sent to a source: big enough to batch, small enough for every planner. */
export const IN_CHUNK = 2_000;

/** The filter language's cap on one `in` list (model/filter.ts). */
export const MAX_IN_VALUES = 10_000;

/** A member row's primary key as stored text: `{"id":7}` with the columns in key order. */
export function primaryKeyText(member: ResolvedMember, row: Row): string {
  return JSON.stringify(Object.fromEntries(member.table.primaryKey.map((c) => [c, row[c] ?? null])));
}

/**
 * The filter selecting rows by primary key: one `in` for a single-column key, an `or` of `and`s for
 * a composite one. Keys whose values the column cannot hold are dropped (they match nothing).
 */
export function primaryKeyFilter(member: ResolvedMember, keys: Row[]): Filter | null {
  const pk = member.table.primaryKey;
  const columns = pk.map((name) => member.table.columns.find((c) => c.name === name)!);
  if (pk.length === 1) {
    const values = valuesFor(
      columns[0]!,
      keys.map((k) => k[pk[0]!]),
    );
    return values.length === 0 ? null : { field: pk[0]!, op: 'in', value: values };
  }
  const terms: Filter[] = keys.map((key) => ({
    and: pk.map((field) => ({ field, op: 'eq' as const, value: key[field] })),
  }));
  return terms.length === 0 ? null : { or: terms };
}

/** The values a column can hold among `values`, deduplicated (anything else matches nothing there). */
export function valuesFor(column: ResolvedMember['table']['columns'][number], values: unknown[]): unknown[] {
  const out = new Map<string, unknown>();
  for (const value of values) {
    if (value === null || value === undefined) continue;
    try {
      const coerced = coerceValue(column, value);
      if (coerced !== null) out.set(JSON.stringify(coerced), coerced);
    } catch {
      // A key "abc" for an integer column: no row there can have it.
    }
  }
  return [...out.values()];
}

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(items: T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Every row of a member matching `filter`, fetched in one query per chunk of `in` values, with
 * `fields` (plus the primary key) only. `extra` is ANDed to each query.
 */
export async function fetchMatching(
  member: ResolvedMember,
  filters: Filter[],
  fields: string[],
  extra?: Filter,
): Promise<Row[]> {
  const wanted = [...new Set([...member.table.primaryKey, ...fields])];
  const pages = await Promise.all(
    filters.map(async (filter) => {
      const rows: Row[] = [];
      let cursor: string | undefined;
      // A chunk may hold more rows than one page (many rows per key): follow the cursor.
      do {
        const page = await member.connector.select(member.table, {
          filter: extra ? { and: [filter, extra] } : filter,
          fields: wanted,
          limit: 10_000,
          ...(cursor ? { cursor } : {}),
        });
        rows.push(...page.rows);
        cursor = page.next ?? undefined;
      } while (cursor);
      return rows;
    }),
  );
  return pages.flat();
}
