/**
 * The portable schema: one vocabulary for the tables of every engine. Each connector maps its
 * native types to these and back; DDL for a target is generated from them.
 */
export const PORTABLE_TYPES = [
  'string',
  'text',
  'integer',
  'bigint',
  'decimal',
  'float',
  'boolean',
  'date',
  'time',
  'datetime',
  'datetimetz',
  'json',
  'uuid',
  'binary',
  'enum',
] as const;

/**
 * `datetime` is a wall-clock timestamp without zone (`2024-05-01T10:00:00`); `datetimetz` is an
 * instant, always answered in UTC (`2024-05-01T08:00:00Z`).
 */
export type PortableType = (typeof PORTABLE_TYPES)[number];

export interface ColumnSchema {
  name: string;
  type: PortableType;
  /** The engine's own type as it declares it, e.g. `character varying(80)` or `tinyint(1)`. */
  nativeType: string;
  nullable: boolean;
  /** The default as the engine shows it (an expression), or null. */
  defaultValue: string | null;
  /** Filled by the database on insert (serial, identity, AUTO_INCREMENT, INTEGER PRIMARY KEY). */
  autoIncrement: boolean;
  /** Computed by the database; never written by Braid. */
  generated: boolean;
  maxLength?: number;
  precision?: number;
  scale?: number;
  /** Allowed values of an `enum` column, in declaration order. */
  enumValues?: string[];
}

export interface ForeignKeySchema {
  name: string;
  columns: string[];
  referencedSchema: string | null;
  referencedTable: string;
  referencedColumns: string[];
  onUpdate?: string;
  onDelete?: string;
}

export interface UniqueIndexSchema {
  name: string;
  columns: string[];
}

export interface TableSchema {
  /** PostgreSQL schema; null for engines with one namespace per connection (MySQL database, SQLite). */
  schema: string | null;
  name: string;
  kind: 'table' | 'view';
  columns: ColumnSchema[];
  /** Column names in key order; empty when the table has none. */
  primaryKey: string[];
  foreignKeys: ForeignKeySchema[];
  uniqueIndexes: UniqueIndexSchema[];
}

export interface DatabaseSchema {
  tables: TableSchema[];
  /** ISO 8601 instant of the introspection. */
  introspectedAt: string;
}

/** A table definition to create (built-in tables, consolidation targets). */
export interface TableDefinition {
  schema?: string | null;
  name: string;
  columns: ColumnDefinition[];
  primaryKey?: string[];
  uniqueIndexes?: UniqueIndexSchema[];
}

export interface ColumnDefinition {
  name: string;
  type: PortableType;
  nullable?: boolean;
  /** Database-generated integer key. */
  autoIncrement?: boolean;
  maxLength?: number;
  precision?: number;
  scale?: number;
  enumValues?: string[];
  /** A literal default value in wire format (not an SQL expression). */
  defaultValue?: unknown;
}

/** Changes applied by `alterTable`, in order. */
export type AlterTableChange =
  | { op: 'addColumn'; column: ColumnDefinition }
  | { op: 'dropColumn'; name: string }
  | { op: 'renameColumn'; from: string; to: string };

/** The name a person uses for a table: `name` in the default schema, else `schema.name`. */
export function qualifiedName(
  table: Pick<TableSchema, 'schema' | 'name'>,
  defaultSchema: string | null,
): string {
  return table.schema === null || table.schema === defaultSchema
    ? table.name
    : `${table.schema}.${table.name}`;
}

export function findColumn(table: TableSchema, name: string): ColumnSchema | undefined {
  return table.columns.find((c) => c.name === name);
}

/**
 * A column schema with the defaults of a plain nullable column (no default, not generated), the
 * native type named after the portable one unless `extra` says otherwise. For columns that exist
 * only in a definition (a table still to be created) and for tests.
 */
export function plainColumn(
  name: string,
  type: PortableType,
  extra: Partial<ColumnSchema> = {},
): ColumnSchema {
  return {
    name,
    type,
    nativeType: type,
    nullable: true,
    defaultValue: null,
    autoIncrement: false,
    generated: false,
    ...extra,
  };
}
