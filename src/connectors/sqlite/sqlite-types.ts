import { badRequest } from '../../model/errors.js';
import type { ColumnDefinition, PortableType } from '../../model/schema.js';

/**
 * SQLite has no column types, only *affinities* derived from the declared type name
 * (https://sqlite.org/datatype3.html §3.1). The affinity decides what SQLite does to a value on
 * write (NUMERIC turns the text '1.10' into the REAL 1.1), so the value codecs need it as much as
 * the portable type.
 */
export type Affinity = 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC';

/** A declared type read back as a portable type, with the size arguments it carried. */
export interface DeclaredType {
  type: PortableType;
  maxLength?: number;
  precision?: number;
  scale?: number;
}

/**
 * Declared type of decimals Braid creates: the `TEXT` in the name gives the column TEXT affinity,
 * so the canonical decimal string is stored as written instead of being rounded to a double.
 */
export const DECIMAL_TEXT = 'DECIMAL_TEXT';

const affinityCache = new Map<string, Affinity>();

/** SQLite's affinity rules, in their order of precedence. */
export function affinityOf(declared: string): Affinity {
  let affinity = affinityCache.get(declared);
  if (affinity) return affinity;
  const upper = declared.toUpperCase();
  if (upper.includes('INT')) affinity = 'INTEGER';
  else if (upper.includes('CHAR') || upper.includes('CLOB') || upper.includes('TEXT')) affinity = 'TEXT';
  else if (upper.includes('BLOB') || upper.trim() === '') affinity = 'BLOB';
  else if (upper.includes('REAL') || upper.includes('FLOA') || upper.includes('DOUB')) affinity = 'REAL';
  else affinity = 'NUMERIC';
  if (affinityCache.size < 1000) affinityCache.set(declared, affinity);
  return affinity;
}

/** Well-known type names (from SQLite, PostgreSQL and MySQL habits) -> portable type. */
const NAMED_TYPES: Record<string, PortableType> = {
  INTEGER: 'integer',
  INT: 'integer',
  TINYINT: 'integer',
  SMALLINT: 'integer',
  MEDIUMINT: 'integer',
  INT2: 'integer',
  INT4: 'integer',
  BIGINT: 'bigint',
  INT8: 'bigint',
  'UNSIGNED BIG INT': 'bigint',
  REAL: 'float',
  DOUBLE: 'float',
  'DOUBLE PRECISION': 'float',
  FLOAT: 'float',
  FLOAT4: 'float',
  FLOAT8: 'float',
  DECIMAL: 'decimal',
  NUMERIC: 'decimal',
  NUMBER: 'decimal',
  MONEY: 'decimal',
  [DECIMAL_TEXT]: 'decimal',
  BOOLEAN: 'boolean',
  BOOL: 'boolean',
  DATE: 'date',
  TIME: 'time',
  DATETIME: 'datetime',
  TIMESTAMP: 'datetime',
  'TIMESTAMP WITHOUT TIME ZONE': 'datetime',
  TIMESTAMPTZ: 'datetimetz',
  'TIMESTAMP WITH TIME ZONE': 'datetimetz',
  DATETIMETZ: 'datetimetz',
  JSON: 'json',
  JSONB: 'json',
  UUID: 'uuid',
  GUID: 'uuid',
  BLOB: 'binary',
  BYTEA: 'binary',
  BINARY: 'binary',
  VARBINARY: 'binary',
  TEXT: 'text',
  CLOB: 'text',
  TINYTEXT: 'text',
  MEDIUMTEXT: 'text',
  LONGTEXT: 'text',
  VARCHAR: 'string',
  CHAR: 'string',
  CHARACTER: 'string',
  NCHAR: 'string',
  NVARCHAR: 'string',
  'VARYING CHARACTER': 'string',
  'CHARACTER VARYING': 'string',
  'NATIVE CHARACTER': 'string',
  STRING: 'string',
};

const AFFINITY_TYPES: Record<Affinity, PortableType> = {
  INTEGER: 'integer',
  TEXT: 'text',
  BLOB: 'binary',
  REAL: 'float',
  NUMERIC: 'decimal',
};

const DECLARED_RE = /^\s*([^(]*?)\s*(?:\(\s*([+-]?\d+)\s*(?:,\s*([+-]?\d+)\s*)?\))?\s*$/;

/**
 * Maps a declared type to a portable type: known names first, then the affinity SQLite itself
 * would give the name (so `MYINT` is an integer, as SQLite treats it). No declared type is `text`.
 */
export function portableTypeOf(declared: string): DeclaredType {
  const m = DECLARED_RE.exec(declared);
  const name = (m?.[1] ?? declared).toUpperCase().replace(/\s+/g, ' ');
  if (name === '') return { type: 'text' };
  const type = NAMED_TYPES[name] ?? AFFINITY_TYPES[affinityOf(declared)];
  const first = m?.[2] !== undefined ? Number(m[2]) : undefined;
  const second = m?.[3] !== undefined ? Number(m[3]) : undefined;
  if (type === 'string' && first !== undefined) return { type, maxLength: first };
  if (type === 'decimal' && first !== undefined) {
    return { type, precision: first, ...(second !== undefined ? { scale: second } : { scale: 0 }) };
  }
  return { type };
}

function sizeArgument(
  column: ColumnDefinition,
  key: 'maxLength' | 'precision' | 'scale',
): number | undefined {
  const value = column[key];
  if (value === undefined || value === null) return undefined;
  // These numbers are written into DDL text, so anything but a small integer is refused.
  if (!Number.isInteger(value) || value < 0 || value > 1_000_000_000) {
    throw badRequest('invalid_type', `column "${column.name}": ${key} must be a non-negative integer`, {
      field: column.name,
      [key]: value,
    });
  }
  return value;
}

/** `"name"` with embedded quotes doubled: for DDL fragments built outside Kysely's `sql.id`. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * The declared type Braid writes for a portable column. Every name maps back to the same portable
 * type through `portableTypeOf`; decimals get TEXT affinity (see DECIMAL_TEXT) and enums are TEXT
 * with a CHECK constraint listing the values, which the introspector reads back.
 */
export function columnTypeSql(column: ColumnDefinition): string {
  switch (column.type) {
    case 'string': {
      const length = sizeArgument(column, 'maxLength');
      return length === undefined ? 'VARCHAR' : `VARCHAR(${length})`;
    }
    case 'text':
      return 'TEXT';
    case 'integer':
      return 'INTEGER';
    case 'bigint':
      return 'BIGINT';
    case 'decimal': {
      const precision = sizeArgument(column, 'precision');
      const scale = sizeArgument(column, 'scale');
      if (precision === undefined) return DECIMAL_TEXT;
      return `${DECIMAL_TEXT}(${precision},${scale ?? 0})`;
    }
    case 'float':
      return 'REAL';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'time':
      return 'TIME';
    case 'datetime':
      return 'DATETIME';
    case 'datetimetz':
      return 'TIMESTAMPTZ';
    case 'json':
      return 'JSON';
    case 'uuid':
      return 'UUID';
    case 'binary':
      return 'BLOB';
    case 'enum': {
      const values = column.enumValues ?? [];
      if (values.some((v) => typeof v !== 'string')) {
        throw badRequest('invalid_type', `column "${column.name}": enum values must be strings`, {
          field: column.name,
        });
      }
      return `TEXT CHECK (${quoteIdentifier(column.name)} IN (${values.map(quoteLiteral).join(', ')}))`;
    }
    default:
      throw badRequest('invalid_type', `column "${column.name}": unknown type "${String(column.type)}"`);
  }
}
