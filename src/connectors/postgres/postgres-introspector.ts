import { sql, type Kysely } from 'kysely';
import type { ColumnSchema, DatabaseSchema, ForeignKeySchema, TableSchema } from '../../model/schema.js';
import { enumValuesFromCheck } from './postgres-check-enum.js';
import { portableType } from './postgres-types.js';

/**
 * Reads every table and view of the chosen schemas with four catalog queries for the whole
 * database (columns, enum labels, indexes, constraints), run in parallel, never one per table:
 * 2 000 tables take a few hundred milliseconds. information_schema is avoided on purpose: its views
 * check privileges row by row and are an order of magnitude slower on big catalogs.
 *
 * Left out: partitions (their parent is listed), partial and expression unique indexes (not a
 * uniqueness of plain columns), and system schemas (pg_*, information_schema).
 */

interface ColumnRow {
  relid: string;
  schema: string;
  table: string;
  relkind: string;
  name: string;
  native_type: string;
  not_null: boolean;
  identity: string;
  generated: string;
  default_expr: string | null;
  base_type: string;
  base_kind: string;
  base_category: string;
  base_oid: string;
  typmod: number;
  collation: string | null;
}

interface IndexRow {
  relid: string;
  name: string;
  primary: boolean;
  columns: string[];
}

interface ConstraintRow {
  relid: string;
  name: string;
  type: 'f' | 'c';
  columns: string[];
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[] | null;
  on_update: string;
  on_delete: string;
  check_def: string | null;
}

const FK_ACTIONS: Record<string, string> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

export class PostgresIntrospector {
  constructor(
    private readonly db: Kysely<any>,
    /** Schemas to read; undefined = every non-system schema. */
    private readonly schemas: readonly string[] | undefined,
  ) {}

  /** `n` is the alias of pg_namespace in each query. */
  private schemaFilter() {
    return this.schemas
      ? sql`n.nspname = any(${[...this.schemas]}::text[])`
      : sql`n.nspname <> 'information_schema' and left(n.nspname, 3) <> 'pg_'`;
  }

  async introspect(): Promise<DatabaseSchema> {
    const [columns, enums, indexes, constraints] = await Promise.all([
      this.columns(),
      this.enumLabels(),
      this.indexes(),
      this.constraints(),
    ]);
    const tables = new Map<string, TableSchema>();
    const columnsById = new Map<string, ColumnSchema>();
    for (const row of columns) {
      let table = tables.get(row.relid);
      if (!table) {
        table = {
          schema: row.schema,
          name: row.table,
          kind: row.relkind === 'v' || row.relkind === 'm' ? 'view' : 'table',
          columns: [],
          primaryKey: [],
          foreignKeys: [],
          uniqueIndexes: [],
        };
        tables.set(row.relid, table);
      }
      const column = toColumn(row, enums);
      table.columns.push(column);
      columnsById.set(`${row.relid}.${row.name}`, column);
    }
    for (const index of indexes) {
      const table = tables.get(index.relid);
      if (!table) continue;
      if (index.primary) table.primaryKey = index.columns;
      else table.uniqueIndexes.push({ name: index.name, columns: index.columns });
    }
    for (const con of constraints) {
      const table = tables.get(con.relid);
      if (!table) continue;
      if (con.type === 'f') table.foreignKeys.push(toForeignKey(con));
      else if (con.check_def && con.columns.length === 1)
        applyCheckEnum(columnsById.get(`${con.relid}.${con.columns[0]}`), con.check_def);
    }
    return { tables: [...tables.values()], introspectedAt: new Date().toISOString() };
  }

  private async columns(): Promise<ColumnRow[]> {
    const { rows } = await sql<ColumnRow>`
      select c.oid::int8 as relid, n.nspname as schema, c.relname as table, c.relkind,
             a.attname as name, format_type(a.atttypid, a.atttypmod) as native_type,
             a.attnotnull or t.typnotnull as not_null, a.attidentity as identity, a.attgenerated as generated,
             case when a.attgenerated = '' then pg_get_expr(d.adbin, d.adrelid) end as default_expr,
             b.typname as base_type, b.typtype as base_kind, b.typcategory as base_category, b.oid::int8 as base_oid,
             case when a.atttypmod >= 0 or t.typtype <> 'd' then a.atttypmod else t.typtypmod end as typmod,
             case when a.attcollation <> 0 and a.attcollation <> t.typcollation then co.collname end as collation
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      join pg_type t on t.oid = a.atttypid
      join pg_type b on b.oid = case when t.typtype = 'd' then t.typbasetype else t.oid end
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      left join pg_collation co on co.oid = a.attcollation
      where c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition and ${this.schemaFilter()}
      order by n.nspname, c.relname, a.attnum`.execute(this.db);
    return rows;
  }

