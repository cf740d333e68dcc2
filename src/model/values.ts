import { badRequest } from './errors.js';
import type { ColumnSchema, TableSchema } from './schema.js';

/**
 * Wire values: what crosses the API for each portable type, losslessly.
 * string/text/enum/uuid: string; integer/float: number; bigint/decimal: string of digits;
 * boolean: boolean; date `YYYY-MM-DD`; time `HH:MM:SS[.ffffff]`; datetime `YYYY-MM-DDTHH:MM:SS[.ffffff]`;
 * datetimetz the same in UTC with `Z`; json: any JSON value; binary: base64 string.
 */
export type WireValue = string | number | boolean | null | WireJson;
type WireJson = { [key: string]: unknown } | unknown[];
export type Row = Record<string, unknown>;

const INT_RE = /^[+-]?\d+$/;
const DECIMAL_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?$/;
const DATETIME_RE =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function invalid(column: ColumnSchema, value: unknown, path: string, reason: string): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 200)) : JSON.stringify(value);
  throw badRequest(
    'invalid_value',
    `${path}: ${shown} is not a valid ${column.type} for "${column.name}": ${reason}`,
    {
      field: column.name,
      value: typeof value === 'string' ? value.slice(0, 200) : value,
      type: column.type,
    },
  );
}

/** Coerces an untrusted input value to the canonical wire value of the column's portable type. */
export function coerceValue(column: ColumnSchema, value: unknown, path = column.name): WireValue {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'string':
    case 'text':
      if (typeof value === 'string') {
        if (column.maxLength !== undefined && [...value].length > column.maxLength) {
          invalid(column, value, path, `longer than ${column.maxLength} characters`);
        }
        return value;
      }
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return invalid(column, value, path, 'expected a string');
    case 'enum':
      if (typeof value !== 'string') return invalid(column, value, path, 'expected a string');
      if (column.enumValues && !column.enumValues.includes(value)) {
        invalid(column, value, path, `allowed values are ${column.enumValues.join(', ')}`);
      }
      return value;
    case 'integer': {
      const n = typeof value === 'string' && INT_RE.test(value.trim()) ? Number(value) : value;
      // The engine enforces its own width (int4, INTEGER, int(11)); the wire only needs exactness.
      if (typeof n !== 'number' || !Number.isSafeInteger(n))
        return invalid(column, value, path, 'expected an integer');
      return n;
    }
    case 'bigint': {
      if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
      if (typeof value === 'string' && INT_RE.test(value.trim())) {
        const big = BigInt(value.trim());
        if (big < -(2n ** 63n) || big >= 2n ** 63n)
          invalid(column, value, path, 'out of the 64-bit integer range');
        return big.toString();
      }
      return invalid(column, value, path, 'expected an integer (as a string for values beyond 2^53)');
    }
    case 'decimal': {
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value === 'string' && DECIMAL_RE.test(value.trim())) return value.trim();
      return invalid(column, value, path, 'expected a decimal number');
    }
    case 'float': {
      const n = typeof value === 'string' && DECIMAL_RE.test(value.trim()) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n))
        return invalid(column, value, path, 'expected a number');
      return n;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 0 || value === 1) return value === 1;
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      return invalid(column, value, path, 'expected true or false');
    case 'date':
      if (typeof value === 'string' && DATE_RE.test(value) && validDate(value)) return value;
      return invalid(column, value, path, 'expected YYYY-MM-DD');
    case 'time': {
      const m = typeof value === 'string' ? TIME_RE.exec(value) : null;
      if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) {
        return invalid(column, value, path, 'expected HH:MM:SS');
      }
      return `${m[1]}:${m[2]}:${m[3] ?? '00'}${m[4] ?? ''}`;
    }
    case 'datetime':
    case 'datetimetz':
      return coerceDateTime(column, value, path);
    case 'json':
      if (typeof value === 'string' && column.nativeType.toLowerCase().includes('text')) return value;
      return value as WireJson;
    case 'uuid':
      if (typeof value === 'string' && UUID_RE.test(value)) return value.toLowerCase();
      return invalid(column, value, path, 'expected a UUID');
    case 'binary':
      if (typeof value === 'string' && BASE64_RE.test(value) && value.length % 4 === 0) return value;
      return invalid(column, value, path, 'expected base64');
  }
}

