import { sql } from 'kysely';
import type {
  ColumnSchema,
  DatabaseSchema,
  ForeignKeySchema,
  TableSchema,
  UniqueIndexSchema,
} from '../../model/schema.js';
import type { Sql } from '../shared/dialect-adapter.js';
import { enumChecks, namedUniqueConstraints } from './sqlite-table-sql.js';
import { portableTypeOf } from './sqlite-types.js';

/** Runs one statement and answers its rows (the connector's `run`, errors translated). */
export type RowReader = <R>(query: Sql) => Promise<R[]>;

interface ColumnRow {
  tbl: string;
  kind: string;
  wr: number;
  tsql: string | null;
  cid: number;
  col: string;
  ctype: string;
  nn: number;
  dflt: string | null;
  pk: number;
  hidden: number;
}

interface ForeignKeyRow {
  tbl: string;
  id: number;
  seq: number;
  ref: string;
  col: string;
  refcol: string | null;
  on_update: string;
  on_delete: string;
}

interface IndexRow {
  tbl: string;
  idx: string;
  seqno: number;
  col: string | null;
}

/** User objects of the main schema; sqlite_* names are SQLite's own (sequence, stats, schema). */
const USER_OBJECTS = sql`t.schema = 'main' and t.type in ('table', 'view', 'virtual') and t.name not like 'sqlite\\_%' escape '\\'`;

function columnsQuery(only?: string): Sql {
  const filter = only === undefined ? sql`` : sql` and t.name = ${only}`;
  return sql`select t.name as tbl, t.type as kind, t.wr as wr, m.sql as tsql,
      c.cid as cid, c.name as col, c.type as ctype, c."notnull" as nn, c.dflt_value as dflt, c.pk as pk, c.hidden as hidden
    from pragma_table_list as t
    join main.sqlite_schema as m on m.name = t.name and m.type in ('table', 'view')
    join pragma_table_xinfo(t.name, 'main') as c
    where ${USER_OBJECTS}${filter}
    order by t.name, c.cid`;
}

const FOREIGN_KEYS = sql`select t.name as tbl, f.id as id, f.seq as seq, f."table" as ref, f."from" as col,
      f."to" as refcol, f.on_update as on_update, f.on_delete as on_delete
    from pragma_table_list as t
    join pragma_foreign_key_list(t.name, 'main') as f
    where ${USER_OBJECTS} and t.type = 'table'
    order by t.name, f.id, f.seq`;

// Partial unique indexes do not make the columns unique over the table, so they are left out.
const UNIQUE_INDEXES = sql`select t.name as tbl, il.name as idx, ii.seqno as seqno, ii.name as col
    from pragma_table_list as t
    join pragma_index_list(t.name, 'main') as il
    join pragma_index_info(il.name, 'main') as ii
    where ${USER_OBJECTS} and t.type = 'table' and il."unique" = 1 and il.partial = 0 and il.origin <> 'pk'
    order by t.name, il.seq, ii.seqno`;

/**
 * Reads the whole schema in three statements (pragma table-valued functions joined with the table
 * list), so thousands of tables cost milliseconds, not a round of pragmas per table.
 */
export async function introspectSqlite(read: RowReader): Promise<DatabaseSchema> {
  const columnRows = await readColumns(read);
  const [foreignKeyRows, indexRows] = await Promise.all([
    read<ForeignKeyRow>(FOREIGN_KEYS),
    read<IndexRow>(UNIQUE_INDEXES),
  ]);
  const tables = new Map<string, TableSchema>();
  const grouped = groupBy(columnRows, (r) => r.tbl);
  for (const [name, rows] of grouped) tables.set(name, buildTable(name, rows));
  for (const [name, rows] of groupBy(foreignKeyRows, (r) => r.tbl)) {
    const table = tables.get(name);
    if (table) table.foreignKeys = buildForeignKeys(name, rows, tables);
  }
  for (const [name, rows] of groupBy(indexRows, (r) => r.tbl)) {
    const table = tables.get(name);
    const createSql = grouped.get(name)?.[0]?.tsql ?? '';
    if (table) table.uniqueIndexes = buildUniqueIndexes(rows, createSql);
  }
  return { tables: [...tables.values()], introspectedAt: new Date().toISOString() };
}

/**
 * One statement for every column of every object. A view whose tables are gone (or a virtual table
 * whose module is not loaded) makes that statement fail as a whole; then each object is read on
 * its own and the broken ones are left out rather than failing the introspection.
 */
