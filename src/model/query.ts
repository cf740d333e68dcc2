import { badRequest } from './errors.js';
import type { Filter } from './filter.js';
import type { TableSchema } from './schema.js';
import type { Row } from './values.js';

export type SortDirection = 'asc' | 'desc';
export interface SortTerm {
  field: string;
  dir: SortDirection;
}

/**
 * A page request. Pages are keyset pages by default: the answer's `next` cursor continues after the
 * last row, stable under concurrent inserts and deletes. `offset` gives classic offset pages instead.
 * NULL sorts first ascending and last descending on every engine; the primary key breaks ties.
 */
export interface RowQuery {
  filter?: Filter;
  sort?: SortTerm[];
  limit?: number;
  cursor?: string;
  offset?: number;
  /** Only these columns (default: all). */
  fields?: string[];
}

export interface RowPage {
  rows: Row[];
  /** Opaque cursor for the next page, null on the last page. */
  next: string | null;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 10_000;

/** Parses `sort=a,-b` (or a JSON array of `{field,dir}` for names that contain commas). */
export function parseSort(text: string): SortTerm[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw badRequest('invalid_sort', 'sort is neither "a,-b" nor a JSON array of {field, dir}');
    }
    if (!Array.isArray(parsed)) throw badRequest('invalid_sort', 'sort must be an array');
    return parsed.map((t, i) => {
      const term = t as Partial<SortTerm>;
      if (
        typeof term?.field !== 'string' ||
        (term.dir !== undefined && term.dir !== 'asc' && term.dir !== 'desc')
      ) {
        throw badRequest('invalid_sort', `sort[${i}] must be {field, dir: "asc"|"desc"}`);
      }
      return { field: term.field, dir: term.dir ?? 'asc' };
    });
  }
  return trimmed.split(',').map((part) => {
    const p = part.trim();
    if (p === '' || p === '-') throw badRequest('invalid_sort', `empty field in sort "${text}"`);
    return p.startsWith('-') ? { field: p.slice(1), dir: 'desc' } : { field: p, dir: 'asc' };
  });
}

/** Checks sort fields against the table and appends the primary key (or all columns) as tie-break. */
export function resolveSort(table: TableSchema, sort: SortTerm[] | undefined): SortTerm[] {
  const terms: SortTerm[] = [];
  for (const term of sort ?? []) {
    const column = table.columns.find((c) => c.name === term.field);
    if (!column) {
      throw badRequest('unknown_field', `unknown field "${term.field}" in sort`, {
        field: term.field,
        table: table.name,
      });
    }
    if (column.type === 'json') throw badRequest('invalid_sort', `cannot sort by json field "${term.field}"`);
    if (!terms.some((t) => t.field === term.field)) terms.push(term);
  }
  const tieBreak =
    table.primaryKey.length > 0
      ? table.primaryKey
      : table.columns.filter((c) => c.type !== 'json').map((c) => c.name);
  for (const field of tieBreak) {
    if (!terms.some((t) => t.field === field)) terms.push({ field, dir: 'asc' });
  }
  return terms;
}

interface CursorPayload {
  /** Sort signature the cursor belongs to. */
  s: string;
  /** Values of the sort terms of the last row, in wire format. */
  v: unknown[];
  /** Offset of the next page, for tables without a primary key (see encodeOffsetCursor). */
  o?: number;
}

function sortSignature(sort: SortTerm[]): string {
  return JSON.stringify(sort.map((t) => [t.field, t.dir]));
}

export function encodeCursor(sort: SortTerm[], lastRow: Row): string {
  const payload: CursorPayload = { s: sortSignature(sort), v: sort.map((t) => lastRow[t.field] ?? null) };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/**
 * A table without a primary key can hold identical rows, which no keyset tells apart (a keyset
 * cursor would skip the copies of the last row). Its cursor carries the offset of the next page.
 */
export function encodeOffsetCursor(sort: SortTerm[], offset: number): string {
  const payload: CursorPayload = { s: sortSignature(sort), v: [], o: offset };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

function readCursor(sort: SortTerm[], cursor: string): CursorPayload {
  let payload: CursorPayload;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorPayload;
  } catch {
    throw badRequest('invalid_cursor', 'cursor is not one Braid issued');
  }
  if (!payload || !Array.isArray(payload.v) || payload.s !== sortSignature(sort)) {
    throw badRequest(
      'invalid_cursor',
      'cursor belongs to another sort or filter: start again without cursor',
    );
  }
  return payload;
}

/** Decodes a cursor and checks it was made for this sort; returns the last row's sort values. */
export function decodeCursor(sort: SortTerm[], cursor: string): unknown[] {
  const payload = readCursor(sort, cursor);
  if (payload.o !== undefined || payload.v.length !== sort.length) {
    throw badRequest(
      'invalid_cursor',
      'cursor belongs to another sort or filter: start again without cursor',
    );
  }
  return payload.v;
}

/** Decodes a cursor made by encodeOffsetCursor for this sort; returns the offset of the next page. */
export function decodeOffsetCursor(sort: SortTerm[], cursor: string): number {
  const { o } = readCursor(sort, cursor);
  if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0) {
    throw badRequest('invalid_cursor', 'cursor belongs to another table or sort: start again without cursor');
  }
  return o;
}

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw badRequest('invalid_limit', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`, { limit });
  }
  return limit;
}
