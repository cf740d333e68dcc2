const DECIMAL_PARTS = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
/** Beyond this an exponent is an attack or a mistake, not a decimal anyone stores. */
const MAX_EXPONENT = 4096;

/**
 * The one spelling of a decimal number that Braid stores and compares: plain digits without
 * exponent or leading zeros, no sign on zero, trailing fraction zeros removed and then padded to
 * `scale` (so '1.5', '1.50' and '15e-1' are all '1.50' in a DECIMAL(10,2) column, as PostgreSQL and
 * MySQL answer them). Digits beyond `scale` are kept, never rounded: SQLite does not enforce a scale
 * and losing digits silently is worse than showing them. Answers null for text that is no decimal.
 */
export function canonicalDecimal(text: string, scale?: number): string | null {
  const m = DECIMAL_PARTS.exec(text.trim());
  if (!m) return null;
  const intDigits = m[2] ?? '';
  const fracDigits = m[3] ?? '';
  if (intDigits === '' && fracDigits === '') return null;
  const exponent = m[4] ? Number(m[4]) : 0;
  if (Math.abs(exponent) > MAX_EXPONENT) return null;
  let digits = intDigits + fracDigits;
  let point = intDigits.length + exponent;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits = digits.padEnd(point, '0');
  const int = digits.slice(0, point).replace(/^0+/, '') || '0';
  let frac = digits.slice(point).replace(/0+$/, '');
  if (scale !== undefined && frac.length < scale) frac = frac.padEnd(scale, '0');
  const isZero = /^0*$/.test(int + frac);
  const sign = m[1] === '-' && !isZero ? '-' : '';
  return frac === '' ? `${sign}${int}` : `${sign}${int}.${frac}`;
}

/** Added to a decimal exponent so that it is positive and fits the fixed width of the key. */
const KEY_EXPONENT_OFFSET = 500_000;
const KEY_EXPONENT_WIDTH = 7;

function nines(digits: string): string {
  return digits.replace(/\d/g, (d) => String(9 - Number(d)));
}

/**
 * A text whose byte order is the numeric order of the decimal it was made from, exactly, at any
 * precision: what SQLite compares for decimals Braid stores as text (a REAL would tie values that
 * differ after 15 digits). Layout: a class digit (1 negative, 2 zero, 3 positive, 4 not a number),
 * the exponent of the first significant digit at fixed width, then the significant digits; negative
 * numbers are digit-complemented and end with ':' (after '9') so that a longer magnitude sorts first.
 */
export function decimalSortKey(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  const canonical = canonicalDecimal(text);
  if (canonical === null) return `4${text}`;
  const negative = canonical.startsWith('-');
  const unsigned = negative ? canonical.slice(1) : canonical;
  if (unsigned === '0') return '2';
  const [int = '', frac = ''] = unsigned.split('.');
  let digits: string;
  let exponent: number;
  if (int !== '0') {
    digits = int + frac;
    exponent = int.length;
  } else {
    const leadingZeros = /^0*/.exec(frac)![0].length;
    digits = frac.slice(leadingZeros);
    exponent = -leadingZeros;
  }
  digits = digits.replace(/0+$/, '');
  const e = String(exponent + KEY_EXPONENT_OFFSET).padStart(KEY_EXPONENT_WIDTH, '0');
  return negative ? `1${nines(e)}${nines(digits)}:` : `3${e}${digits}`;
}
