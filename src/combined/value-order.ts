import type { PortableType } from '../model/schema.js';

/**
 * Orders wire values in memory exactly as the connectors order them in SQL (the conformance suite's
 * semantics): strings by Unicode code point, bigint and decimal (wire strings) by numeric value,
 * temporal values by instant, false before true. NULL handling is the caller's (see compareSortKeys).
 * Rows of several members are merged with it, so it must agree with every engine's ORDER BY.
 */
export function compareValues(type: PortableType, a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') {
    if (type === 'bigint' || type === 'decimal') return compareDecimalText(a, b);
    if (type === 'datetime' || type === 'datetimetz' || type === 'time')
      return compareCodePoints(temporalKey(a), temporalKey(b));
    return compareCodePoints(a, b);
  }
  if ((typeof a === 'number' || typeof a === 'string') && (typeof b === 'number' || typeof b === 'string')) {
    // A number on one side and a numeric string on the other (a shared column of two engines).
    return compareDecimalText(String(a), String(b));
  }
  return compareCodePoints(JSON.stringify(a), JSON.stringify(b));
}

/**
 * Code-point order. JavaScript compares UTF-16 code units, which puts U+E000..U+FFFF after
 * characters outside the BMP (surrogates are 0xD800..0xDFFF); the first differing unit is shifted
 * so surrogates sort above the rest of the BMP, as code points do.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return shift(x) - shift(y);
  }
  return a.length - b.length;
}

function shift(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** `12:00:00Z` and `12:00:00.5Z` differ in length: pad the fraction so text order is time order. */
function temporalKey(text: string): string {
  return text.replace(
    /(\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?/,
    (_m, hms: string, frac?: string) => `${hms}.${(frac ?? '').padEnd(9, '0')}`,
  );
}

/** Numeric order of decimal texts ("-12.50", "3", "1e3" falls back to Number). */
export function compareDecimalText(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  if (!x || !y) {
    const d = Number(a) - Number(b);
    return Number.isNaN(d) ? compareCodePoints(a, b) : Math.sign(d);
  }
  if (x.zero && y.zero) return 0;
  if (x.negative !== y.negative) return x.negative ? -1 : 1;
  const magnitude =
    x.int.length !== y.int.length
      ? x.int.length - y.int.length
      : x.int !== y.int
        ? x.int < y.int
          ? -1
          : 1
        : compareFraction(x.frac, y.frac);
  return x.negative ? -Math.sign(magnitude) : Math.sign(magnitude);
}

function compareFraction(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  const x = a.padEnd(n, '0');
  const y = b.padEnd(n, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

function parseDecimal(text: string): { negative: boolean; int: string; frac: string; zero: boolean } | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const int = m[2]!.replace(/^0+/, '');
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const zero = int === '' && frac === '';
  return { negative: m[1] === '-' && !zero, int, frac, zero };
}

/** One sort term's comparison with the language's NULL rule: first ascending, last descending. */
export function compareSortValue(type: PortableType, dir: 'asc' | 'desc', a: unknown, b: unknown): number {
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an || bn) {
    if (an && bn) return 0;
    const nullFirst = dir === 'asc';
    return an === nullFirst ? -1 : 1;
  }
  const c = compareValues(type, a, b);
  return dir === 'asc' ? c : -c;
}
