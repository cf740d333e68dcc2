/** The integer range a native integer type can hold, named for error messages. */
export interface IntegerRange {
  name: string;
  min: number;
  max: number;
}

const SAFE: IntegerRange = { name: 'integer', min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER };

const BITS: [RegExp, string, number][] = [
  [/^tinyint\b/, 'tinyint', 8],
  [/^(smallint|int2|smallserial|serial2)\b/, 'smallint', 16],
  [/^mediumint\b/, 'mediumint', 24],
  [/^(bigint|int8|bigserial|serial8)\b/, 'bigint', 64],
  [/^(int|integer|int4|serial|serial4)\b/, 'int', 32],
];

/**
 * The range of an `integer` column from its native type. SQLite keeps the declared spelling
 * (`INTEGER`, upper case by convention) and stores 64 bits whatever it says; PostgreSQL and MariaDB
 * answer lower-case names with a real width. 64-bit columns are bounded by what a JSON number holds
 * exactly, the wire format of `integer`.
 */
export function integerRange(nativeType: string): IntegerRange {
  const declared = nativeType.trim();
  const lower = declared.toLowerCase();
  if (/^(INTEGER|INT)$/.test(declared)) return { ...SAFE, name: declared };
  const unsigned = /\bunsigned\b/.test(lower);
  for (const [re, name, bits] of BITS) {
    if (!re.test(lower)) continue;
    if (bits === 64) return { ...SAFE, name, min: unsigned ? 0 : SAFE.min };
    return unsigned
      ? { name: `${name} unsigned`, min: 0, max: 2 ** bits - 1 }
      : { name, min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 };
  }
  return SAFE;
}

/** An optional sign and ASCII digits, nothing else (spaces are trimmed by the caller). */
export function plainInteger(t: string): boolean {
  let i = 0;
  const first = t.charCodeAt(0);
  if (first === 43 || first === 45) i = 1;
  if (i === t.length) return false;
  for (; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export interface DecimalParts {
  negative: boolean;
  /** Digits before the point, without leading zeros ('0' when none). */
  integer: string;
  /** Digits after the point, as written (trailing zeros kept). */
  fraction: string;
}

const MAX_EXPONENT = 1000;

/**
 * Parses `[+-]digits[.digits][e[+-]digits]` into plain-notation parts; answers null when the text is
 * not a number and a reason when it is one too large to write out.
 */
export function parseDecimal(t: string): DecimalParts | string | null {
  const len = t.length;
  let i = 0;
  let negative = false;
  const first = t.charCodeAt(0);
  if (first === 43 || first === 45) {
    negative = first === 45;
    i = 1;
  }
  const intStart = i;
  while (i < len && isDigit(t.charCodeAt(i))) i++;
  let digits = t.slice(intStart, i);
  let fraction = '';
  if (t.charCodeAt(i) === 46) {
    const fracStart = ++i;
    while (i < len && isDigit(t.charCodeAt(i))) i++;
    fraction = t.slice(fracStart, i);
  }
  if (digits === '' && fraction === '') return null;
  let exponent = 0;
  const e = t.charCodeAt(i);
  if (e === 101 || e === 69) {
    i++;
    const sign = t.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    const expStart = i;
    while (i < len && isDigit(t.charCodeAt(i))) i++;
    if (i === expStart) return null;
    exponent = Number(t.slice(expStart, i)) * (sign === 45 ? -1 : 1);
  }
  if (i !== len) return null;
  if (exponent !== 0) {
    if (Math.abs(exponent) > MAX_EXPONENT) return 'exponent too large';
    const all = digits + fraction;
    const point = digits.length + exponent;
    if (point <= 0) {
      digits = '';
      fraction = '0'.repeat(-point) + all;
    } else if (point >= all.length) {
      digits = all + '0'.repeat(point - all.length);
      fraction = '';
    } else {
      digits = all.slice(0, point);
      fraction = all.slice(point);
    }
  }
  let lead = 0;
  while (lead < digits.length && digits.charCodeAt(lead) === 48) lead++;
  return { negative, integer: lead === digits.length ? '0' : digits.slice(lead), fraction };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
