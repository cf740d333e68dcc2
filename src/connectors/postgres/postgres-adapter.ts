import { sql } from 'kysely';
import type { BraidError } from '../../model/errors.js';
import type { SortDirection } from '../../model/query.js';
import type { ColumnDefinition, ColumnSchema, TableSchema } from '../../model/schema.js';
import type { DialectAdapter, PatternKind, Sql } from '../shared/dialect-adapter.js';
import { arrayParameter, bareNativeType, decodeValue, encodeValue } from './postgres-codec.js';
import { translatePostgresError, type TranslateContext } from './postgres-errors.js';
import { identityColumnType, nativeColumnType, quoteIdentifier } from './postgres-types.js';

/**
 * What the connector learned about the database's collations (see postgres-collation.ts). Until it
 * is known, the adapter assumes the worst (a linguistic default collation) and is still correct.
 */
export interface CollationState {
  /** The database's default collation orders strings by code point (C, POSIX, C.UTF-8...). */
  bytewiseDefault: boolean;
  /** Collation to case-fold with when the default LC_CTYPE only folds ASCII (e.g. `und-x-icu`). */
  foldCollation: string | null;
}

/** Collations whose order is the code-point order of UTF-8 text. */
export const BYTEWISE_COLLATIONS = new Set(['c', 'posix', 'ucs_basic', 'c.utf-8', 'c.utf8', 'pg_c_utf8']);

const PLAIN_STRING_TYPE = /^(text|character varying|character|name|"char")(\(\d+\))?$/;

type TextKind =
  /** Not a string: compare natively. */
  | { kind: 'none' }
  /** A collatable string type using the database default collation. */
  | { kind: 'default' }
  /** A string type declared with its own collation (shown in nativeType as ` collate "x"`). */
  | { kind: 'explicit'; bytewise: boolean }
  /** Enums, citext, domains, interval, inet...: compared through their text form. */
  | { kind: 'cast' };

function textKind(column: ColumnSchema): TextKind {
  if (column.type !== 'string' && column.type !== 'text' && column.type !== 'enum') return { kind: 'none' };
  const bare = bareNativeType(column);
  if (!PLAIN_STRING_TYPE.test(bare)) return { kind: 'cast' };
  const collation = / collate "?((?:[^"]|"")+)"?$/i.exec(column.nativeType)?.[1];
  if (!collation) return { kind: 'default' };
  return { kind: 'explicit', bytewise: BYTEWISE_COLLATIONS.has(collation.toLowerCase()) };
}

const C = sql.raw(' collate "C"');

/**
 * The PostgreSQL DialectAdapter.
 *
 * Code-point order: string columns are compared as `col COLLATE "C"` unless the database default
 * collation already is byte order (checked once per connector), because COLLATE "C" on a column
 * whose index uses the default collation prevents index scans for sorts and keyset pages.
 */
export class PostgresAdapter implements DialectAdapter {
  readonly kind = 'postgres' as const;
  readonly returning = true;
  /** A VALUES list answers RETURNING rows in list order; 1 000 rows keeps statements small. */
  readonly returningBatchRows = 1000;
  /** The protocol's Bind message counts parameters in an int16. */
  readonly maxParameters = 65_535;
  readonly placeholder = (index: number): string => `$${index}`;
  /** PostgreSQL refuses `default 1` for a boolean column. */
  readonly booleanLiterals = true;

  collation: CollationState = { bytewiseDefault: false, foldCollation: null };

  constructor(private readonly errors: TranslateContext) {}

  table(table: Pick<TableSchema, 'schema' | 'name'>): Sql {
    return table.schema ? sql.id(table.schema, table.name) : sql.id(table.name);
  }

  ordered(column: ColumnSchema): Sql {
    const id = sql.id(column.name);
    const t = textKind(column);
    switch (t.kind) {
      case 'none':
        return id;
      case 'default':
        return this.collation.bytewiseDefault ? id : sql`${id}${C}`;
      case 'explicit':
        return t.bytewise ? id : sql`${id}${C}`;
      case 'cast':
        return this.collation.bytewiseDefault ? sql`(${id})::text` : sql`(${id})::text${C}`;
    }
  }

