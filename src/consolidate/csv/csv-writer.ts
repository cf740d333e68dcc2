import type { Row } from '../../model/values.js';

export interface CsvWriteOptions {
  /** Default ','. */
  delimiter?: string;
  /** Default true: `csvLines` starts with the header line. */
  header?: boolean;
  /** Default false: the header line starts with a UTF-8 BOM (for spreadsheet programs). */
  bom?: boolean;
  /** Default '\n'. */
  newline?: '\n' | '\r\n';
}

/**
 * The header line (with the BOM when asked), to write once before chunks of `csvLines(..., {header: false})`.
 */
export function csvHeaderLine(columns: string[], options: CsvWriteOptions = {}): string {
  const delimiter = options.delimiter ?? ',';
  const line = columns.map((c) => csvField(c, delimiter)).join(delimiter) + (options.newline ?? '\n');
  return options.bom ? `\uFEFF${line}` : line;
}

/**
 * Rows as CSV text in one chunk, header first unless `header: false`. Null is an empty unquoted
 * field and '' a quoted `""`, so `readCsv` reads each back as it was; JSON values are written as
 * JSON text, binary as base64.
 *
 * @example
 * ```ts
 * csvLines(['id', 'note'], [{ id: 1, note: 'a, b' }, { id: 2, note: null }]); // 'id,note\n1,"a, b"\n2,\n'
 * ```
 */
export function csvLines(columns: string[], rows: Row[], options: CsvWriteOptions = {}): string {
  const delimiter = options.delimiter ?? ',';
  const newline = options.newline ?? '\n';
  let out = options.header === false ? '' : csvHeaderLine(columns, options);
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < columns.length; i++) {
      if (i > 0) line += delimiter;
      line += csvField(row[columns[i]!], delimiter);
    }
    out += line + newline;
  }
  return out;
}

/** Rows as newline-delimited JSON, one object per line. */
export function jsonLines(rows: Row[]): string {
  let out = '';
  for (const row of rows) out += JSON.stringify(row, jsonSafe) + '\n';
  return out;
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function csvField(value: unknown, delimiter: string): string {
  if (value === null || value === undefined) return '';
  const text = fieldText(value);
  if (text === '') return '""';
  const needsQuotes =
    text.includes('"') ||
    text.includes(delimiter) ||
    text.includes('\n') ||
    text.includes('\r') ||
    text.charCodeAt(0) === 32 ||
    text.charCodeAt(text.length - 1) === 32;
  return needsQuotes ? `"${text.replaceAll('"', '""')}"` : text;
}

function fieldText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      if (value instanceof Date) return value.toISOString();
      if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
      return JSON.stringify(value, jsonSafe);
  }
}
