/**
 * PostgreSQL date/time text (DateStyle ISO, which the pool sets) -> Braid wire values. Pure string
 * work, never through JS Date, so microseconds survive. Values a wire value cannot express
 * (`infinity`, BC dates) are passed through as PostgreSQL wrote them.
 */

const TIMESTAMP_RE =
  /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2}){0,2})?$/;
const TIME_TZ_RE = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2}){0,2})?$/;

/** `+05:30`, `-08`, `+00:53:28` (historic zones), `Z` -> seconds east of UTC. */
function offsetSeconds(zone: string | undefined): number {
  if (!zone || zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const [h = '0', m = '0', s = '0'] = zone.slice(1).includes(':')
    ? zone.slice(1).split(':')
    : [zone.slice(1, 3), zone.slice(3, 5) || '0', zone.slice(5, 7) || '0'];
  return sign * (Number(h) * 3600 + Number(m) * 60 + Number(s));
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `timestamp` text -> `YYYY-MM-DDTHH:MM:SS[.ffffff]`. */
export function wireTimestamp(text: string): string {
  const m = TIMESTAMP_RE.exec(text);
  if (!m || m[8]) return text;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}`;
}

/** `timestamptz` text in any session zone -> the same instant in UTC with `Z`. */
export function wireTimestamptz(text: string): string {
  // Already a wire value (`YYYY-MM-DDTHH:MM:SS[.f]Z`, which the regex below would rebuild
  // unchanged): the codec decodes again what the type parser produced. Skipping that second pass
  // cut the CPU time of streaming a table with one timestamptz column by ~20% (docs/benchmarks.md).
  if (text.charCodeAt(10) === 84 /* T */ && text.endsWith('Z')) return text;
  const m = TIMESTAMP_RE.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, frac = '', zone] = m as unknown as string[];
  const offset = offsetSeconds(zone);
  if (offset === 0) return `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}Z`;
  // Shift whole seconds through Date (UTC arithmetic handles month/year carries); the fraction
  // is kept as text because Date only has milliseconds.
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s) - offset, 0);
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) return text;
  return (
    `${pad(year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${frac}Z`
  );
}

/**
 * `timetz` text -> the UTC time of day. PostgreSQL does not keep the offset of `timestamptz`
 * either; for `timetz` Braid does the same so both zone-aware types mean "an instant, shown in UTC".
 */
export function wireTimetz(text: string): string {
  const m = TIME_TZ_RE.exec(text);
  if (!m) return text;
  const [, h, mi, s, frac = '', zone] = m as unknown as string[];
  const offset = offsetSeconds(zone);
  if (offset === 0) return `${h}:${mi}:${s}${frac}`;
  const day = 86_400;
  const seconds = (((Number(h) * 3600 + Number(mi) * 60 + Number(s) - offset) % day) + day) % day;
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}${frac}`;
}
