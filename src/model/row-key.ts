import { badRequest } from './errors.js';
import type { TableSchema } from './schema.js';
import { coerceValue, type Row } from './values.js';

/**
 * A row's primary key as `{column: value}`.
 *
 * URL encoding (`/rows/:key`): for a single-column key the key is the value itself, percent-encoded
 * (`/rows/42`, `/rows/a%2Fb`). For a composite key it is a JSON array of the values in primary-key
 * order, percent-encoded (`/rows/%5B7%2C%22EU%22%5D` for `[7,"EU"]`). Tables without a primary key
 * cannot be addressed by key.
 */
export type RowKey = Record<string, unknown>;

export function parseRowKey(table: TableSchema, encoded: string): RowKey {
  const pk = table.primaryKey;
  if (pk.length === 0) {
    throw badRequest(
      'no_primary_key',
      `table "${table.name}" has no primary key: rows cannot be addressed by key`,
    );
  }
  let parts: unknown[];
  if (pk.length === 1) {
    parts = [encoded];
  } else {
    try {
      parts = JSON.parse(encoded) as unknown[];
    } catch {
      parts = [];
    }
    if (!Array.isArray(parts) || parts.length !== pk.length) {
      throw badRequest(
        'invalid_key',
        `key of "${table.name}" is composite (${pk.join(', ')}): send a JSON array of ${pk.length} values`,
        { key: encoded },
      );
    }
  }
  const key: RowKey = {};
  pk.forEach((name, i) => {
    const column = table.columns.find((c) => c.name === name)!;
    const value = coerceValue(column, parts[i], `key.${name}`);
    if (value === null) throw badRequest('invalid_key', `key column "${name}" cannot be null`);
    key[name] = value;
  });
  return key;
}

export function encodeRowKey(table: TableSchema, row: Row): string {
  const values = table.primaryKey.map((name) => row[name]);
  return table.primaryKey.length === 1 ? String(values[0]) : JSON.stringify(values);
}

export function keyOf(table: TableSchema, row: Row): RowKey {
  return Object.fromEntries(table.primaryKey.map((name) => [name, row[name]]));
}
