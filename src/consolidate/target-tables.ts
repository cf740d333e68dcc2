import { BraidError, badRequest } from '../model/errors.js';
import {
  plainColumn,
  type ColumnDefinition,
  type ColumnSchema,
  type TableDefinition as CreateDefinition,
  type TableSchema,
} from '../model/schema.js';
import type { InputDefinition, TableDefinition } from './consolidation-definition.js';

/** A table of the master as the job sees it: its schema (real or to be created) and its key. */
export interface TargetTable {
  def: TableDefinition;
  schema: TableSchema;
  /** Set when the table does not exist yet and the job creates it. */
  create: CreateDefinition | null;
  /** Columns that identify a target row (generated key, or the mapped primary key). */
  keyColumns: string[];
  /** Where a value's type narrows on the way (bigint into integer, text into varchar(80), ...). */
  narrowing: string[];
}

const WIDTH: Record<string, number> = { integer: 1, bigint: 2, decimal: 3, float: 3 };

/** Why moving a `from` column into `to` may lose something, or null when it cannot. */
export function typeNarrowing(from: ColumnSchema, to: ColumnSchema): string | null {
  const where = `${from.name} (${from.nativeType || from.type}) -> ${to.name} (${to.nativeType || to.type})`;
  if (from.type === to.type) {
    if (to.maxLength !== undefined && (from.maxLength === undefined || from.maxLength > to.maxLength))
      return `${where}: values longer than ${to.maxLength} characters will be rejected`;
    if (to.type === 'decimal' && to.precision !== undefined) {
      const fromInt = (from.precision ?? 1000) - (from.scale ?? 0);
      if (fromInt > to.precision - (to.scale ?? 0) || (from.scale ?? 1000) > (to.scale ?? 0))
        return `${where}: decimal(${to.precision},${to.scale ?? 0}) holds fewer digits`;
    }
    return null;
  }
  if (WIDTH[from.type] !== undefined && WIDTH[to.type] !== undefined && WIDTH[from.type]! > WIDTH[to.type]!)
    return `${where}: ${from.type} into ${to.type}, larger values will be rejected`;
  if (from.type === 'datetimetz' && to.type === 'datetime')
    return `${where}: the time zone is dropped (instants are stored as UTC wall-clock times)`;
  if (from.type === 'text' && to.type === 'string')
    return `${where}: text into ${to.maxLength ? `string(${to.maxLength})` : 'string'}`;
  if (to.type !== 'string' && to.type !== 'text' && to.type !== 'json')
    return `${where}: ${from.type} values are parsed as ${to.type}; values that do not parse are rejected`;
  return null;
}

/** A column schema for a column that exists only in a definition (plans before creation). */
export function schemaOfDefinition(column: ColumnDefinition): ColumnSchema {
  return plainColumn(column.name, column.type, {
    nativeType: '',
    nullable: column.nullable ?? true,
    defaultValue: column.defaultValue === undefined ? null : String(column.defaultValue),
    autoIncrement: column.autoIncrement ?? false,
    ...(column.maxLength !== undefined ? { maxLength: column.maxLength } : {}),
    ...(column.precision !== undefined ? { precision: column.precision } : {}),
    ...(column.scale !== undefined ? { scale: column.scale } : {}),
    ...(column.enumValues ? { enumValues: column.enumValues } : {}),
  });
}

export interface InputColumns {
  input: InputDefinition;
  /** The input table's columns; null for CSV inputs (every value is text). */
  columns: ColumnSchema[] | null;
}

/**
 * Resolves a table of the definition against the target source: the existing table (every mapped
 * column must exist in it), or the definition of the one to create, with column types given or
 * derived from the inputs' columns.
 */
export function resolveTargetTable(
  def: TableDefinition,
  existing: TableSchema | undefined,
  inputs: InputColumns[],
  location: { schema: string | null; name: string },
): TargetTable {
  const mapped = [...new Set(def.inputs.flatMap((i) => Object.keys(i.columns)))];
  let schema: TableSchema;
  let create: CreateDefinition | null = null;
  if (existing) {
    schema = existing;
  } else {
    if (def.create === false) {
      throw badRequest(
        'unknown_table',
        `target table "${def.table}" does not exist: create it first or set create: true`,
        { table: def.table },
      );
    }
    create = createDefinition(def, mapped, inputs, location);
    schema = {
      schema: location.schema,
      name: location.name,
      kind: 'table',
      columns: create.columns.map(schemaOfDefinition),
      primaryKey: create.primaryKey ?? [],
      foreignKeys: [],
      uniqueIndexes: [],
    };
  }
  for (const column of mapped) {
    const found = schema.columns.find((c) => c.name === column);
    if (!found)
      throw badRequest('unknown_field', `target table "${def.table}" has no column "${column}"`, {
        table: def.table,
        field: column,
      });
    if (found.generated)
      throw badRequest(
        'read_only_field',
        `column "${column}" of "${def.table}" is computed by the database`,
        {
          field: column,
        },
      );
  }
  const keyColumns = def.key ? [def.key.column] : schema.primaryKey;
  if (def.key && !schema.columns.some((c) => c.name === def.key!.column))
    throw badRequest('unknown_field', `key column "${def.key.column}" is not in "${def.table}"`, {
      field: def.key.column,
    });
  if (keyColumns.length === 0)
    throw badRequest('no_primary_key', `target "${def.table}" needs a key: set key: {column, generate}`, {
      table: def.table,
    });
  for (const column of keyColumns) {
    if (!def.key && !mapped.includes(column))
      throw badRequest(
        'unmapped_key',
        `key column "${column}" of "${def.table}" is neither mapped nor generated: map it or set key: {column: ${column}, generate: sequence}`,
        { field: column },
      );
  }
  const narrowing: string[] = [];
  for (const { input, columns } of inputs) {
    for (const [target, spec] of Object.entries(input.columns)) {
      const from = spec.from && !spec.transform ? columns?.find((c) => c.name === spec.from) : undefined;
      const to = schema.columns.find((c) => c.name === target);
      const note = from && to ? typeNarrowing(from, to) : null;
      if (note) narrowing.push(`${input.name}: ${note}`);
    }
  }
  return { def, schema, create, keyColumns, narrowing };
}

