import { sql } from 'kysely';
import type { SortDirection } from '../../model/query.js';
import type { ColumnDefinition, ColumnSchema, TableSchema } from '../../model/schema.js';
import type { DialectAdapter, PatternKind, Sql } from '../shared/dialect-adapter.js';
import { DECIMAL_KEY_FUNCTION, LOWER_FUNCTION } from './sqlite-database.js';
import { normalizedDateTimeSql } from './sqlite-datetime.js';
import { translateSqliteError } from './sqlite-errors.js';
import { columnTypeSql } from './sqlite-types.js';
import { columnFacts, decodeSqliteValue, encodeSqliteValue } from './sqlite-values.js';

/** SQLITE_MAX_VARIABLE_NUMBER of the SQLite that better-sqlite3 bundles. */
const MAX_PARAMETERS = 32766;

function isTextual(column: ColumnSchema): boolean {
  return (
    column.type === 'string' || column.type === 'text' || column.type === 'enum' || column.type === 'uuid'
  );
}

function isTextDecimal(column: ColumnSchema): boolean {
  return column.type === 'decimal' && columnFacts(column).affinity === 'TEXT';
}

/** The column a definition creates, as introspection would describe it (for encoding its values). */
function schemaColumnOf(column: ColumnDefinition): ColumnSchema {
  return {
    name: column.name,
    type: column.type,
    nativeType: columnTypeSql(column),
    nullable: column.nullable ?? true,
    defaultValue: null,
    autoIncrement: false,
    generated: false,
    ...(column.scale !== undefined ? { scale: column.scale } : {}),
  };
}

/** GLOB is case-sensitive and character-based; `*`, `?` and `[` are made literal as `[*]`, `[?]`, `[[]`. */
export function globLiteral(text: string): string {
  return text.replace(/[*?[]/g, (ch) => `[${ch}]`);
}

/**
 * SQLite's answers to the questions the shared compilers ask. Comparisons use BINARY collation
 * (byte order of UTF-8, which is code-point order) even on columns declared COLLATE NOCASE.
 */
export const sqliteAdapter: DialectAdapter = {
  kind: 'sqlite',
  returning: true,
  // SQLite documents the order of rows RETURNING emits for a multi-row INSERT as arbitrary.
  returningBatchRows: 1,
  maxParameters: MAX_PARAMETERS,
  placeholder: () => '?',

  table(table: Pick<TableSchema, 'schema' | 'name'>): Sql {
    return table.schema && table.schema !== 'main' ? sql.id(table.schema, table.name) : sql.id(table.name);
  },

  ordered(column: ColumnSchema): Sql {
    const col = sql.id(column.name);
    if (isTextual(column)) return sql`${col} collate binary`;
    if (column.type === 'datetime' || column.type === 'datetimetz') return normalizedDateTimeSql(col);
    // Decimals Braid stores as text would sort as text ('10' < '9') and a REAL would tie values that
    // differ after 15 digits: both sides are compared through an exact sort key instead.
    if (isTextDecimal(column)) return sql`${sql.raw(DECIMAL_KEY_FUNCTION)}(${col})`;
    return col;
  },

  orderedValue(column: ColumnSchema, encoded: unknown): Sql {
    return isTextDecimal(column) ? sql`${sql.raw(DECIMAL_KEY_FUNCTION)}(${encoded})` : sql.val(encoded);
  },

  lower(expr: Sql): Sql {
    return sql`${sql.raw(LOWER_FUNCTION)}(${expr})`;
  },

  exactEquals(column: ColumnSchema, value: unknown): Sql {
    return sql`${sql.id(column.name)} collate binary = ${encodeSqliteValue(column, value)}`;
  },

  pattern(expr: Sql, value: string, kind: PatternKind, _caseInsensitive: boolean): Sql {
    // LIKE folds ASCII case, so the literal match is a GLOB (case-sensitive; the value is already
    // lowered, and the column wrapped in braid_lower, when the match is case-insensitive).
    const literal = globLiteral(value);
    const glob = kind === 'contains' ? `*${literal}*` : kind === 'startsWith' ? `${literal}*` : `*${literal}`;
    return sql`${expr} glob ${glob}`;
  },

  orderTerm(expr: Sql, dir: SortDirection): Sql {
    // SQLite sorts NULL as the smallest value: first ascending, last descending, as Braid wants.
    return dir === 'desc' ? sql`${expr} desc` : sql`${expr} asc`;
  },

  upsertClause(columns: string[], conflictColumns: string[]): Sql {
    const updates = columns.filter((c) => !conflictColumns.includes(c));
    // With nothing else to update, a no-op assignment still makes RETURNING answer the row.
    const assigned = updates.length > 0 ? updates : conflictColumns.slice(0, 1);
    const set = sql.join(assigned.map((c) => sql`${sql.id(c)} = excluded.${sql.id(c)}`));
    return sql`on conflict (${sql.join(conflictColumns.map((c) => sql.id(c)))}) do update set ${set}`;
  },

  encode: encodeSqliteValue,
  decode: decodeSqliteValue,
  translateError: translateSqliteError,

  columnType(column: ColumnDefinition): string {
    return columnTypeSql(column);
  },

  defaultLiteral(column: ColumnDefinition, value: string | number | boolean): Sql {
    // Written as the value would be stored by encode, so a default compares like an inserted value.
    const stored = encodeSqliteValue(schemaColumnOf(column), value);
    if (Buffer.isBuffer(stored)) return sql.raw(`X'${stored.toString('hex')}'`);
    if (typeof stored === 'bigint') return sql.raw(stored.toString());
    if (typeof stored === 'string' || typeof stored === 'number' || typeof stored === 'boolean')
      return sql.lit(stored);
    return sql`null`;
  },

  autoIncrementColumn(_column: ColumnDefinition): string {
    // Only a column declared exactly INTEGER PRIMARY KEY aliases the rowid; AUTOINCREMENT keeps
    // deleted ids from being handed out again, which synced copies of the row rely on.
    return 'INTEGER PRIMARY KEY AUTOINCREMENT';
  },
};