function validDate(ymd: string): boolean {
  const y = Number(ymd.slice(0, 4));
  const m = Number(ymd.slice(5, 7));
  const d = Number(ymd.slice(8, 10));
  // Years below 100 stay refused, as when this went through Date.UTC (which maps them to 19xx).
  if (y < 100 || m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = m === 2 ? (leap ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
  return d <= days;
}

/**
 * `datetime` keeps the wall-clock value and refuses a zone (it would be silently dropped);
 * `datetimetz` requires a zone and is normalized to UTC, keeping sub-millisecond digits.
 */
function coerceDateTime(column: ColumnSchema, value: unknown, path: string): string {
  const m = typeof value === 'string' ? DATETIME_RE.exec(value.trim()) : null;
  if (!m || !validDate(m[1]!)) return invalid(column, value, path, 'expected an ISO 8601 date and time');
  const [, date, timePart, zone] = m as unknown as [string, string, string, string | undefined];
  const tm = TIME_RE.exec(timePart)!;
  const hh = tm[1]!,
    mi = tm[2]!,
    ss = tm[3] ?? '00',
    frac = tm[4] ?? '';
  if (Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 59)
    invalid(column, value, path, 'time out of range');
  if (column.type === 'datetime') {
    if (zone)
      invalid(column, value, path, 'this column has no time zone: send the local time without offset');
    return `${date}T${hh}:${mi}:${ss}${frac}`;
  }
  if (!zone) return invalid(column, value, path, 'this column stores instants: add Z or an offset');
  // Already UTC (what every connector reads): no round trip through Date.
  if (zone === 'Z' || zone === 'z') return `${date}T${hh}:${mi}:${ss}${frac}Z`;
  const offsetMin = zoneOffsetMinutes(zone);
  const ms = Date.UTC(
    Number(date.slice(0, 4)),
    Number(date.slice(5, 7)) - 1,
    Number(date.slice(8, 10)),
    Number(hh),
    Number(mi) - offsetMin,
    Number(ss),
  );
  const utc = new Date(ms).toISOString().slice(0, 19);
  return `${utc}${frac}Z`;
}

function zoneOffsetMinutes(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
}

export interface RowInputOptions {
  /** An update: missing columns are left alone and required columns are not checked. */
  partial: boolean;
  /** Label of the row in error messages, e.g. `rows[3]`. */
  path?: string;
}

/**
 * Checks an untrusted row object against the table: unknown and generated columns are refused,
 * values coerced; on insert, required columns (not nullable, no default, not generated) must be present.
 */
export function coerceRow(table: TableSchema, input: unknown, options: RowInputOptions): Row {
  const path = options.path ?? 'row';
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw badRequest('invalid_row', `${path} must be an object of column values`);
  }
  const out: Row = {};
  for (const [name, value] of Object.entries(input as Row)) {
    const column = table.columns.find((c) => c.name === name);
    if (!column) {
      throw badRequest('unknown_field', `${path}: unknown column "${name}" in table "${table.name}"`, {
        field: name,
        table: table.name,
      });
    }
    if (column.generated) {
      throw badRequest('read_only_field', `${path}: column "${name}" is computed by the database`, {
        field: name,
      });
    }
    const coerced = coerceValue(column, value, `${path}.${name}`);
    if (coerced === null && !column.nullable && !(column.autoIncrement && !options.partial)) {
      throw badRequest('missing_value', `${path}: column "${name}" cannot be null`, { field: name });
    }
    out[name] = coerced;
  }
  if (!options.partial) {
    for (const column of table.columns) {
      const required =
        !column.nullable && column.defaultValue === null && !column.autoIncrement && !column.generated;
      if (required && (out[column.name] === undefined || out[column.name] === null)) {
        throw badRequest('missing_value', `${path}: column "${column.name}" is required`, {
          field: column.name,
        });
      }
    }
  }
  return out;
}
