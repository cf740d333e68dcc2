import { sql } from 'kysely';
import type { BraidError } from '../../model/errors.js';
import type { SortDirection } from '../../model/query.js';
import type { ColumnDefinition, ColumnSchema, TableSchema } from '../../model/schema.js';
import type { DialectAdapter, PatternKind, Sql } from '../shared/dialect-adapter.js';
import { mysqlAutoIncrementColumn, mysqlColumnType } from './mysql-ddl.js';
import { translateMysqlError } from './mysql-errors.js';
import type { ServerInfo } from './mysql-session.js';
import { decodeValue, encodeValue } from './mysql-types.js';

const TEXTUAL = new Set(['string', 'text', 'enum', 'uuid']);

/**
 * SQL differences of MySQL and MariaDB.
 *
 * String comparison. Columns usually have a case-insensitive, PAD SPACE collation
 * (utf8mb4_general_ci: 'a' = 'A' = 'a '), while the portable model compares by code point with
 * case and trailing spaces counting. Comparisons therefore run on `cast(convert(col using utf8mb4)
 * as binary)`: the UTF-8 bytes, whose order is code-point order, with no padding, whatever the
 * column's charset or collation (a `_bin` collation would still pad spaces on MariaDB and needs
 * one name per charset). The price is that an index on the column cannot serve that expression,
 * so `exactEquals` and `startsWith` first test the column itself (`col = ?`, `col like ?`), which
 * an index can serve and which every exact match also satisfies, then the exact byte test.
 * Range comparisons and ORDER BY on string columns cannot use the index (the index is in
 * collation order, not code-point order); numbers and dates keep plain, index-friendly columns.
 */
export class MysqlAdapter implements DialectAdapter {
  readonly kind = 'mysql' as const;
  /** No UPDATE ... RETURNING on either; MysqlConnector uses MariaDB's INSERT ... RETURNING itself. */
  readonly returning = false;
  readonly returningBatchRows = 1000;
  /** Values are inlined client-side by mysql2; the real limit is max_allowed_packet, so stay modest. */
  readonly maxParameters = 10_000;
  readonly placeholder = (): string => '?';
  /** Filled in once the first connection reports the server (DDL differs by flavor). */
  server: ServerInfo | null = null;

  constructor(readonly timeoutMs: number) {}

  table(table: Pick<TableSchema, 'schema' | 'name'>): Sql {
    return table.schema ? sql`${sql.id(table.schema)}.${sql.id(table.name)}` : sql.id(table.name);
  }

  ordered(column: ColumnSchema): Sql {
    return TEXTUAL.has(column.type) ? codePoints(sql.id(column.name)) : sql.id(column.name);
  }

  lower(expr: Sql): Sql {
    // lower() must run on the character string (it is a no-op on binary strings), then compare bytes.
    return sql`cast(lower(convert(${expr} using utf8mb4)) as binary)`;
  }

  exactEquals(column: ColumnSchema, value: unknown): Sql {
    const col = sql.id(column.name);
    const param = this.encode(column, value);
    // UUID values compare as 128-bit numbers on MariaDB; case in the text form does not matter.
    if (column.type === 'uuid') return sql`${col} = ${param}`;
    return sql`(${col} = ${param} and ${codePoints(col)} = cast(${param} as binary))`;
  }

  /**
   * `in` lists as IN (...): MySQL sorts a constant IN list once and binary-searches it per row,
   * where OR-ing 10 000 exact equalities evaluated every one of them (and lower() 10 000 times)
   * on every row. String columns get the index-friendly collation test and the exact byte test.
   */
  anyOf(column: ColumnSchema, values: unknown[], caseInsensitive: boolean): Sql {
    const col = sql.id(column.name);
    const asBytes = (list: unknown[]): Sql => sql.join(list.map((v) => sql`cast(${v} as binary)`));
    if (caseInsensitive) return sql`${this.lower(col)} in (${asBytes(values.map(String))})`;
    const params = values.map((v) => this.encode(column, v));
    if (!TEXTUAL.has(column.type) || column.type === 'uuid') return sql`${col} in (${sql.join(params)})`;
    return sql`(${col} in (${sql.join(params)}) and ${codePoints(col)} in (${asBytes(params)}))`;
  }

  pattern(expr: Sql, value: string, kind: PatternKind, caseInsensitive: boolean): Sql {
    // Backslash is LIKE's escape character here (the session never has NO_BACKSLASH_ESCAPES,
    // so the literal '\\' in the SQL text is one backslash).
    const escaped = value.replace(/[\\%_]/g, (ch) => `\\${ch}`);
    const like = kind === 'contains' ? `%${escaped}%` : kind === 'startsWith' ? `${escaped}%` : `%${escaped}`;
    if (caseInsensitive) return sql`${expr} like cast(${like} as binary) escape '\\\\'`;
    const exact = sql`${codePoints(expr)} like cast(${like} as binary) escape '\\\\'`;
    // A prefix LIKE on the column itself can use its index; every exact match passes it too.
    if (kind === 'startsWith') return sql`(${expr} like ${like} escape '\\\\' and ${exact})`;
    return exact;
  }

  orderTerm(expr: Sql, dir: SortDirection): Sql {
    // MySQL already sorts NULL first ascending and last descending, which is the portable rule.
    return dir === 'asc' ? sql`${expr} asc` : sql`${expr} desc`;
  }

  upsertClause(columns: string[], conflictColumns: string[]): Sql {
    const updates = columns.filter((c) => !conflictColumns.includes(c));
    // VALUES(col) is accepted by MariaDB and MySQL (deprecated, not removed, in MySQL 8).
    // Note: ON DUPLICATE KEY fires on any unique key of the table, not only conflictColumns.
    if (updates.length === 0) {
      const first = sql.id(conflictColumns[0]!);
      return sql`on duplicate key update ${first} = ${first}`;
    }
    return sql`on duplicate key update ${sql.join(updates.map((c) => sql`${sql.id(c)} = values(${sql.id(c)})`))}`;
  }

  encode(column: ColumnSchema, value: unknown): unknown {
    return encodeValue(column, value);
  }

  decode(column: ColumnSchema, value: unknown): unknown {
    return decodeValue(column, value);
  }

  translateError(err: unknown, query: string, params: readonly unknown[]): BraidError {
    return translateMysqlError(err, query, params, this.timeoutMs);
  }

  columnType(column: ColumnDefinition): string {
    return mysqlColumnType(column, this.server);
  }

  autoIncrementColumn(column: ColumnDefinition): string {
    return mysqlAutoIncrementColumn(column);
  }
}

/** The value as UTF-8 bytes: compares and sorts by code point, trailing spaces and case counting. */
function codePoints(expr: Sql): Sql {
  return sql`cast(convert(${expr} using utf8mb4) as binary)`;
}
