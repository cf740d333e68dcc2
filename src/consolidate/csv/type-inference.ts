import type { ColumnDefinition, PortableType } from '../../model/schema.js';
import { normalizeHeaderName } from './csv-header.js';
import { parseDecimal, plainInteger } from './cell-numbers.js';
import { parseDate, parseDateTime } from './cell-temporal.js';

const MAX_NAME_BYTES = 63;
const MAX_DECIMAL_PRECISION = 38;
/** Decimal columns get room for this many integer digits, so later rows still fit. */
const DECIMAL_INTEGER_HEADROOM = 10;
const STRING_BOUNDS = [32, 64, 128, 255, 512, 1024];
const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const BOOLEAN_WORDS = new Set(['true', 'false', 'yes', 'no', 't', 'f']);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A column name from a CSV header: normalized, starting with a letter or `_`, at most 63 bytes
 * (PostgreSQL's limit), made unique against `taken` with `_2`, `_3`... The answer is added to `taken`.
 */
export function columnNameFromHeader(header: string, taken: Set<string>): string {
  let base = normalizeHeaderName(header) || 'column';
  if (!/^[\p{L}_]/u.test(base)) base = `_${base}`;
  base = truncateBytes(base, MAX_NAME_BYTES);
  let name = base;
  for (let n = 2; taken.has(name); n++) {
    const suffix = `_${n}`;
    name = truncateBytes(base, MAX_NAME_BYTES - suffix.length) + suffix;
  }
  taken.add(name);
  return name;
}

function truncateBytes(name: string, max: number): string {
  if (Buffer.byteLength(name, 'utf8') <= max) return name;
  let out = '';
  let bytes = 0;
  for (const ch of name) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > max) break;
    out += ch;
    bytes += b;
  }
  return out;
}

/** What one column's values allow so far; every field only narrows it. */
interface ColumnStats {
  nullable: boolean;
  seen: number;
  boolean: boolean;
  /** Integers: 32-bit, 64-bit, else wider integers still fit a decimal. */
  int32: boolean;
  int64: boolean;
  /** Plain-notation numbers (integers included): max digits before and after the point. */
  decimal: boolean;
  intDigits: number;
  scale: number;
  float: boolean;
  date: boolean;
  datetime: boolean;
  datetimetz: boolean;
  uuid: boolean;
  maxLength: number;
  /** The first value that ruled out numbers, to explain why a column stayed text. */
  numberBlocker: string | null;
}

function freshStats(): ColumnStats {
  return {
    nullable: false,
    seen: 0,
    boolean: true,
    int32: true,
    int64: true,
    decimal: true,
    intDigits: 0,
    scale: 0,
    float: true,
    date: true,
    datetime: true,
    datetimetz: true,
    uuid: true,
    maxLength: 0,
    numberBlocker: null,
  };
}

/**
 * Infers a table definition from CSV rows, one row at a time, in constant memory: each column keeps
 * the narrowest portable type every non-empty value fits.
 *
 * @example
 * ```ts
 * const inferrer = new TypeInferrer(['id', 'price']);
 * inferrer.observe(['1', '9.99']);
 * inferrer.result().columns; // [{ name: 'id', type: 'integer', ... }, { name: 'price', type: 'decimal', ... }]
 * ```
 */
export class TypeInferrer {
  private readonly names: string[];
  private readonly stats: ColumnStats[];
  private rows = 0;

  constructor(private readonly headers: (string | null)[]) {
    const taken = new Set<string>();
    this.names = headers.map((h, i) =>
      columnNameFromHeader(h === null || h.trim() === '' ? `column_${i + 1}` : h, taken),
    );
    this.stats = headers.map(freshStats);
  }

  observe(fields: (string | null)[]): void {
    this.rows++;
    for (let i = 0; i < this.stats.length; i++) {
      const stats = this.stats[i]!;
      const text = fields[i];
      if (text === null || text === undefined || text.trim() === '') {
        stats.nullable = true;
        continue;
      }
      stats.seen++;
      observeValue(stats, text);
    }
  }

  result(): { columns: ColumnDefinition[]; notes: string[] } {
    const notes: string[] = [];
    const columns = this.stats.map((stats, i) => {
      const name = this.names[i]!;
      const header = this.headers[i];
      const column = decide(stats);
      const nullable = stats.nullable || stats.seen === 0;
      const renamed = header !== name ? ` (from header ${JSON.stringify(header ?? '')})` : '';
      notes.push(`column "${name}"${renamed}: ${column.why}${nullable ? '; nullable' : ''}`);
      return { name, ...column.definition, nullable };
    });
    if (this.rows === 0) notes.push('no data rows: every column is a nullable string');
    return { columns, notes };
  }
}

