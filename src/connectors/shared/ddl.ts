import { sql } from 'kysely';
import { badRequest } from '../../model/errors.js';
import {
  PORTABLE_TYPES,
  type AlterTableChange,
  type ColumnDefinition,
  type TableDefinition,
  type TableSchema,
} from '../../model/schema.js';
import { coerceValue } from '../../model/values.js';
import type { DialectAdapter, Sql } from './dialect-adapter.js';

/** CREATE TABLE from a portable definition, with native types chosen by the adapter. */
export function createTableSql(definition: TableDefinition, adapter: DialectAdapter): Sql {
  validateDefinition(definition);
  const columns = definition.columns.map((c) => columnSql(c, adapter, definition.primaryKey ?? []));
  const inlineKey = definition.columns.some((c) => c.autoIncrement);
  const constraints: Sql[] = [];
  if (definition.primaryKey?.length && !inlineKey) {
    constraints.push(sql`primary key (${sql.join(definition.primaryKey.map((c) => sql.id(c)))})`);
  }
  for (const unique of definition.uniqueIndexes ?? []) {
    constraints.push(
      sql`constraint ${sql.id(unique.name)} unique (${sql.join(unique.columns.map((c) => sql.id(c)))})`,
    );
  }
  const table = adapter.table({ schema: definition.schema ?? null, name: definition.name });
  return sql`create table ${table} (${sql.join([...columns, ...constraints])})`;
}

function columnSql(column: ColumnDefinition, adapter: DialectAdapter, primaryKey: string[]): Sql {
  if (column.autoIncrement)
    return sql`${sql.id(column.name)} ${sql.raw(adapter.autoIncrementColumn(column))}`;
  const parts: Sql[] = [sql`${sql.id(column.name)} ${sql.raw(adapter.columnType(column))}`];
  const nullable = column.nullable ?? !primaryKey.includes(column.name);
  if (!nullable) parts.push(sql`not null`);
  if (column.defaultValue !== undefined && column.defaultValue !== null) {
    const literal = literalDefault(column, adapter);
    parts.push(
      sql`default ${adapter.defaultLiteral ? adapter.defaultLiteral(column, literal) : sql.lit(literal)}`,
    );
  }
  return sql.join(parts, sql` `);
}

/** Defaults are literals in DDL (no bindings there), so they are coerced and kept to safe types. */
function literalDefault(column: ColumnDefinition, adapter: DialectAdapter): string | number | boolean {
  const schemaColumn = {
    name: column.name,
    type: column.type,
    nativeType: column.type,
    nullable: true,
    defaultValue: null,
    autoIncrement: false,
    generated: false,
    ...(column.enumValues ? { enumValues: column.enumValues } : {}),
  };
  const value = coerceValue(schemaColumn, column.defaultValue, `columns.${column.name}.defaultValue`);
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return adapter.booleanLiterals ? value : value ? 1 : 0;
  if (typeof value === 'string') return value;
  throw badRequest('invalid_default', `column "${column.name}": default must be a scalar`, {
    field: column.name,
  });
}

function validateDefinition(definition: TableDefinition): void {
  if (typeof definition.name !== 'string' || definition.name.trim() === '') {
    throw badRequest('invalid_table', 'table name is required');
  }
  if (!Array.isArray(definition.columns) || definition.columns.length === 0) {
    throw badRequest('invalid_table', `table "${definition.name}" needs at least one column`);
  }
  const names = new Set<string>();
  for (const column of definition.columns) {
    if (typeof column.name !== 'string' || column.name === '')
      throw badRequest('invalid_table', 'every column needs a name');
    if (names.has(column.name))
      throw badRequest('invalid_table', `column "${column.name}" is defined twice`, { field: column.name });
    names.add(column.name);
    if (!(PORTABLE_TYPES as readonly string[]).includes(column.type)) {
      throw badRequest('invalid_type', `column "${column.name}": unknown type "${column.type}"`, {
        field: column.name,
        allowed: PORTABLE_TYPES,
      });
    }
    if (column.type === 'enum' && !column.enumValues?.length) {
      throw badRequest('invalid_type', `column "${column.name}": enum needs enumValues`, {
        field: column.name,
      });
    }
    if (column.autoIncrement && column.type !== 'integer' && column.type !== 'bigint') {
      throw badRequest('invalid_type', `column "${column.name}": only integer columns can auto-increment`);
    }
  }
  for (const key of [
    ...(definition.primaryKey ?? []),
    ...(definition.uniqueIndexes ?? []).flatMap((u) => u.columns),
  ]) {
    if (!names.has(key))
      throw badRequest('unknown_field', `key column "${key}" is not defined`, { field: key });
  }
  const auto = definition.columns.filter((c) => c.autoIncrement);
  if (
    auto.length > 1 ||
    (auto.length === 1 &&
      JSON.stringify(definition.primaryKey ?? [auto[0]!.name]) !== JSON.stringify([auto[0]!.name]))
  ) {
    throw badRequest('invalid_table', 'an auto-increment column must be the whole primary key');
  }
}

export function alterTableSql(
  table: TableSchema,
  changes: AlterTableChange[],
  adapter: DialectAdapter,
): Sql[] {
  const target = adapter.table(table);
  return changes.map((change) => {
    switch (change.op) {
      case 'addColumn':
        return sql`alter table ${target} add column ${columnSql({ nullable: true, ...change.column }, adapter, [])}`;
      case 'dropColumn':
        requireColumn(table, change.name);
        return sql`alter table ${target} drop column ${sql.id(change.name)}`;
      case 'renameColumn':
        requireColumn(table, change.from);
        return sql`alter table ${target} rename column ${sql.id(change.from)} to ${sql.id(change.to)}`;
      default:
        throw badRequest(
          'invalid_change',
          `unknown alter operation ${JSON.stringify((change as { op: unknown }).op)}`,
        );
    }
  });
}

function requireColumn(table: TableSchema, name: string): void {
  if (!table.columns.some((c) => c.name === name)) {
    throw badRequest('unknown_field', `table "${table.name}" has no column "${name}"`, { field: name });
  }
}
