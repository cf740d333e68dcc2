import { sql } from 'kysely';
import type { SortTerm } from '../../model/query.js';
import type { ColumnSchema, TableSchema } from '../../model/schema.js';
import type { DialectAdapter, Sql } from './dialect-adapter.js';

/**
 * The predicate "row comes after the cursor row" for a sort whose last terms are the primary key.
 * NULL is the smallest value (first ascending, last descending), matching `orderTerm`.
 * For sort (a, b) and cursor (x, y): (a after x) or (a = x and b after y).
 */
export function keysetPredicate(
  sort: SortTerm[],
  cursorValues: unknown[],
  table: TableSchema,
  adapter: DialectAdapter,
): Sql {
  const columns = sort.map((t) => table.columns.find((c) => c.name === t.field)!);
  const disjuncts: Sql[] = [];
  for (let i = 0; i < sort.length; i++) {
    const parts: Sql[] = [];
    for (let j = 0; j < i; j++) parts.push(sameAs(columns[j]!, cursorValues[j], adapter));
    const after = comesAfter(columns[i]!, sort[i]!.dir, cursorValues[i], adapter);
    if (after === null) continue;
    parts.push(after);
    disjuncts.push(parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` and `)})`);
  }
  if (disjuncts.length === 0) return sql`1 = 0`;
  return disjuncts.length === 1 ? disjuncts[0]! : sql`(${sql.join(disjuncts, sql` or `)})`;
}

function sameAs(column: ColumnSchema, value: unknown, adapter: DialectAdapter): Sql {
  if (value === null || value === undefined) return sql`${sql.id(column.name)} is null`;
  return sql`${adapter.ordered(column)} = ${orderedBound(column, value, adapter)}`;
}

/** The cursor value opposite `ordered(column)` (see DialectAdapter.orderedValue). */
function orderedBound(column: ColumnSchema, value: unknown, adapter: DialectAdapter): unknown {
  const encoded = adapter.encode(column, value);
  return adapter.orderedValue ? adapter.orderedValue(column, encoded) : encoded;
}

/** null when nothing can come after (a NULL cursor value in descending order). */
function comesAfter(
  column: ColumnSchema,
  dir: 'asc' | 'desc',
  value: unknown,
  adapter: DialectAdapter,
): Sql | null {
  const col = sql.id(column.name);
  if (value === null || value === undefined) return dir === 'asc' ? sql`${col} is not null` : null;
  const bound = orderedBound(column, value, adapter);
  if (dir === 'asc') return sql`${adapter.ordered(column)} > ${bound}`;
  // Without the OR on a NOT NULL column, the comparison can bound an index scan.
  if (!column.nullable) return sql`${adapter.ordered(column)} < ${bound}`;
  return sql`(${adapter.ordered(column)} < ${bound} or ${col} is null)`;
}

export function orderByClause(sort: SortTerm[], table: TableSchema, adapter: DialectAdapter): Sql {
  return sql.join(
    sort.map((t) => {
      const column = table.columns.find((c) => c.name === t.field)!;
      return adapter.orderTerm(adapter.ordered(column), t.dir, column);
    }),
  );
}
