import { sql } from 'kysely';
import type { Sql } from '../shared/dialect-adapter.js';

/**
 * Datetimes in SQLite are whatever text or number the writer chose: SQLite's own functions and
 * CURRENT_TIMESTAMP write 'YYYY-MM-DD HH:MM:SS', JavaScript apps write toISOString()
 * ('YYYY-MM-DDTHH:MM:SS.sssZ'), some ORMs write Unix seconds or milliseconds, julianday() writes
 * Julian days. Braid stores SQLite's own spelling (UTC for `datetimetz`, as CURRENT_TIMESTAMP is) and
 * compares through one normalization that exists twice, here in JavaScript and in
 * `normalizedDateTimeSql` in SQL, so that for every stored x:
 *
 *   encodeDateTime(decodeDateTime(x)) === normalizedDateTimeSql(x)
 *
 * That identity is what keeps keyset pages from skipping or repeating rows when the sort column
 * holds spellings of several writers; the test suite checks it value by value.
 */

/** Past this a number is taken as Unix milliseconds rather than seconds (year 9999 in seconds). */
const MAX_UNIX_SECONDS = 253402300799;
/** 0000-01-01 in Unix seconds and as a Julian day: earlier numbers are not read as dates. */
const MIN_UNIX_SECONDS = -62167219200;
const MIN_JULIAN_DAY = 1721059.5;
const MAX_JULIAN_DAY = 5373484.5;
const JULIAN_UNIX_MS = 210866760000000;

const CANONICAL_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

/** The text normalization: drop a trailing UTC marker, use SQLite's space separator. */
function normalizeText(text: string): string {
  return text.replace(/[Zz]+$/, '').replaceAll('T', ' ');
}

/**
 * Numbers are read as SQLite's `'auto'` modifier reads them (Julian day below 5373484.5, else Unix
 * seconds), with Unix milliseconds recognized by their size and years before 0000 left alone. The
 * arithmetic repeats SQLite's (date.c) so both sides round to the same millisecond.
 */
function numericToStored(value: number): string | null {
  const seconds = Math.abs(value) > MAX_UNIX_SECONDS ? value / 1000 : value;
  let julianMs: number;
  if (seconds >= MIN_JULIAN_DAY && seconds < MAX_JULIAN_DAY) julianMs = Math.trunc(seconds * 86400000 + 0.5);
  else if (
    (seconds >= MIN_UNIX_SECONDS && seconds < 0) ||
    (seconds >= MAX_JULIAN_DAY && seconds <= MAX_UNIX_SECONDS)
  ) {
    julianMs = Math.trunc(seconds * 1000 + JULIAN_UNIX_MS + 0.5);
  } else return null;
  return new Date(julianMs - JULIAN_UNIX_MS).toISOString().slice(0, 23).replace('T', ' ');
}

/** SQL twin of `encodeDateTime(decodeDateTime(x))`, used to compare and sort datetime columns. */
export function normalizedDateTimeSql(column: Sql): Sql {
  const s = sql`(case when abs(${column}) > ${sql.lit(MAX_UNIX_SECONDS)} then ${column} / 1000.0 else ${column} end)`;
  const readable = sql`(${s} >= ${sql.lit(MIN_JULIAN_DAY)} and ${s} < ${sql.lit(MAX_JULIAN_DAY)})
    or (${s} >= ${sql.lit(MIN_UNIX_SECONDS)} and ${s} < 0)
    or (${s} >= ${sql.lit(MAX_JULIAN_DAY)} and ${s} <= ${sql.lit(MAX_UNIX_SECONDS)})`;
  const fromNumber = sql`coalesce(case when ${readable} then strftime('%Y-%m-%d %H:%M:%f', ${s}, 'auto') end, ${column})`;
  return sql`(case typeof(${column}) when 'integer' then ${fromNumber} when 'real' then ${fromNumber} else replace(rtrim(${column}, 'Zz'), 'T', ' ') end)`;
}

/**
 * Stored value -> wire value. Spellings of a date and time become `YYYY-MM-DDTHH:MM:SS[.f]` (with
 * `Z` for `datetimetz`); anything else (an offset, a bare date, a note) is answered as stored rather
 * than guessed at.
 */
export function decodeDateTime(value: unknown, withZone: boolean): unknown {
  let stored: string | null = null;
  if (typeof value === 'number') stored = numericToStored(value);
  else if (typeof value === 'bigint') stored = numericToStored(Number(value));
  else if (typeof value === 'string') stored = normalizeText(value);
  else if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (stored === null || !CANONICAL_RE.test(stored))
    return typeof value === 'bigint' ? value.toString() : value;
  const wire = stored.replace(' ', 'T');
  return withZone ? `${wire}Z` : wire;
}

/** Wire value -> stored value (`YYYY-MM-DD HH:MM:SS[.f]`, UTC for `datetimetz`). */
export function encodeDateTime(value: unknown): unknown {
  return typeof value === 'string' ? normalizeText(value) : value;
}
