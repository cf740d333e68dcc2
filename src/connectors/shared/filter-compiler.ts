import { sql } from 'kysely';
import { isCondition, type Condition, type Filter } from '../../model/filter.js';
import type { ColumnSchema, TableSchema } from '../../model/schema.js';
import type { DialectAdapter, Sql } from './dialect-adapter.js';

/**
 * Compiles a bound filter (fields checked, values coerced: see model/filter.ts) to a SQL predicate.
 * Every condition is written so it is TRUE or FALSE, never NULL, which is what makes `not` and `ne`
 * behave the same on every engine.
 */
export function compileFilter(filter: Filter | undefined, table: TableSchema, adapter: DialectAdapter): Sql {
  if (!filter) return sql`1 = 1`;
  if ('and' in filter) {
    if (filter.and.length === 0) return sql`1 = 1`;
    return sql`(${sql.join(
      filter.and.map((f) => compileFilter(f, table, adapter)),
      sql` and `,
    )})`;
  }
  if ('or' in filter) {
    if (filter.or.length === 0) return sql`1 = 0`;
    return sql`(${sql.join(
      filter.or.map((f) => compileFilter(f, table, adapter)),
      sql` or `,
    )})`;
  }
  if ('not' in filter) return sql`(not ${compileFilter(filter.not, table, adapter)})`;
  if (!isCondition(filter)) throw new Error('unreachable filter node');
  const column = table.columns.find((c) => c.name === filter.field)!;
  return compileCondition(filter, column, adapter);
}

function isText(column: ColumnSchema): boolean {
  return (
    column.type === 'string' || column.type === 'text' || column.type === 'enum' || column.type === 'uuid'
  );
}

function compileCondition(cond: Condition, column: ColumnSchema, adapter: DialectAdapter): Sql {
  const col: Sql = sql.id(column.name);
  const notNull = sql`${col} is not null`;
  const ci = cond.caseInsensitive === true;
  const param = (v: unknown): Sql => sql.val(adapter.encode(column, v));
  // The value opposite `ordered(column)`: an engine that compares a transformed column transforms it too.
  const orderedParam = (v: unknown): Sql =>
    adapter.orderedValue ? adapter.orderedValue(column, adapter.encode(column, v)) : param(v);
  const equals = (v: unknown): Sql => {
    if (ci) return sql`${adapter.lower(col)} = ${String(v).toLowerCase()}`;
    if (isText(column)) return adapter.exactEquals(column, v);
    // Through ordered(): an engine storing one value in several spellings (SQLite datetimes and text
    // decimals written by other tools) compares the normalized form; elsewhere it is the column.
    return sql`${adapter.ordered(column)} = ${orderedParam(v)}`;
  };
  const compare = (operator: string, v: unknown): Sql => {
    if (ci) return sql`${adapter.lower(col)} ${sql.raw(operator)} ${String(v).toLowerCase()}`;
    return sql`${adapter.ordered(column)} ${sql.raw(operator)} ${orderedParam(v)}`;
  };
  switch (cond.op) {
    case 'isNull':
      return sql`${col} is null`;
    case 'notNull':
      return notNull;
    case 'eq':
      return sql`(${notNull} and ${equals(cond.value)})`;
    case 'ne':
      return sql`(${col} is null or not (${equals(cond.value)}))`;
    case 'lt':
      return sql`(${notNull} and ${compare('<', cond.value)})`;
    case 'lte':
      return sql`(${notNull} and ${compare('<=', cond.value)})`;
    case 'gt':
      return sql`(${notNull} and ${compare('>', cond.value)})`;
    case 'gte':
      return sql`(${notNull} and ${compare('>=', cond.value)})`;
    case 'in':
    case 'notIn': {
      const values = cond.value as unknown[];
      let anyOf: Sql;
      if (values.length === 0) anyOf = sql`1 = 0`;
      else if (adapter.anyOf)
        anyOf = adapter.anyOf(column, ci ? values.map((v) => String(v).toLowerCase()) : values, ci);
      // IN lists rather than OR chains: lists run to 10 000 values, which an OR chain makes slow
      // (every row against every value) and SQLite refuses outright (expression depth 1000).
      else if (ci)
        anyOf = sql`${adapter.lower(col)} in (${sql.join(values.map((v) => String(v).toLowerCase()))})`;
      else if (isText(column)) {
        // The plain IN can use an index (and matches more under a lenient collation); the IN on
        // ordered(), which compares by code point, keeps the exact matches only, as exactEquals does.
        const exact = sql`${adapter.ordered(column)} in (${sql.join(values.map(orderedParam))})`;
        anyOf = sql`(${col} in (${sql.join(values.map(param))}) and ${exact})`;
      } else anyOf = sql`${adapter.ordered(column)} in (${sql.join(values.map(orderedParam))})`;
      return cond.op === 'in' ? sql`(${notNull} and ${anyOf})` : sql`(${col} is null or not ${anyOf})`;
    }
    case 'contains':
    case 'startsWith':
    case 'endsWith': {
      const value = String(cond.value);
      const expr = ci ? adapter.lower(col) : col;
      return sql`(${notNull} and ${adapter.pattern(expr, ci ? value.toLowerCase() : value, cond.op, ci)})`;
    }
  }
}
