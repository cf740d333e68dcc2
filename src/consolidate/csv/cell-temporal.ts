const TIME_RE = /^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?$/;
const DATETIME_RE =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?) ?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** `YYYY-MM-DD` with a real day (no February 30); answers the same text or null. */
export function parseDate(t: string): string | null {
  if (t.length !== 10 || t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45) return null;
  const y = digitsAt(t, 0, 4);
  const m = digitsAt(t, 5, 2);
  const d = digitsAt(t, 8, 2);
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
  return t;
}

/** `H:MM`, `HH:MM:SS` or `HH:MM:SS.fff` -> `HH:MM:SS[.fff]`, or null. */
export function parseTime(t: string): string | null {
  const m = TIME_RE.exec(t);
  if (!m) return null;
  const hh = m[1]!.padStart(2, '0');
  const ss = m[3] ?? '00';
  if (Number(hh) > 23 || Number(m[2]) > 59 || Number(ss) > 59) return null;
  return `${hh}:${m[2]}:${ss}${m[4] ?? ''}`;
}

/**
 * A date with an optional time and zone. `local` is the wall-clock value
 * `YYYY-MM-DDTHH:MM:SS[.fff]`; `utc` is the instant in UTC with `Z` when a zone was written, else null.
 */
export function parseDateTime(t: string): { local: string; utc: string | null } | null {
  const m = DATETIME_RE.exec(t);
  if (!m) return null;
  const date = parseDate(m[1]!);
  const time = parseTime(m[2] ?? '00:00');
  if (date === null || time === null) return null;
  const local = `${date}T${time}`;
  const zone = m[3];
  if (zone === undefined) return { local, utc: null };
  // Written in UTC already (the usual ISO 8601 export): the instant is the wall-clock value.
  if (zone === 'Z' || zone === 'z') return { local, utc: `${local}Z` };
  const offset = zoneOffsetMinutes(zone);
  if (offset === null) return null;
  const ms = Date.UTC(
    Number(date.slice(0, 4)),
    Number(date.slice(5, 7)) - 1,
    Number(date.slice(8, 10)),
    Number(time.slice(0, 2)),
    Number(time.slice(3, 5)) - offset,
    Number(time.slice(6, 8)),
  );
  return { local, utc: `${new Date(ms).toISOString().slice(0, 19)}${time.slice(8)}Z` };
}

function zoneOffsetMinutes(zone: string): number | null {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4) || '0');
  if (hours > 23 || minutes > 59) return null;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

function digitsAt(t: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = t.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