  private async enumLabels(): Promise<Map<string, string[]>> {
    const { rows } = await sql<{ type: string; labels: string[] }>`
      select enumtypid::int8 as type, array_agg(enumlabel::text order by enumsortorder) as labels
      from pg_enum group by enumtypid`.execute(this.db);
    return new Map(rows.map((r) => [r.type, r.labels]));
  }

  private async indexes(): Promise<IndexRow[]> {
    // indkey lists key columns first, then INCLUDE columns (indnkeyatts of them are keys);
    // a 0 in indkey is an expression.
    const { rows } = await sql<IndexRow>`
      select i.indrelid::int8 as relid, ic.relname as name, i.indisprimary as primary,
             array(select a.attname::text from unnest(i.indkey::int2[]) with ordinality k(num, pos)
                   join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.num
                   where k.pos <= i.indnkeyatts order by k.pos) as columns
      from pg_index i
      join pg_class c on c.oid = i.indrelid
      join pg_namespace n on n.oid = c.relnamespace
      join pg_class ic on ic.oid = i.indexrelid
      where i.indisunique and i.indisvalid and i.indpred is null and not (0 = any(i.indkey::int2[]))
        and ${this.schemaFilter()}
      order by ic.relname`.execute(this.db);
    return rows;
  }

  private async constraints(): Promise<ConstraintRow[]> {
    const { rows } = await sql<ConstraintRow>`
      select con.conrelid::int8 as relid, con.conname as name, con.contype as type,
             array(select a.attname::text from unnest(con.conkey) with ordinality k(num, pos)
                   join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num order by k.pos) as columns,
             fn.nspname as ref_schema, fc.relname as ref_table,
             array(select a.attname::text from unnest(con.confkey) with ordinality k(num, pos)
                   join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.num order by k.pos) as ref_columns,
             con.confupdtype as on_update, con.confdeltype as on_delete,
             case when con.contype = 'c' and cardinality(con.conkey) = 1 then pg_get_constraintdef(con.oid) end as check_def
      from pg_constraint con
      join pg_class c on c.oid = con.conrelid
      join pg_namespace n on n.oid = c.relnamespace
      left join pg_class fc on fc.oid = con.confrelid
      left join pg_namespace fn on fn.oid = fc.relnamespace
      where con.contype in ('f', 'c') and ${this.schemaFilter()}
      order by con.conname`.execute(this.db);
    return rows;
  }
}

function toColumn(row: ColumnRow, enums: Map<string, string[]>): ColumnSchema {
  const mapping = portableType({
    baseType: row.base_type,
    baseKind: row.base_kind,
    baseCategory: row.base_category,
    typmod: row.typmod,
  });
  const column: ColumnSchema = {
    name: row.name,
    type: mapping.type,
    // An explicit collation is part of how the column is declared, and the adapter needs it to
    // know whether comparisons are by code point.
    nativeType: row.collation
      ? `${row.native_type} collate "${row.collation.replace(/"/g, '""')}"`
      : row.native_type,
    nullable: !row.not_null,
    defaultValue: row.default_expr,
    autoIncrement: row.identity !== '' || /^nextval\(/i.test(row.default_expr ?? ''),
    generated: row.generated !== '',
  };
  if (mapping.maxLength !== undefined) column.maxLength = mapping.maxLength;
  if (mapping.precision !== undefined) column.precision = mapping.precision;
  if (mapping.scale !== undefined) column.scale = mapping.scale;
  if (mapping.type === 'enum') column.enumValues = enums.get(row.base_oid) ?? [];
  return column;
}

function toForeignKey(con: ConstraintRow): ForeignKeySchema {
  return {
    name: con.name,
    columns: con.columns,
    referencedSchema: con.ref_schema,
    referencedTable: con.ref_table ?? '',
    referencedColumns: con.ref_columns ?? [],
    onUpdate: FK_ACTIONS[con.on_update] ?? 'NO ACTION',
    onDelete: FK_ACTIONS[con.on_delete] ?? 'NO ACTION',
  };
}

/** A text column limited by CHECK to a list of values is an enum (Braid's DDL writes enums so). */
function applyCheckEnum(column: ColumnSchema | undefined, definition: string): void {
  if (!column || (column.type !== 'string' && column.type !== 'text')) return;
  const values = enumValuesFromCheck(definition, column.name);
  if (!values) return;
  column.type = 'enum';
  column.enumValues = values;
}
