import { badRequest } from '../../model/errors.js';
import type { ColumnDefinition, PortableType } from '../../model/schema.js';

/**
 * Native PostgreSQL types <-> portable types. Reading maps from the catalog's base type (domains are
 * resolved to the type they constrain); writing (DDL) maps a portable definition to a native type.
 */

/** What the introspector knows about a column's type, from pg_type of the (domain's) base type. */
export interface NativeTypeInfo {
  /** pg_type.typname of the base type: `int4`, `varchar`, `_text` (arrays start with `_`). */
  baseType: string;
  /** pg_type.typtype: b base, e enum, c composite, r range, m multirange, p pseudo. */
  baseKind: string;
  /** pg_type.typcategory: `A` for arrays. */
  baseCategory: string;
  /** The type modifier (-1 when none). */
  typmod: number;
}

export interface PortableMapping {
  type: PortableType;
  maxLength?: number;
  precision?: number;
  scale?: number;
}

const SIMPLE: Record<string, PortableType> = {
  int2: 'integer',
  int4: 'integer',
  int8: 'bigint',
  oid: 'bigint',
  numeric: 'decimal',
  float4: 'float',
  float8: 'float',
  bool: 'boolean',
  text: 'text',
  citext: 'text',
  varchar: 'string',
  bpchar: 'string',
  name: 'string',
  char: 'string',
  bytea: 'binary',
  date: 'date',
  time: 'time',
  timetz: 'time',
  timestamp: 'datetime',
  timestamptz: 'datetimetz',
  json: 'json',
  jsonb: 'json',
  uuid: 'uuid',
};

/**
 * The portable type of a native one. Arrays become `json` (their nativeType, e.g. `text[]`, says
 * what they hold); enums become `enum`; every other type (interval, inet, money, xml, geometric,
 * range, composite...) becomes `text` and keeps its nativeType, so values still round-trip as text.
 */
export function portableType(info: NativeTypeInfo): PortableMapping {
  if (info.baseCategory === 'A') return { type: 'json' };
  if (info.baseKind === 'e') return { type: 'enum' };
  const type = SIMPLE[info.baseType] ?? 'text';
  const mod = info.typmod;
  switch (info.baseType) {
    case 'varchar':
    case 'bpchar':
      return mod >= 4 ? { type, maxLength: mod - 4 } : { type };
    case 'name':
      return { type, maxLength: 63 };
    case 'char':
      return { type, maxLength: 1 };
    case 'numeric': {
      if (mod < 4) return { type };
      // typmod = ((precision << 16) | scale) + 4; scale is a signed 11-bit value since PG 15.
      const precision = ((mod - 4) >> 16) & 0xffff;
      const rawScale = (mod - 4) & 0x7ff;
      return { type, precision, scale: rawScale > 1023 ? rawScale - 2048 : rawScale };
    }
    case 'float4':
      return { type, precision: 24 };
    case 'float8':
      return { type, precision: 53 };
    case 'time':
    case 'timetz':
    case 'timestamp':
    case 'timestamptz':
      // Fractional-second digits, so timestamp(3) survives a copy to another engine.
      return mod >= 0 ? { type, precision: mod } : { type };
    default:
      return { type };
  }
}

function positiveInt(
  value: number | undefined,
  what: string,
  column: ColumnDefinition,
  max: number,
): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw badRequest('invalid_type', `column "${column.name}": ${what} must be an integer from 0 to ${max}`, {
      field: column.name,
    });
  }
  return value;
}

/** `'it''s'`: a standard-conforming string literal (the server default since 9.1). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Native type for DDL. Enums become `text` with a CHECK constraint rather than a native enum type:
 * DDL here is per column, and a named type would need its own lifecycle (create before, drop after,
 * name collisions across tables); the introspector reads such a CHECK back as an `enum` column.
 */
export function nativeColumnType(column: ColumnDefinition): string {
  const fraction = (): string => {
    const p = positiveInt(column.precision, 'precision', column, 6);
    return p === undefined ? '' : `(${p})`;
  };
  switch (column.type) {
    case 'string': {
      const n = positiveInt(column.maxLength, 'maxLength', column, 10_485_760);
      return n ? `character varying(${n})` : 'character varying';
    }
    case 'text':
      return 'text';
    case 'integer':
      return 'integer';
    case 'bigint':
      return 'bigint';
    case 'decimal': {
      const p = positiveInt(column.precision, 'precision', column, 1000);
      if (!p) return 'numeric';
      const s = positiveInt(column.scale, 'scale', column, p) ?? 0;
      return `numeric(${p},${s})`;
    }
    case 'float':
      return column.precision !== undefined && column.precision <= 24 ? 'real' : 'double precision';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'time':
      return `time${fraction()} without time zone`;
    case 'datetime':
      return `timestamp${fraction()} without time zone`;
    case 'datetimetz':
      return `timestamp${fraction()} with time zone`;
    case 'json':
      return 'jsonb';
    case 'uuid':
      return 'uuid';
    case 'binary':
      return 'bytea';
    case 'enum': {
      const values = (column.enumValues ?? []).map((v) => quoteLiteral(String(v)));
      return `text check (${quoteIdentifier(column.name)} in (${values.join(', ')}))`;
    }
    default:
      throw badRequest('invalid_type', `column "${column.name}": unknown type "${String(column.type)}"`);
  }
}

/** An identity column (SQL standard, PG 10+); BY DEFAULT so copied rows may keep their ids. */
export function identityColumnType(column: ColumnDefinition): string {
  const base = column.type === 'bigint' ? 'bigint' : 'integer';
  return `${base} generated by default as identity primary key`;
}
