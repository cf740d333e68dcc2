import type { ColumnSchema } from '../../model/schema.js';
import { integerRange, parseDecimal, plainInteger, type IntegerRange } from './cell-numbers.js';
import { parseDate, parseDateTime, parseTime } from './cell-temporal.js';

export type CellResult = { ok: true; value: unknown } | { ok: false; reason: string };

type Parse = (text: string) => CellResult;

const NULL: CellResult = { ok: true, value: null };
const OMIT: CellResult = { ok: true, value: undefined };
const TRUE: CellResult = { ok: true, value: true };
const FALSE: CellResult = { ok: true, value: false };
const BOOLEANS = new Map<string, CellResult>([
  ['true', TRUE],
  ['t', TRUE],
  ['yes', TRUE],
  ['y', TRUE],
  ['1', TRUE],
  ['false', FALSE],
  ['f', FALSE],
  ['no', FALSE],
  ['n', FALSE],
  ['0', FALSE],
]);
const UUID_RE = /^\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX_RE = /^[0-9a-fA-F]*$/;

function ok(value: unknown): CellResult {
  return { ok: true, value };
}

function fail(reason: string): CellResult {
  return { ok: false, reason };
}

/**
 * A parser from CSV text to the column's canonical wire value (what `coerceValue` answers), built
 * once per column and called per cell without throwing. Numbers, dates and booleans may have spaces
 * around them; for those types an empty or blank text is a missing value like an unquoted empty field.
 * A missing value is null on a nullable column, `undefined` (leave it to the database) on a column
 * with a default or filled by the database, and an error otherwise.
 *
 * @example
 * ```ts
 * const parse = cellParser(priceColumn); // decimal(8,2)
 * parse('12.5'); // { ok: true, value: '12.5' }
 * parse('1.234'); // { ok: false, reason: 'more than 2 decimal places' }
 * ```
 */
export function cellParser(column: ColumnSchema): (text: string | null) => CellResult {
  const missing: CellResult = column.generated
    ? OMIT
    : column.nullable
      ? NULL
      : column.autoIncrement || column.defaultValue !== null
        ? OMIT
        : fail('empty, but the column is required');
  if (column.generated) return () => OMIT;
  const parse = valueParser(column);
  if (column.type === 'string' || column.type === 'text') {
    return (text) => (text === null ? missing : parse(text));
  }
  return (text) => {
    if (text === null) return missing;
    const trimmed = text.trim();
    return trimmed === '' ? missing : parse(trimmed);
  };
}

