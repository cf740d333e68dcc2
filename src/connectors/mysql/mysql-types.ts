import type { ColumnSchema, PortableType } from '../../model/schema.js';
import { coerceValue } from '../../model/values.js';

/**
 * Native MySQL/MariaDB column types <-> portable types, and values between the wire format
 * (model/values.ts) and what mysql2 sends and receives with the options of mysql-config.ts.
 */

/** A column as information_schema.COLUMNS describes it. */
export interface NativeColumnType {
  /** DATA_TYPE, lower case: `int`, `varchar`, `longtext`... */
  dataType: string;
  /** COLUMN_TYPE: `int(10) unsigned`, `tinyint(1)`, `enum('a','b')`... */
  columnType: string;
  /** MariaDB stores JSON as LONGTEXT with a json_valid() CHECK: detected by the introspector. */
  jsonCheck: boolean;
  /** A DATETIME Braid created for UTC instants (marked by its column comment). */
  utcInstant?: boolean;
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'year']);
const TEXT_TYPES = new Set(['tinytext', 'text', 'mediumtext', 'longtext', 'long', 'long varchar']);
const BINARY_TYPES = new Set([
  'binary',
  'varbinary',
  'tinyblob',
  'blob',
  'mediumblob',
  'longblob',
  'long varbinary',
]);

export function portableType(native: NativeColumnType): PortableType {
  const dataType = native.dataType.toLowerCase();
  const columnType = native.columnType.toLowerCase();
  if (native.jsonCheck || dataType === 'json') return 'json';
  if (dataType === 'tinyint' && /^tinyint\(1\)/.test(columnType)) return 'boolean';
  if (dataType === 'bit') return /^bit\(1\)/.test(columnType) ? 'boolean' : 'binary';
  // INT UNSIGNED reaches 4 294 967 295, beyond the 32-bit range of the portable integer.
  if (dataType === 'int' || dataType === 'integer')
    return columnType.includes('unsigned') ? 'bigint' : 'integer';
  if (INTEGER_TYPES.has(dataType)) return 'integer';
  if (dataType === 'bigint') return 'bigint';
  if (dataType === 'decimal' || dataType === 'numeric') return 'decimal';
  if (dataType === 'float' || dataType === 'double' || dataType === 'real' || dataType === 'double precision')
    return 'float';
  if (
    dataType === 'char' ||
    dataType === 'varchar' ||
    dataType === 'set' ||
    dataType === 'inet4' ||
    dataType === 'inet6'
  )
    return 'string';
  if (TEXT_TYPES.has(dataType)) return 'text';
  if (dataType === 'enum') return 'enum';
  if (dataType === 'uuid') return 'uuid';
  if (dataType === 'date') return 'date';
  if (dataType === 'time') return 'time';
  if (dataType === 'datetime') return native.utcInstant ? 'datetimetz' : 'datetime';
  // TIMESTAMP is an instant: stored as UTC, shown in the session zone (UTC for Braid).
  if (dataType === 'timestamp') return 'datetimetz';
  if (BINARY_TYPES.has(dataType)) return 'binary';
  // Spatial and other exotic types: read as text (mysql2 parses geometry into objects).
  return 'text';
}

/** The values of `enum('a','it''s','back\\slash')` in declaration order. */
export function parseEnumValues(columnType: string): string[] {
  const open = columnType.indexOf('(');
  const values: string[] = [];
  let i = open + 1;
  while (open >= 0 && i < columnType.length) {
    if (columnType[i] !== "'") {
      i++;
      continue;
    }
    let value = '';
    i++;
    while (i < columnType.length) {
      const ch = columnType[i]!;
      if (ch === "'" && columnType[i + 1] === "'") {
        value += "'";
        i += 2;
      } else if (ch === "'") {
        i++;
        break;
      } else if (ch === '\\' && i + 1 < columnType.length) {
        value += columnType[i + 1]!;
        i += 2;
      } else {
        value += ch;
        i++;
      }
    }
    values.push(value);
  }
  return values;
}

