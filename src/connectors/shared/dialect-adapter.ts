import type { RawBuilder } from 'kysely';
import type { BraidError } from '../../model/errors.js';
import type { ColumnDefinition, ColumnSchema, TableSchema } from '../../model/schema.js';
import type { SortDirection } from '../../model/query.js';
import type { SourceKind } from '../connector.js';

export type Sql = RawBuilder<unknown>;
export type PatternKind = 'contains' | 'startsWith' | 'endsWith';

/**
 * What differs between engines once SQL is built from the portable model. The shared compilers
 * (filters, keyset pages, CRUD) ask this object; each engine folder provides one. Nothing above the
 * connector layer sees it.
 */
export interface DialectAdapter {
  readonly kind: SourceKind;
  /** INSERT/UPDATE ... RETURNING *. */
  readonly returning: boolean;
  /** Rows per INSERT ... RETURNING statement whose answer order is guaranteed to be input order. */
  readonly returningBatchRows: number;
  /** Bound parameters per statement the engine accepts. */
  readonly maxParameters: number;
  /** Boolean DDL defaults are written TRUE/FALSE, not 1/0 (PostgreSQL refuses `boolean default 1`). */
  readonly booleanLiterals?: boolean;
  /** `$1` (PostgreSQL) or `?` (MySQL, SQLite): used to rewrite named bindings in raw SQL. */
  readonly placeholder: (index: number) => string;

  /** Fully qualified table identifier. */
  table(table: Pick<TableSchema, 'schema' | 'name'>): Sql;
  /**
   * A column as an expression that compares and sorts string values by Unicode code point
   * (PostgreSQL: COLLATE "C"; MySQL: binary; SQLite: already binary). Non-string columns unchanged.
   */
  ordered(column: ColumnSchema): Sql;
  /**
   * Case-folded (Unicode-aware, like JavaScript's toLowerCase) column expression that compares by
   * code point; the other side is a value lowered in JavaScript.
   */
  lower(expr: Sql): Sql;
  /**
   * Optional: the encoded value as it must stand opposite `ordered(column)` in comparisons and keyset
   * cursors, for an engine whose `ordered()` transforms the column (SQLite compares decimals stored
   * as text through an exact sort key). Without it the encoded value is bound as is.
   */
  orderedValue?(column: ColumnSchema, encoded: unknown): Sql;
  /** Equality that is exact (case, accents and trailing spaces count) on string columns. */
  exactEquals(column: ColumnSchema, value: unknown): Sql;
  /**
   * Optional: "column equals one of `values`" as one expression, for engines where a long OR of
   * equalities is slow (PostgreSQL: `= any($1)` with a single array parameter). `values` are wire
   * values, already case-folded when `caseInsensitive`. Without it the compiler writes ORs / IN.
   */
  anyOf?(column: ColumnSchema, values: unknown[], caseInsensitive: boolean): Sql;
  /** Literal substring/prefix/suffix match of `value` (already case-folded when `caseInsensitive`). */
  pattern(expr: Sql, value: string, kind: PatternKind, caseInsensitive: boolean): Sql;
  /**
   * ORDER BY term with NULL first ascending and last descending. `column`, when given, lets an
   * engine leave out a NULLS clause that a NOT NULL column does not need (and that would keep
   * PostgreSQL from reading a default index in order).
   */
  orderTerm(expr: Sql, dir: SortDirection, column?: ColumnSchema): Sql;
  /** `ON CONFLICT ... DO UPDATE` / `ON DUPLICATE KEY UPDATE` clause for an upsert. */
  upsertClause(columns: string[], conflictColumns: string[]): Sql;

  /** Wire value -> driver parameter. */
  encode(column: ColumnSchema, value: unknown): unknown;
  /** Driver value -> wire value. */
  decode(column: ColumnSchema, value: unknown): unknown;
  /** A driver error -> a BraidError naming what failed, with the query kept for the logs. */
  translateError(err: unknown, query: string, params: readonly unknown[]): BraidError;

  /** Native column type for a portable column definition (DDL). */
  columnType(column: ColumnDefinition): string;
  /** The clause that makes an integer column database-generated. */
  autoIncrementColumn(column: ColumnDefinition): string;
  /**
   * Optional: the DDL default for a coerced literal, for engines that store a type in another form
   * than its wire value (SQLite: datetimes, decimals, binary). Without it the literal is written as is.
   */
  defaultLiteral?(column: ColumnDefinition, value: string | number | boolean): Sql;
}