  lower(expr: Sql): Sql {
    // The argument's collation is always set explicitly: a column's own collation may be
    // nondeterministic (accent-insensitive ICU), which lower() would pass on to the comparison.
    // COLLATE "default" on a default-collation column is folded away by the planner, so an index
    // on lower(col) stays usable in byte-order databases.
    const fold = this.collation.foldCollation;
    const folded = sql`lower((${expr})::text collate ${sql.raw(quoteIdentifier(fold ?? 'default'))})`;
    return this.collation.bytewiseDefault && !fold ? folded : sql`${folded}${C}`;
  }

  exactEquals(column: ColumnSchema, value: unknown): Sql {
    const id = sql.id(column.name);
    const param = encodeValue(column, value);
    const t = textKind(column);
    // Deterministic collations (every database default) compare equal only for identical bytes;
    // an explicit collation may be nondeterministic (case-insensitive ICU), and citext is.
    if (t.kind === 'explicit' && !t.bytewise) return sql`${id}${C} = ${param}`;
    if (t.kind === 'cast') return sql`(${id})::text = ${param}`;
    return sql`${id} = ${param}`;
  }

  /**
   * One array parameter instead of an OR per value: a 10 000-value list stays one cheap parameter
   * and PostgreSQL (14+) hashes it instead of comparing each row with every value.
   */
  anyOf(column: ColumnSchema, values: unknown[], caseInsensitive: boolean): Sql {
    const id = sql.id(column.name);
    if (caseInsensitive)
      return sql`${this.lower(id)} = any(${arrayParameter(column, values.map(String))}::text[])`;
    const list = arrayParameter(column, values);
    const t = textKind(column);
    if (t.kind === 'explicit' && !t.bytewise) return sql`${id}${C} = any(${list}::text[])`;
    if (t.kind === 'cast') return sql`(${id})::text = any(${list}::text[])`;
    // The parameter's type is inferred as an array of the column's type.
    return sql`${id} = any(${list})`;
  }

  pattern(expr: Sql, value: string, kind: PatternKind, _caseInsensitive: boolean): Sql {
    const escaped = value.replace(/[\\%_]/g, (c) => `\\${c}`);
    const like = kind === 'contains' ? `%${escaped}%` : kind === 'startsWith' ? `${escaped}%` : `%${escaped}`;
    // ::text makes enums and citext (whose LIKE ignores case) match as plain text; COLLATE "C"
    // because LIKE refuses nondeterministic collations. E'\\' is one backslash whatever
    // standard_conforming_strings says.
    return sql`(${expr})::text${C} like ${like} escape ${sql.raw("E'\\\\'")}`;
  }

  orderTerm(expr: Sql, dir: SortDirection, column?: ColumnSchema): Sql {
    // PostgreSQL's default is the opposite (NULLS LAST ascending), and a default btree index
    // cannot deliver NULLS FIRST ascending: on a NOT NULL column (every key) the clause is dropped
    // so keyset pages walk the index instead of sorting the table.
    if (column && !column.nullable) return dir === 'asc' ? sql`${expr} asc` : sql`${expr} desc`;
    return dir === 'asc' ? sql`${expr} asc nulls first` : sql`${expr} desc nulls last`;
  }

  upsertClause(columns: string[], conflictColumns: string[]): Sql {
    const updates = columns.filter((c) => !conflictColumns.includes(c));
    // DO NOTHING would answer no row for an existing key; a no-op assignment still returns it.
    const assigned = updates.length > 0 ? updates : conflictColumns.slice(0, 1);
    const set = sql.join(assigned.map((c) => sql`${sql.id(c)} = excluded.${sql.id(c)}`));
    return sql`on conflict (${sql.join(conflictColumns.map((c) => sql.id(c)))}) do update set ${set}`;
  }

  encode(column: ColumnSchema, value: unknown): unknown {
    return encodeValue(column, value);
  }

  decode(column: ColumnSchema, value: unknown): unknown {
    return decodeValue(column, value);
  }

  translateError(err: unknown, query: string, params: readonly unknown[]): BraidError {
    return translatePostgresError(err, query, params, this.errors);
  }

  columnType(column: ColumnDefinition): string {
    return nativeColumnType(column);
  }

  autoIncrementColumn(column: ColumnDefinition): string {
    return identityColumnType(column);
  }
}