function observeValue(s: ColumnStats, raw: string): void {
  const length = raw.length;
  // UTF-16 units bound code points from above: only a longer text can raise the maximum, and its
  // count in code points may still be below it (emoji), so the maximum must never go down.
  if (length > s.maxLength) s.maxLength = Math.max(s.maxLength, codePoints(raw));
  const t = raw.trim();
  if (s.boolean && !BOOLEAN_WORDS.has(t.toLowerCase())) s.boolean = false;
  if (s.decimal || s.float || s.int64) observeNumber(s, t);
  if (s.date || s.datetime || s.datetimetz) {
    const date = s.date && parseDate(t) !== null;
    if (!date) s.date = false;
    if (s.datetime || s.datetimetz) {
      const dt = date ? { utc: null } : parseDateTime(t);
      if (!dt) {
        s.datetime = false;
        s.datetimetz = false;
      } else if (dt.utc === null) s.datetimetz = false;
      else s.datetime = false;
    }
  }
  if (s.uuid && !UUID_RE.test(t)) s.uuid = false;
}

function observeNumber(s: ColumnStats, t: string): void {
  // Numbers written with an explicit '+' or leading zeros are codes or phone numbers.
  const unsigned = t.startsWith('-') ? t.slice(1) : t;
  const leadingZero = unsigned.length > 1 && unsigned[0] === '0' && unsigned[1] !== '.';
  if (t.startsWith('+') || leadingZero) {
    noNumbers(s, t, t.startsWith('+') ? 'starts with "+"' : 'has a leading zero');
    return;
  }
  if (plainInteger(t)) {
    if (s.int64) {
      if (t.length > 20) s.int64 = s.int32 = false;
      else {
        const n = BigInt(t);
        if (n > INT64_MAX || n < INT64_MIN) s.int64 = s.int32 = false;
        else if (n > INT32_MAX || n < INT32_MIN) s.int32 = false;
      }
    }
    if (s.decimal) s.intDigits = Math.max(s.intDigits, unsigned.length);
    return;
  }
  s.int32 = s.int64 = false;
  const parts = parseDecimal(t);
  if (parts === null || typeof parts === 'string') {
    noNumbers(s, t, null);
    return;
  }
  if (/[eE]/.test(t)) {
    s.decimal = false;
  } else if (s.decimal) {
    s.intDigits = Math.max(s.intDigits, parts.integer === '0' ? 1 : parts.integer.length);
    s.scale = Math.max(s.scale, parts.fraction.length);
  }
  if (s.float && !Number.isFinite(Number(t))) s.float = false;
}

function noNumbers(s: ColumnStats, t: string, why: string | null): void {
  if (why !== null && s.numberBlocker === null && (s.int64 || s.decimal || s.float)) {
    s.numberBlocker = `${JSON.stringify(t.length > 40 ? `${t.slice(0, 40)}...` : t)} ${why}`;
  }
  s.int32 = s.int64 = s.decimal = s.float = false;
}

function decide(s: ColumnStats): { definition: Omit<ColumnDefinition, 'name' | 'nullable'>; why: string } {
  const as = (type: PortableType, why: string, extra: Partial<ColumnDefinition> = {}) => ({
    definition: { type, ...extra },
    why,
  });
  if (s.seen === 0) return as('string', 'no values: string', { maxLength: STRING_BOUNDS[0] });
  if (s.boolean) return as('boolean', 'only true/false/yes/no values: boolean');
  if (s.int32) return as('integer', 'whole numbers within 32 bits: integer');
  if (s.int64) return as('bigint', 'whole numbers beyond 32 bits: bigint');
  let why = '';
  if (s.decimal) {
    if (s.intDigits + s.scale <= MAX_DECIMAL_PRECISION) {
      const precision = Math.min(
        MAX_DECIMAL_PRECISION,
        s.scale + Math.max(s.intDigits, DECIMAL_INTEGER_HEADROOM),
      );
      return as(
        'decimal',
        `numbers with up to ${s.intDigits} digits before and ${s.scale} after the point: decimal(${precision},${s.scale})`,
        { precision, scale: s.scale },
      );
    }
    why = ` (numbers of more than ${MAX_DECIMAL_PRECISION} digits)`;
  } else if (s.float) {
    return as('float', 'numbers in exponent notation: float');
  }
  if (s.date) return as('date', 'dates (YYYY-MM-DD): date');
  if (s.datetime) return as('datetime', 'dates and times without zone: datetime');
  if (s.datetimetz) return as('datetimetz', 'dates and times with a zone: datetimetz');
  if (s.uuid) return as('uuid', 'UUIDs: uuid');
  if (!why && s.numberBlocker) why = ` (${s.numberBlocker}, so the column stays text)`;
  const bound = STRING_BOUNDS.find((b) => b >= s.maxLength);
  if (bound === undefined) return as('text', `text up to ${s.maxLength} characters: text${why}`);
  return as('string', `text up to ${s.maxLength} characters: string(${bound})${why}`, { maxLength: bound });
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
