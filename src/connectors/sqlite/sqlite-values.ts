import { badRequest } from '../../model/errors.js';
import type { ColumnSchema } from '../../model/schema.js';
import { canonicalDecimal } from './sqlite-decimal.js';
import { decodeDateTime, encodeDateTime } from './sqlite-datetime.js';
import { affinityOf, portableTypeOf, type Affinity } from './sqlite-types.js';

/**
 * Wire values <-> values better-sqlite3 binds and returns. Statements run with safe integers, so
 * integers arrive as numbers when they fit in 2^53 and as bigint otherwise (see sqlite-dialect.ts).
 *
 * How each type is stored, and why:
 * - bigint: INTEGER storage, exact to 64 bits; answered as a string.
 * - decimal in a column Braid created (DECIMAL_TEXT, TEXT affinity): the canonical string (see
 *   sqlite-decimal.ts), compared and sorted through an exact key. In an existing NUMERIC/DECIMAL
 *   column SQLite itself turns the text into INTEGER or REAL when it is written (a REAL keeps about
 *   15 significant digits): Braid binds the canonical string, answers what SQLite kept (integers
 *   exactly, reals in their shortest spelling, padded to the declared scale) and compares natively.
 * - boolean: 0/1; 'true'/'false' written by other tools are read too.
 * - date, time: text as written; datetime, datetimetz: see sqlite-datetime.ts.
 * - json: JSON text, parsed on read; binary: BLOB, base64 on the wire; uuid: text (a 16-byte BLOB
 *   written by another tool is answered in the usual spelling).
 * - text in a column without TEXT affinity (no declared type, NUMERIC): exact spellings of numbers
 *   are bound as numbers, as SQLite would store them there, so decoded values find their rows again.
 *
 * The rule behind every branch: `encode(decode(x))` must compare equal to the stored x, because
 * keyset cursors, key lookups and upserts send decoded values back as parameters.
 */

interface ColumnFacts {
  affinity: Affinity;
  scale: number | undefined;
}

const facts = new WeakMap<ColumnSchema, ColumnFacts>();

export function columnFacts(column: ColumnSchema): ColumnFacts {
  let known = facts.get(column);
  if (!known) {
    const scale =
      column.scale ?? (column.type === 'decimal' ? portableTypeOf(column.nativeType).scale : undefined);
    known = { affinity: affinityOf(column.nativeType), scale };
    facts.set(column, known);
  }
  return known;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER_RE = /^-?(0|[1-9]\d*)$/;

/**
 * Text bound to a column without TEXT affinity: SQLite would store '42' as the integer 42 there (or
 * keeps the type the writer gave in an untyped column), so a string that is the exact spelling of a
 * number is bound as that number and finds the row that holds it.
 */
function numberIfExact(text: string): string | number | bigint {
  if (INTEGER_RE.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
    const big = BigInt(text);
    return big >= INT64_MIN && big <= INT64_MAX ? big : text;
  }
  const n = Number(text);
  return text !== '' && Number.isFinite(n) && String(n) === text ? n : text;
}

function integerParam(value: unknown): unknown {
  if (typeof value === 'string' && INTEGER_RE.test(value.trim())) {
    const big = BigInt(value.trim());
    return Number.isSafeInteger(Number(big)) ? Number(big) : big;
  }
  return value;
}

function binaryParam(column: ColumnSchema, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw badRequest('invalid_value', `"${column.name}" expects base64`, { field: column.name });
  }
  return Buffer.from(value, 'base64');
}

/** Wire value -> bound parameter. Booleans become 0/1: better-sqlite3 binds no booleans. */
export function encodeSqliteValue(column: ColumnSchema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'boolean':
      return typeof value === 'boolean' ? (value ? 1 : 0) : value;
    case 'integer':
    case 'bigint':
      return integerParam(value);
    case 'float':
      return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
        ? Number(value)
        : value;
    case 'decimal': {
      const text = typeof value === 'number' || typeof value === 'bigint' ? String(value) : value;
      if (typeof text !== 'string') return text;
      return canonicalDecimal(text, columnFacts(column).scale) ?? text;
    }
    case 'datetime':
    case 'datetimetz':
      return encodeDateTime(value);
    case 'json':
      if (typeof value === 'string' && column.nativeType.toLowerCase().includes('text')) return value;
      return JSON.stringify(value);
    case 'binary':
      return binaryParam(column, value);
    case 'string':
    case 'text':
    case 'enum':
    case 'uuid':
      if (typeof value === 'string' && columnFacts(column).affinity !== 'TEXT') return numberIfExact(value);
      return value;
    default:
      return value;
  }
}

function toText(value: unknown): unknown {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return value;
}

function uuidText(value: unknown): unknown {
  if (Buffer.isBuffer(value) && value.length === 16) {
    const hex = value.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return toText(value);
}

function decodeBoolean(value: unknown): unknown {
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'bigint') return value !== 0n;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
  }
  return value;
}

function decodeJson(value: unknown): unknown {
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  if (typeof text === 'bigint') return Number(text);
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A writer that stored text that is no JSON: answer it rather than fail the whole page.
    return text;
  }
}

/** Driver value -> wire value. */
export function decodeSqliteValue(column: ColumnSchema, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'string':
    case 'text':
    case 'enum':
    case 'date':
    case 'time':
      return toText(value);
    case 'uuid':
      return uuidText(value);
    case 'integer':
      return typeof value === 'bigint' ? value.toString() : value;
    case 'bigint':
      return typeof value === 'number' || typeof value === 'bigint' ? String(value) : toText(value);
    case 'float':
      if (typeof value === 'bigint') return Number(value);
      return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
        ? Number(value)
        : value;
    case 'decimal': {
      const text = toText(value);
      return typeof text === 'string' ? (canonicalDecimal(text, columnFacts(column).scale) ?? text) : text;
    }
    case 'boolean':
      return decodeBoolean(value);
    case 'datetime':
      return decodeDateTime(value, false);
    case 'datetimetz':
      return decodeDateTime(value, true);
    case 'json':
      return decodeJson(value);
    case 'binary':
      if (Buffer.isBuffer(value)) return value.toString('base64');
      return Buffer.from(String(toText(value)), 'utf8').toString('base64');
    default:
      return value;
  }
}

/**
 * SQLite stores 30 characters in a VARCHAR(20) without a word. Braid refuses them on write, as
 * PostgreSQL and strict MySQL do, so that a value accepted by one source fits the others.
 */
export function checkWritableLength(column: ColumnSchema, value: unknown): void {
  const max = column.maxLength;
  if (column.type !== 'string' || max === undefined || typeof value !== 'string' || value.length <= max)
    return;
  if ([...value].length > max) {
    throw badRequest('invalid_value', `"${column.name}" is longer than ${max} characters`, {
      field: column.name,
      maxLength: max,
    });
  }
}
