import { sql, type RawBuilder } from 'kysely';
import type {
  ColumnSchema,
  DatabaseSchema,
  ForeignKeySchema,
  TableSchema,
  UniqueIndexSchema,
} from '../../model/schema.js';
import { DATETIMETZ_MARKER_RE } from './mysql-ddl.js';
import type { ServerInfo } from './mysql-session.js';
import { parseEnumValues, portableType } from './mysql-types.js';

type Run = <R>(query: RawBuilder<unknown>) => Promise<R[]>;

interface TableRow {
  table_name: string;
  table_type: string;
}
interface ColumnRow {
  table_name: string;
  column_name: string;
  column_default: string | null;
  is_nullable: string;
  data_type: string;
  column_type: string;
  character_maximum_length: string | number | null;
  numeric_precision: string | number | null;
  numeric_scale: string | number | null;
  datetime_precision: string | number | null;
  extra: string | null;
  column_comment: string | null;
}
interface IndexRow {
  table_name: string;
  index_name: string;
  column_name: string | null;
  sub_part: unknown;
}
interface ForeignKeyRow {
  table_name: string;
  constraint_name: string;
  column_name: string;
  referenced_table_schema: string;
  referenced_table_name: string;
  referenced_column_name: string;
}
interface RuleRow {
  table_name: string;
  constraint_name: string;
  update_rule: string;
  delete_rule: string;
}
interface CheckRow {
  table_name: string;
  check_clause: string;
}

/**
 * Reads the schema of one database with six information_schema queries for the whole database
 * (never one per table), run in parallel, and assembles the portable model in memory.
 * The database name is a bound literal, which lets MariaDB and MySQL skip other databases cheaply.
 * Foreign keys and their rules are read apart and joined here: the SQL join of the two views took
 * ten times longer on MariaDB (0.5 s for 2 000 tables). 2 000 tables: about 0.3 s in total.
 */
