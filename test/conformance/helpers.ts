import { expect } from 'vitest';
import { BraidError } from '../../src/model/errors.js';
import type { Filter } from '../../src/model/filter.js';
import type { RowQuery, SortTerm } from '../../src/model/query.js';
import { coerceRow, type Row } from '../../src/model/values.js';
import type { Database } from './engines.js';

/**
 * Writes rows the way the rows service does: every row is checked and coerced to its canonical
 * wire form (coerceRow) before the connector sees it.
 */
export async function insertRows(db: Database, tableName: string, rows: Row[]): Promise<Row[]> {
  const table = db.table(tableName);
  const coerced = rows.map((r, i) => coerceRow(table, r, { partial: false, path: `rows[${i}]` }));
  return db.connector.insert(table, coerced);
}

/** The ids of the rows a filter selects, ascending (one page large enough for any fixture). */
export async function idsWhere(
  db: Database,
  tableName: string,
  filter: Filter,
  idField = 'id',
): Promise<unknown[]> {
  const page = await db.connector.select(db.table(tableName), { filter, limit: 10_000 });
  expect(page.next).toBeNull();
  return page.rows.map((r) => r[idField]).sort((a, b) => Number(a) - Number(b));
}

/** Every row of a query, following `next` cursors; fails on a page larger than the limit. */
export async function walkPages(db: Database, tableName: string, query: RowQuery): Promise<Row[][]> {
  const pages: Row[][] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await db.connector.select(db.table(tableName), { ...query, ...(cursor ? { cursor } : {}) });
    if (query.limit !== undefined) expect(page.rows.length).toBeLessThanOrEqual(query.limit);
    pages.push(page.rows);
    if (!page.next) return pages;
    cursor = page.next;
  }
  throw new Error('cursor walk did not end');
}

export interface ExpectedError {
  status: number;
  code: string;
  /** Strings the message must contain (the field, the value...). */
  mentions?: string[];
}

/** Asserts that the call fails with a BraidError carrying this status and code, and answers it. */
export async function expectBraidError(
  call: () => Promise<unknown> | unknown,
  expected: ExpectedError,
): Promise<BraidError> {
  let caught: unknown;
  try {
    await call();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected the call to throw').toBeDefined();
  expect(caught).toBeInstanceOf(BraidError);
  const err = caught as BraidError;
  expect({ status: err.status, code: err.code }, err.message).toEqual({
    status: expected.status,
    code: expected.code,
  });
  for (const text of expected.mentions ?? []) expect(err.message).toContain(text);
  return err;
}

/** Orders strings by Unicode code point (UTF-8 bytes), not by UTF-16 unit as `<` does. */
export function codePointCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const INTEGER = /^-?\d+$/;

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    // bigint wire values are strings of digits: compare them as integers.
    if (INTEGER.test(a) && INTEGER.test(b)) return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
    return codePointCompare(a, b);
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error(`cannot compare ${typeof a} with ${typeof b}`);
}

/**
 * The portable sort, computed in JavaScript: NULL first ascending and last descending, strings by
 * code point, then `tieBreak` ascending. Used to write expectations once for every engine.
 */
export function portableSort(rows: Row[], sort: SortTerm[], tieBreak = 'id'): Row[] {
  const terms = [
    ...sort,
    ...(sort.some((t) => t.field === tieBreak) ? [] : [{ field: tieBreak, dir: 'asc' as const }]),
  ];
  return [...rows].sort((x, y) => {
    for (const { field, dir } of terms) {
      const a = x[field] ?? null;
      const b = y[field] ?? null;
      if (a === null && b === null) continue;
      const c = a === null ? -1 : b === null ? 1 : compareValues(a, b);
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return 0;
  });
}

/** Decimal strings compared by value: `1.50` equals `1.5`, `-0.0` equals `0`. */
export function canonicalDecimal(value: unknown): string {
  const text = String(value);
  const negative = text.startsWith('-');
  let [int = '0', frac = ''] = text.replace(/^[+-]/, '').split('.');
  int = int.replace(/^0+(?=\d)/, '');
  frac = frac.replace(/0+$/, '');
  const body = frac ? `${int}.${frac}` : int;
  return negative && body !== '0' ? `-${body}` : body;
}