function createDefinition(
  def: TableDefinition,
  mapped: string[],
  inputs: InputColumns[],
  location: { schema: string | null; name: string },
): CreateDefinition {
  if (def.create !== true && def.create !== false) {
    return {
      ...location,
      columns: def.create.columns,
      primaryKey: def.create.primaryKey ?? (def.key ? [def.key.column] : []),
    };
  }
  const columns: ColumnDefinition[] = [];
  if (def.key)
    columns.push({
      name: def.key.column,
      type: def.key.generate === 'uuid' ? 'uuid' : 'bigint',
      nullable: false,
    });
  for (const name of mapped) {
    if (name === def.key?.column) continue;
    columns.push({ ...derivedColumn(def.table, name, inputs), name, nullable: true });
  }
  return { ...location, columns, primaryKey: def.key ? [def.key.column] : [] };
}

/** The type a created column gets: declared, else the inputs' source type when they agree. */
function derivedColumn(table: string, name: string, inputs: InputColumns[]): Omit<ColumnDefinition, 'name'> {
  const candidates: ColumnSchema[] = [];
  // A transform may change the type: its source column is only a hint, used when nothing better is known.
  const hints: ColumnSchema[] = [];
  for (const { input, columns } of inputs) {
    const spec = input.columns[name];
    if (!spec) continue;
    if (spec.type) return { type: spec.type };
    if ('constant' in spec || !spec.from) continue;
    const column = columns?.find((c) => c.name === spec.from);
    if (columns && !column)
      throw badRequest('unknown_field', `input "${input.name}" has no column "${spec.from}"`, {
        input: input.name,
        field: spec.from,
      });
    (spec.transform ? hints : candidates).push(column ?? textColumn(spec.from));
  }
  if (candidates.length === 0) candidates.push(...hints);
  if (candidates.length === 0)
    throw new BraidError(
      400,
      'type_required',
      `${table}.${name} is only computed by transforms: give it a type`,
      {
        field: name,
      },
    );
  const types = new Set(candidates.map((c) => c.type));
  if (types.size === 1) {
    const first = candidates[0]!;
    const maxLength = Math.max(...candidates.map((c) => c.maxLength ?? 0));
    return {
      type: first.type,
      ...(maxLength > 0 && candidates.every((c) => c.maxLength !== undefined) ? { maxLength } : {}),
      ...(first.precision !== undefined
        ? { precision: Math.max(...candidates.map((c) => c.precision ?? 0)) }
        : {}),
      ...(first.scale !== undefined ? { scale: Math.max(...candidates.map((c) => c.scale ?? 0)) } : {}),
      ...(first.enumValues
        ? { enumValues: [...new Set(candidates.flatMap((c) => c.enumValues ?? []))] }
        : {}),
    };
  }
  if ([...types].every((t) => t === 'string' || t === 'text' || t === 'enum' || t === 'uuid'))
    return { type: types.has('text') ? 'text' : 'string' };
  throw badRequest(
    'type_required',
    `${table}.${name} comes from columns of different types (${[...types].join(', ')}): give it a type`,
    { field: name, types: [...types] },
  );
}

function textColumn(name: string): ColumnSchema {
  return plainColumn(name, 'text', { nativeType: 'csv' });
}

/** Where the engine stores a created column's type differently from the portable type asked for. */
export function storageNotes(target: TargetTable, created: TableSchema): string[] {
  const notes: string[] = [];
  for (const wanted of target.create?.columns ?? []) {
    const got = created.columns.find((c) => c.name === wanted.name);
    if (got && got.type !== wanted.type)
      notes.push(
        `${created.name}.${wanted.name}: ${wanted.type} is stored as ${got.nativeType} (reads back as ${got.type})`,
      );
  }
  return notes;
}