async function readColumns(read: RowReader): Promise<ColumnRow[]> {
  try {
    return await read<ColumnRow>(columnsQuery());
  } catch {
    const names = await read<{ name: string }>(
      sql`select t.name as name from pragma_table_list as t where ${USER_OBJECTS} order by t.name`,
    );
    const rows: ColumnRow[] = [];
    for (const { name } of names) {
      try {
        rows.push(...(await read<ColumnRow>(columnsQuery(name))));
      } catch {
        // Unreadable object (broken view, missing virtual table module): not offered.
      }
    }
    return rows;
  }
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}

function buildTable(name: string, rows: ColumnRow[]): TableSchema {
  const first = rows[0]!;
  const kind = first.kind === 'view' ? 'view' : 'table';
  // hidden: 0 normal, 1 hidden column of a virtual table, 2 virtual generated, 3 stored generated.
  const visible = rows.filter((r) => r.hidden !== 1);
  const keyColumns = visible.filter((r) => r.pk > 0).sort((a, b) => a.pk - b.pk);
  // Only a single-column key declared exactly INTEGER in a rowid table aliases the rowid.
  const rowidAlias =
    kind === 'table' &&
    first.wr === 0 &&
    keyColumns.length === 1 &&
    keyColumns[0]!.ctype.toUpperCase() === 'INTEGER'
      ? keyColumns[0]!.col
      : null;
  const enums = first.tsql && kind === 'table' ? enumChecks(first.tsql) : new Map<string, string[]>();
  const enumOf = (column: string): string[] | undefined => {
    for (const [name, values] of enums) if (name.toLowerCase() === column.toLowerCase()) return values;
    return undefined;
  };
  const columns = visible.map((r) => buildColumn(r, r.col === rowidAlias, enumOf(r.col)));
  return {
    schema: null,
    name,
    kind,
    columns,
    primaryKey: kind === 'table' ? keyColumns.map((r) => r.col) : [],
    foreignKeys: [],
    uniqueIndexes: [],
  };
}

function buildColumn(row: ColumnRow, rowidAlias: boolean, enumValues: string[] | undefined): ColumnSchema {
  const declared = portableTypeOf(row.ctype);
  const textual = declared.type === 'string' || declared.type === 'text';
  const column: ColumnSchema = {
    name: row.col,
    type: enumValues && textual ? 'enum' : declared.type,
    nativeType: row.ctype,
    // A rowid alias can never hold NULL (inserting NULL asks for a new id), whatever the pragma says.
    nullable: row.nn === 0 && !rowidAlias,
    defaultValue: row.dflt,
    autoIncrement: rowidAlias,
    generated: row.hidden === 2 || row.hidden === 3,
  };
  if (declared.maxLength !== undefined) column.maxLength = declared.maxLength;
  if (declared.precision !== undefined) column.precision = declared.precision;
  if (declared.scale !== undefined) column.scale = declared.scale;
  if (enumValues && textual) column.enumValues = enumValues;
  return column;
}

function buildForeignKeys(
  table: string,
  rows: ForeignKeyRow[],
  tables: Map<string, TableSchema>,
): ForeignKeySchema[] {
  return [...groupBy(rows, (r) => String(r.id)).values()].map((parts) => {
    const first = parts[0]!;
    // `REFERENCES parent` without columns means the parent's primary key.
    const parentKey = tables.get(first.ref)?.primaryKey ?? [];
    const fk: ForeignKeySchema = {
      name: `fk_${table}_${first.id}`,
      columns: parts.map((p) => p.col),
      referencedSchema: null,
      referencedTable: first.ref,
      referencedColumns: parts.map((p, i) => p.refcol ?? parentKey[i] ?? p.col),
    };
    if (first.on_update && first.on_update !== 'NO ACTION') fk.onUpdate = first.on_update;
    if (first.on_delete && first.on_delete !== 'NO ACTION') fk.onDelete = first.on_delete;
    return fk;
  });
}

function buildUniqueIndexes(rows: IndexRow[], createSql: string): UniqueIndexSchema[] {
  const names = namedUniqueConstraints(createSql);
  const indexes: UniqueIndexSchema[] = [];
  for (const [idx, parts] of groupBy(rows, (r) => r.idx)) {
    // An index on an expression has no column name for that part: it is no column-set uniqueness.
    if (parts.some((p) => p.col === null)) continue;
    const columns = parts.map((p) => p.col!);
    const constraintName = names.get(columns.map((c) => c.toLowerCase()).join('\u0000'));
    indexes.push({
      name: idx.startsWith('sqlite_autoindex_') && constraintName ? constraintName : idx,
      columns,
    });
  }
  return indexes;
}
