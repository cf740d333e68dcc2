import type { ColumnSchema } from '../model/schema.js';

const TWO_32 = 4_294_967_296;

/**
 * An order-independent checksum of a set of rows: the sum (mod 2^64) of a 64-bit hash of each row's
 * canonical text, plus the count. Order-independent because engines sort text differently (a
 * MariaDB collation is not JavaScript's order); a sum rather than XOR so a duplicated row counts.
 * The row hash guards against mistakes, not against an adversary, so it is a fast non-cryptographic
 * one (two multiplicative lanes over the UTF-16 code units): half the cost of a one-shot SHA-256
 * per row, which with its string-to-buffer copy was a sixth of a direct copy's CPU.
 */
export class RowChecksum {
  /** The running sum as two 32-bit halves, each kept below 2^32 after every row. */
  private low = 0;
  private high = 0;
  count = 0;

  constructor(private readonly columns: ColumnSchema[]) {
    this.columns = [...columns].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  add(row: Record<string, unknown>): void {
    const columns = this.columns;
    let text = columns.length > 0 ? canonical(columns[0]!, row[columns[0]!.name]) : '';
    for (let i = 1; i < columns.length; i++) text += `\u0001${canonical(columns[i]!, row[columns[i]!.name])}`;
    let h1 = 0xdeadbeef;
    let h2 = 0x41c6ce57;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ code, 2654435761);
      h2 = Math.imul(h2 ^ code, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    const low = this.low + (h1 >>> 0);
    this.low = low % TWO_32;
    this.high = (this.high + (h2 >>> 0) + Math.floor(low / TWO_32)) % TWO_32;
    this.count++;
  }

  /** `count:hex` */
  value(): string {
    return `${this.count}:${this.high.toString(16).padStart(8, '0')}${this.low.toString(16).padStart(8, '0')}`;
  }
}

/**
 * One value as comparable text, so a value written and the same value read back agree whatever the
 * engine's representation: decimals without insignificant zeros, fractions of seconds trimmed,
 * floats to 6 significant digits (float4 columns keep no more), JSON with sorted keys.
 */
export function canonical(column: ColumnSchema, value: unknown): string {
  if (value === null || value === undefined) return '\u0000';
  switch (column.type) {
    case 'decimal':
    case 'bigint':
      return canonicalDecimal(String(value));
    case 'integer':
      return String(Number(value));
    case 'float':
      return Number(value).toPrecision(6);
    case 'boolean':
      return value === true || value === 1 || value === '1' || value === 'true' ? 't' : 'f';
    case 'time':
    case 'datetime':
    case 'datetimetz': {
      const text = String(value);
      // Without a fraction there are no zeros to trim (the usual case: skip the regular expressions).
      if (!text.includes('.')) return text.replace(' ', 'T');
      return text
        .replace(' ', 'T')
        .replace(/(\.\d*?)0+(Z?)$/, '$1$2')
        .replace(/\.(Z?)$/, '$1');
    }
    case 'json':
      return stableJson(typeof value === 'string' ? safeParse(value) : value);
    case 'uuid':
      return String(value).toLowerCase();
    default:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

function canonicalDecimal(text: string): string {
  const m = /^([+-]?)0*(\d*)(?:\.(\d*?)0*)?$/.exec(text.trim());
  if (!m) return text;
  const int = m[2] || '0';
  const frac = m[3] ?? '';
  const sign = m[1] === '-' && (int !== '0' || frac !== '') ? '-' : '';
  return `${sign}${int}${frac ? `.${frac}` : ''}`;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
