import type { ColumnSchema } from '../../model/schema.js';
import { parseArrayLiteral, serializeArrayLiteral } from './postgres-array.js';
import { wireTimestamp, wireTimestamptz, wireTimetz } from './postgres-temporal.js';

/**
 * Wire values (model/values.ts) <-> what node-postgres sends and receives for a column. The pool's
 * type parsers already deliver near-wire values (see postgres-type-parsers.ts); decode finishes the
 * job per column (bytea -> base64, arrays of custom types, numbers from text) and is idempotent, so
 * it can be applied to values that are already wire values.
 */

/** The native type without a trailing ` collate "x"` (which the introspector appends), lower-cased. */
export function bareNativeType(column: Pick<ColumnSchema, 'nativeType'>): string {
  return column.nativeType.replace(/ collate .*$/i, '').toLowerCase();
}

export function isArrayColumn(column: ColumnSchema): boolean {
  return column.type === 'json' && bareNativeType(column).endsWith('[]');
}

function arrayElementType(column: ColumnSchema): string {
  return bareNativeType(column).replace(/(\[\])+$/, '');
}

function encodeArrayElement(elementType: string): (item: unknown) => string {
  if (elementType === 'bytea') {
    return (item) =>
      `\\x${(Buffer.isBuffer(item) ? item : Buffer.from(String(item), 'base64')).toString('hex')}`;
  }
  return (item) => {
    if (elementType === 'json' || elementType === 'jsonb') return JSON.stringify(item);
    if (typeof item === 'boolean') return item ? 't' : 'f';
    if (item !== null && typeof item === 'object') return JSON.stringify(item);
    return String(item);
  };
}

/**
 * Wire values of one column as a single array-literal parameter (for `= any($1)`), each element
 * in the text form the column's type reads.
 */
export function arrayParameter(column: ColumnSchema, values: unknown[]): string {
  return serializeArrayLiteral(
    values.map((v) => encodeValue(column, v)),
    (item) => {
      if (Buffer.isBuffer(item)) return `\\x${item.toString('hex')}`;
      if (typeof item === 'boolean') return item ? 't' : 'f';
      return typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item);
    },
    false,
  );
}

/** Wire value -> driver parameter (strings, numbers, booleans, Buffers or null). */
export function encodeValue(column: ColumnSchema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'binary':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : value;
    case 'json':
      if (isArrayColumn(column)) {
        // A string is taken as an array literal (`{a,b}`); node-postgres would otherwise turn a JS
        // array into a literal itself, but with its own element rules (Dates in local time).
        if (typeof value === 'string') return value;
        if (Array.isArray(value)) {
          const elementType = arrayElementType(column);
          const jsonElements = elementType === 'json' || elementType === 'jsonb';
          return serializeArrayLiteral(value, encodeArrayElement(elementType), !jsonElements);
        }
      }
      // Always text: node-postgres would send a JS array as a PostgreSQL array, not JSON.
      return JSON.stringify(value);
    default:
      return value;
  }
}

/** Driver value -> wire value. */
export function decodeValue(column: ColumnSchema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'bigint':
    case 'decimal':
      return String(value);
    case 'integer':
    case 'float':
      return typeof value === 'number' ? value : Number(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : value === 't' || value === 'true';
    case 'binary':
      if (Buffer.isBuffer(value)) return value.toString('base64');
      return typeof value === 'string' && value.startsWith('\\x')
        ? Buffer.from(value.slice(2), 'hex').toString('base64')
        : value;
    case 'datetime':
      return value instanceof Date ? value.toISOString().slice(0, -1) : wireTimestamp(String(value));
    case 'datetimetz':
      return value instanceof Date ? value.toISOString() : wireTimestamptz(String(value));
    case 'time':
      return bareNativeType(column).endsWith('with time zone') ? wireTimetz(String(value)) : String(value);
    case 'json':
      // Arrays of types without a registered parser (enums, domains) arrive as literal text.
      if (typeof value === 'string' && isArrayColumn(column)) return parseArrayLiteral(value, (raw) => raw);
      return value;
    default:
      if (typeof value === 'string') return value;
      if (Buffer.isBuffer(value)) return value.toString('base64');
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}