function valueParser(column: ColumnSchema): Parse {
  switch (column.type) {
    case 'string':
    case 'text':
      return stringParser(column.maxLength);
    case 'enum':
      return enumParser(column.enumValues);
    case 'integer':
      return integerParser(integerRange(column.nativeType));
    case 'bigint':
      return bigintParser(/unsigned/i.test(column.nativeType));
    case 'decimal':
      return decimalParser(column.precision, column.scale);
    case 'float':
      return floatParser();
    case 'boolean':
      return (t) =>
        BOOLEANS.get(t.length <= 5 ? t.toLowerCase() : t) ?? fail('not a boolean (true/false, yes/no, 1/0)');
    case 'date':
      return (t) => {
        const d = parseDate(t);
        return d === null ? fail('not a date (YYYY-MM-DD)') : ok(d);
      };
    case 'time':
      return (t) => {
        const d = parseTime(t);
        return d === null ? fail('not a time (HH:MM[:SS])') : ok(d);
      };
    case 'datetime':
    case 'datetimetz':
      return dateTimeParser(column.type === 'datetimetz');
    case 'json':
      return jsonParser;
    case 'uuid':
      return (t) => {
        const m = UUID_RE.exec(t);
        return m ? ok(`${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toLowerCase()) : fail('not a UUID');
      };
    case 'binary':
      return binaryParser;
  }
}

function stringParser(maxLength: number | undefined): Parse {
  if (maxLength === undefined) return ok;
  return (t) => {
    // Code units bound code points from above: only long texts need counting.
    if (t.length <= maxLength) return ok(t);
    let points = 0;
    for (const _ of t) points++;
    return points <= maxLength ? ok(t) : fail(`longer than ${maxLength} characters (${points})`);
  };
}

function enumParser(values: string[] | undefined): Parse {
  if (!values || values.length === 0) return ok;
  const exact = new Set(values);
  const folded = new Map<string, string | null>();
  for (const v of values) folded.set(v.toLowerCase(), folded.has(v.toLowerCase()) ? null : v);
  const list = values.length > 10 ? `${values.slice(0, 10).join(', ')}, ...` : values.join(', ');
  return (t) => {
    if (exact.has(t)) return ok(t);
    const canonical = folded.get(t.toLowerCase());
    return canonical ? ok(canonical) : fail(`not one of ${list}`);
  };
}

function integerParser(range: IntegerRange): Parse {
  return (t) => {
    if (!plainInteger(t)) return fail('not an integer');
    const n = Number(t);
    if (n < range.min || n > range.max || !Number.isSafeInteger(n)) {
      return fail(`out of range for ${range.name} (${range.min}..${range.max})`);
    }
    // Number('-0') is -0; the wire value is 0.
    return ok(n === 0 ? 0 : n);
  };
}

function bigintParser(unsigned: boolean): Parse {
  const min = unsigned ? 0n : -(2n ** 63n);
  const max = unsigned ? 2n ** 64n - 1n : 2n ** 63n - 1n;
  const name = unsigned ? 'unsigned bigint' : 'bigint';
  return (t) => {
    if (!plainInteger(t)) return fail('not an integer');
    const n = BigInt(t);
    if (n < min || n > max) return fail(`out of range for ${name} (${min}..${max})`);
    return ok(n.toString());
  };
}

function decimalParser(precision: number | undefined, scale: number | undefined): Parse {
  return (t) => {
    const d = parseDecimal(t);
    if (d === null) return fail('not a decimal number');
    if (typeof d === 'string') return fail(d);
    let fraction = d.fraction;
    if (scale !== undefined && fraction.length > scale) {
      // Trailing zeros lose nothing: 1.50 fits a scale of 1.
      fraction = fraction.replace(/0+$/, '');
      if (fraction.length > scale) {
        return fail(scale === 0 ? 'not a whole number' : `more than ${scale} decimal places`);
      }
      fraction = d.fraction.slice(0, scale);
    }
    if (precision !== undefined && d.integer !== '0' && d.integer.length > precision - (scale ?? 0)) {
      return fail(`too many digits before the decimal point (at most ${precision - (scale ?? 0)})`);
    }
    const negative = d.negative && (d.integer !== '0' || /[1-9]/.test(fraction));
    return ok(`${negative ? '-' : ''}${d.integer}${fraction ? `.${fraction}` : ''}`);
  };
}

function floatParser(): Parse {
  return (t) => {
    if (parseDecimal(t) === null) return fail('not a number');
    const n = Number(t);
    return Number.isFinite(n) ? ok(n) : fail('too large for a float');
  };
}

function dateTimeParser(withZone: boolean): Parse {
  return (t) => {
    const d = parseDateTime(t);
    if (d === null) return fail('not a date and time (YYYY-MM-DD HH:MM[:SS])');
    if (withZone) {
      if (d.utc === null) return fail('no time zone (add Z or an offset like +02:00)');
      return ok(d.utc);
    }
    if (d.utc !== null) return fail('has a time zone, but the column stores local times');
    return ok(d.local);
  };
}

function jsonParser(t: string): CellResult {
  try {
    return ok(JSON.parse(t));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return fail(`not valid JSON (${message.length > 80 ? `${message.slice(0, 80)}...` : message})`);
  }
}

function binaryParser(t: string): CellResult {
  if (t.startsWith('\\x') || t.startsWith('\\X')) {
    const hex = t.slice(2);
    if (hex.length % 2 !== 0 || !HEX_RE.test(hex)) return fail('not valid hex after \\x');
    return ok(Buffer.from(hex, 'hex').toString('base64'));
  }
  if (!BASE64_RE.test(t) || t.length % 4 === 1) return fail('not base64 (or hex starting with \\x)');
  // Re-encoding adds padding that some encoders leave out.
  return ok(Buffer.from(t, 'base64').toString('base64'));
}