export async function introspectMysql(
  run: Run,
  database: string,
  server: ServerInfo,
): Promise<DatabaseSchema> {
  const introspectedAt = new Date().toISOString();
  const [tables, columns, indexes, foreignKeys, rules, jsonChecks] = await Promise.all([
    run<TableRow>(sql`select table_name as table_name, table_type as table_type
      from information_schema.tables where table_schema = ${database}`),
    run<ColumnRow>(sql`select table_name as table_name, column_name as column_name,
        column_default as column_default, is_nullable as is_nullable, data_type as data_type,
        column_type as column_type, character_maximum_length as character_maximum_length,
        numeric_precision as numeric_precision, numeric_scale as numeric_scale,
        datetime_precision as datetime_precision, extra as extra, column_comment as column_comment
      from information_schema.columns where table_schema = ${database}
      order by table_name, ordinal_position`),
    run<IndexRow>(sql`select table_name as table_name, index_name as index_name, column_name as column_name,
        sub_part as sub_part
      from information_schema.statistics where table_schema = ${database} and non_unique = 0
      order by table_name, index_name, seq_in_index`),
    run<ForeignKeyRow>(sql`select table_name as table_name, constraint_name as constraint_name,
        column_name as column_name, referenced_table_schema as referenced_table_schema,
        referenced_table_name as referenced_table_name, referenced_column_name as referenced_column_name
      from information_schema.key_column_usage
      where table_schema = ${database} and referenced_table_name is not null
      order by table_name, constraint_name, ordinal_position`),
    run<RuleRow>(sql`select table_name as table_name, constraint_name as constraint_name,
        update_rule as update_rule, delete_rule as delete_rule
      from information_schema.referential_constraints where constraint_schema = ${database}`),
    // MySQL has a native JSON type; MariaDB's JSON is LONGTEXT plus a json_valid() CHECK.
    server.flavor === 'mariadb'
      ? run<CheckRow>(sql`select table_name as table_name, check_clause as check_clause
          from information_schema.check_constraints
          where constraint_schema = ${database} and check_clause like 'json_valid(%'`)
      : Promise.resolve([] as CheckRow[]),
  ]);

  const jsonColumns = new Set<string>();
  for (const check of jsonChecks) {
    const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(check.check_clause.trim());
    if (m) jsonColumns.add(`${check.table_name}\u0000${m[1]!.replace(/``/g, '`')}`);
  }

  const byName = new Map<string, TableSchema>();
  for (const t of tables) {
    const kind = tableKind(t.table_type);
    if (!kind) continue;
    byName.set(t.table_name, {
      schema: null,
      name: t.table_name,
      kind,
      columns: [],
      primaryKey: [],
      foreignKeys: [],
      uniqueIndexes: [],
    });
  }
  for (const c of columns) {
    byName
      .get(c.table_name)
      ?.columns.push(toColumn(c, jsonColumns.has(`${c.table_name}\u0000${c.column_name}`), server));
  }
  addIndexes(byName, indexes);
  addForeignKeys(byName, foreignKeys, rules, database);
  const sorted = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { tables: sorted, introspectedAt };
}

function tableKind(type: string): TableSchema['kind'] | null {
  if (type === 'BASE TABLE' || type === 'SYSTEM VERSIONED') return 'table';
  if (type === 'VIEW') return 'view';
  return null; // sequences, system views
}

function toColumn(row: ColumnRow, jsonCheck: boolean, server: ServerInfo): ColumnSchema {
  const utcInstant = DATETIMETZ_MARKER_RE.test(row.column_comment ?? '');
  const type = portableType({ dataType: row.data_type, columnType: row.column_type, jsonCheck, utcInstant });
  const extra = (row.extra ?? '').toLowerCase();
  const column: ColumnSchema = {
    name: row.column_name,
    type,
    nativeType: row.column_type,
    nullable: row.is_nullable === 'YES',
    defaultValue: normalizeDefault(row, server),
    autoIncrement: extra.includes('auto_increment'),
    generated: /\b(virtual|stored|persistent) generated\b/.test(extra),
  };
  const maxLength = toNumber(row.character_maximum_length);
  if (maxLength !== undefined && (type === 'string' || (type === 'binary' && /binary/.test(row.data_type)))) {
    column.maxLength = maxLength;
  }
  if (type === 'decimal') {
    const precision = toNumber(row.numeric_precision);
    const scale = toNumber(row.numeric_scale);
    if (precision !== undefined) column.precision = precision;
    if (scale !== undefined) column.scale = scale;
  }
  if (type === 'time' || type === 'datetime' || type === 'datetimetz') {
    const fraction = toNumber(row.datetime_precision);
    if (fraction !== undefined) column.precision = fraction;
  }
  if (type === 'enum') column.enumValues = parseEnumValues(row.column_type);
  return column;
}

/**
 * Defaults as SQL expressions. MariaDB already shows them that way (`'abc'`, `1`,
 * `current_timestamp()`, and the text `NULL` for "no default"); MySQL shows literals unquoted and
 * marks expressions with DEFAULT_GENERATED, so its string literals are quoted here.
 */
function normalizeDefault(row: ColumnRow, server: ServerInfo): string | null {
  const value = row.column_default;
  if (value === null) return null;
  if (server.flavor === 'mariadb') return value === 'NULL' ? null : value;
  if ((row.extra ?? '').toUpperCase().includes('DEFAULT_GENERATED')) return value;
  if (
    /^(tinyint|smallint|mediumint|int|integer|bigint|decimal|numeric|float|double|real|bit|year)$/i.test(
      row.data_type,
    )
  ) {
    return value;
  }
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function addIndexes(byName: Map<string, TableSchema>, rows: IndexRow[]): void {
  const groups = new Map<
    string,
    { table: TableSchema; name: string; columns: (string | null)[]; prefix: boolean }
  >();
  for (const row of rows) {
    const table = byName.get(row.table_name);
    if (!table) continue;
    const id = `${row.table_name}\u0000${row.index_name}`;
    let group = groups.get(id);
    if (!group) {
      group = { table, name: row.index_name, columns: [], prefix: false };
      groups.set(id, group);
    }
    group.columns.push(row.column_name);
    if (row.sub_part !== null && row.sub_part !== undefined) group.prefix = true;
  }
  for (const group of groups.values()) {
    if (group.name === 'PRIMARY') {
      group.table.primaryKey = group.columns.filter((c): c is string => c !== null);
      continue;
    }
    // A unique index on an expression or on a prefix of a column does not make the column unique.
    if (group.prefix || group.columns.some((c) => c === null)) continue;
    const unique: UniqueIndexSchema = { name: group.name, columns: group.columns as string[] };
    group.table.uniqueIndexes.push(unique);
  }
}

function addForeignKeys(
  byName: Map<string, TableSchema>,
  rows: ForeignKeyRow[],
  rules: RuleRow[],
  database: string,
): void {
  const ruleOf = new Map(rules.map((r) => [`${r.table_name}\u0000${r.constraint_name}`, r]));
  const groups = new Map<string, { table: TableSchema; fk: ForeignKeySchema }>();
  for (const row of rows) {
    const table = byName.get(row.table_name);
    if (!table) continue;
    const id = `${row.table_name}\u0000${row.constraint_name}`;
    let group = groups.get(id);
    if (!group) {
      const rule = ruleOf.get(id);
      const fk: ForeignKeySchema = {
        name: row.constraint_name,
        columns: [],
        referencedSchema: row.referenced_table_schema === database ? null : row.referenced_table_schema,
        referencedTable: row.referenced_table_name,
        referencedColumns: [],
        ...(rule ? { onUpdate: rule.update_rule, onDelete: rule.delete_rule } : {}),
      };
      group = { table, fk };
      groups.set(id, group);
      table.foreignKeys.push(fk);
    }
    group.fk.columns.push(row.column_name);
    group.fk.referencedColumns.push(row.referenced_column_name);
  }
}

function toNumber(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}