/**
 * A DECIMAL or BIGINT value sent as an unquoted numeric literal. MySQL compares an integer or
 * decimal column with a quoted string as DOUBLE, so `id = '9223372036854775807'` could match its
 * neighbour; an exact literal compares exactly. Only digit strings are ever wrapped.
 */
export class SqlNumber {
  constructor(readonly text: string) {}
  toSqlString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
  toString(): string {
    return this.text;
  }
}

const PLAIN_NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const EXP_NUMBER_RE = /^([+-]?)(\d*)\.?(\d*)[eE]([+-]?\d+)$/;

/** `1.5e3` -> `1500`: exponent literals would be DOUBLE in MySQL, losing exactness. */
export function plainDecimal(text: string): string | null {
  const t = text.trim();
  if (PLAIN_NUMBER_RE.test(t)) return t;
  const m = EXP_NUMBER_RE.exec(t);
  if (!m || (m[2] === '' && m[3] === '')) return null;
  const [, sign, intPart, fracPart, expText] = m as unknown as [string, string, string, string, string];
  const exp = Number(expText);
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 100) return null;
  const digits = `${intPart}${fracPart}`;
  const point = intPart.length + exp;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = `${digits}${'0'.repeat(point - digits.length)}`;
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${sign === '-' ? '-' : ''}${out}`;
}

function toNumberLiteral(value: unknown): unknown {
  const text = typeof value === 'number' || typeof value === 'bigint' ? String(value) : value;
  if (typeof text !== 'string') return value;
  const plain = plainDecimal(text);
  return plain === null ? text : new SqlNumber(plain);
}

/** Wire value -> mysql2 parameter. */
export function encodeValue(column: ColumnSchema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'boolean':
      if (typeof value === 'boolean') return value ? 1 : 0;
      if (typeof value === 'string') return /^(true|1)$/i.test(value) ? 1 : 0;
      return Number(value) ? 1 : 0;
    case 'integer':
    case 'float':
      return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
        ? Number(value)
        : value;
    case 'bigint':
    case 'decimal':
      return toNumberLiteral(value);
    case 'datetime':
      return typeof value === 'string' ? value.replace('T', ' ') : value;
    case 'datetimetz':
      // Normalized to UTC by the model; the session zone is UTC, so the wall time is the instant.
      return String(coerceValue(column, value)).replace('T', ' ').replace(/Z$/, '');
    case 'json':
      return JSON.stringify(value);
    case 'binary':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
    default:
      return Buffer.isBuffer(value) ? value : String(value);
  }
}

/** mysql2 value -> wire value. */
export function decodeValue(column: ColumnSchema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'boolean':
      if (Buffer.isBuffer(value)) return value.some((b) => b !== 0);
      if (typeof value === 'string') return value !== '0' && value !== '';
      return Number(value) !== 0;
    case 'integer':
    case 'float':
      return typeof value === 'number' ? value : Number(value);
    case 'bigint':
    case 'decimal':
      return String(value);
    case 'time':
      return trimFraction(String(value));
    case 'datetime':
      return trimFraction(String(value).replace(' ', 'T'));
    case 'datetimetz':
      return `${trimFraction(String(value).replace(' ', 'T'))}Z`;
    case 'json':
      return decodeJson(value);
    case 'binary':
      return Buffer.isBuffer(value)
        ? value.toString('base64')
        : Buffer.from(String(value), 'utf8').toString('base64');
    case 'uuid':
      return String(value).toLowerCase();
    default:
      if (Buffer.isBuffer(value)) return value.toString('utf8');
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

/** `10:00:00.250000` -> `10:00:00.25`: the column's padding is not part of the value. */
function trimFraction(text: string): string {
  return text.replace(/\.(\d*?)0+$/, (_, kept: string) => (kept ? `.${kept}` : ''));
}

function decodeJson(value: unknown): unknown {
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON after all (a LONGTEXT whose check was dropped): keep the text rather than fail the read.
    return text;
  }
}
