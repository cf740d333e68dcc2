import { badRequest } from '../model/errors.js';
import { bindFilter, type Filter } from '../model/filter.js';
import { clampLimit, type SortTerm } from '../model/query.js';
import type { TableSchema } from '../model/schema.js';
import { coerceValue, type Row } from '../model/values.js';
import { byPrimaryKey, combineRow } from './combined-rows.js';
import type {
  CombinedPage,
  CombinedQuery,
  CombinedRow,
  CombinedTable,
  EntityKeying,
} from './combined-table.js';
import { planStreams, type StreamPlan } from './stream-plan.js';
import {
  StreamReader,
  compareEmitted,
  type Emitted,
  type ReadContext,
  type ResumePoint,
} from './stream-reader.js';

/** The exposed columns as a table schema, for checking filters, sorts and field lists. */
function exposedSchema(table: CombinedTable): TableSchema {
  return {
    schema: null,
    name: table.definition.name,
    kind: 'view',
    columns: table.columns.map((c) => c.schema),
    primaryKey: [],
    foreignKeys: [],
    uniqueIndexes: [],
  };
}

function checkSort(table: CombinedTable, sort: SortTerm[] | undefined): ReadContext['sort'] {
  const out: ReadContext['sort'] = [];
  for (const term of sort ?? []) {
    const column = table.columns.find((c) => c.name === term.field);
    if (!column)
      throw badRequest('unknown_field', `unknown field "${term.field}" in sort`, {
        field: term.field,
        table: table.definition.name,
      });
    if (column.schema.type === 'json')
      throw badRequest('invalid_sort', `cannot sort by json field "${term.field}"`);
    if (!out.some((t) => t.field === term.field)) out.push({ ...term, type: column.schema.type });
  }
  return out;
}

function keyingOf(table: CombinedTable): EntityKeying {
  return table.keying.session?.() ?? table.keying;
}

/** Checks the request and plans the streams of one read. */
function prepare(table: CombinedTable, filter: Filter | undefined, sortTerms: SortTerm[] | undefined) {
  const bound = filter
    ? bindFilter(filter, exposedSchema(table), (column, value, path) => coerceValue(column, value, path))
    : undefined;
  const sort = checkSort(table, sortTerms);
  const plans = planStreams(table, bound, sort);
  const ctx: ReadContext = {
    table,
    keying: keyingOf(table),
    filter: bound,
    sort,
    dynamicCache: new Map(),
    types: new Map(table.columns.map((c) => [c.name, c.schema.type])),
    keyTypes: plans.map((p) =>
      table.members[p.driver]!.table.primaryKey.map(
        (name) => table.members[p.driver]!.table.columns.find((c) => c.name === name)!.type,
      ),
    ),
  };
  return { ctx, plans };
}

/**
 * The k-way merge of the streams (each already in order): the combined order. A stream with a
 * lower bound is read only once that bound is the smallest head (see StreamReader.lowerBound).
 */
async function* merged(ctx: ReadContext, plans: StreamPlan[], resume: ResumePoint | null, chunk: number) {
  const readers = plans.map((plan) => new StreamReader(ctx, plan, resume, chunk));
  const read = readers.map((r) => r.lowerBound() === null);
  const heads: (Emitted | ResumePoint | null)[] = await Promise.all(
    readers.map((r, i) => (read[i] ? r.peek() : r.lowerBound())),
  );
  for (;;) {
    let best = -1;
    heads.forEach((head, i) => {
      if (head && (best < 0 || compareEmitted(ctx, head, heads[best]!) < 0)) best = i;
    });
    if (best < 0) return;
    const reader = readers[best]!;
    if (read[best]) yield reader.take();
    read[best] = true;
    heads[best] = await reader.peek();
  }
}

interface CursorPayload {
  s: string;
  v: unknown[];
  st: number;
  k: unknown[];
}

function signature(ctx: ReadContext, plans: StreamPlan[]): string {
  return JSON.stringify([ctx.sort.map((t) => [t.field, t.dir]), plans.map((p) => p.driver)]);
}

function encodeCursor(ctx: ReadContext, plans: StreamPlan[], last: Emitted): string {
  const payload: CursorPayload = {
    s: signature(ctx, plans),
    v: last.sortValues,
    st: last.stream,
    k: last.driverKey,
  };
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

function decodeCursor(ctx: ReadContext, plans: StreamPlan[], cursor: string): ResumePoint {
  let payload: CursorPayload | null = null;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorPayload;
  } catch {
    // reported below
  }
  if (
    !payload ||
    payload.s !== signature(ctx, plans) ||
    !Array.isArray(payload.v) ||
    !Array.isArray(payload.k) ||
    !plans.some((p) => p.index === payload.st)
  )
    throw badRequest(
      'invalid_cursor',
      'cursor belongs to another sort or combined table: start again without cursor',
    );
  return { sortValues: payload.v, stream: payload.st, driverKey: payload.k };
}

function project(row: CombinedRow, fields: string[] | undefined): CombinedRow {
  if (!fields) return row;
  const out: Row = {};
  for (const field of fields) out[field] = row[field] ?? null;
  return Object.assign(out, { _key: row._key, _members: row._members });
}

/**
 * A page of a combined table, with the filter, sort and page parameters of any table. Pages are
 * keyset pages over (sort values, stream, driver primary key): stable while rows are inserted.
 * `offset` walks the merged order (its cost grows with the offset). `count: true` counts exactly by
 * walking the whole result; `count: 'estimate'` sums the streams' driver counts (an upper bound).
 *
 * @example
 * ```ts
 * const page = await listCombinedRows(customers, { filter: { field: 'billing_cycle', op: 'eq', value: 'monthly' }, sort: [{ field: 'business_name', dir: 'asc' }], limit: 50 });
 * const more = await listCombinedRows(customers, { ...sameQuery, cursor: page.next! });
 * ```
 */
export async function listCombinedRows(table: CombinedTable, query: CombinedQuery): Promise<CombinedPage> {
  const limit = clampLimit(query.limit);
  const fields = checkFields(table, query.fields);
  if (query.offset !== undefined && query.cursor)
    throw badRequest('invalid_offset', 'give either offset or cursor, not both');
  const offset = query.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0)
    throw badRequest('invalid_offset', 'offset must be an integer >= 0');
  const { ctx, plans } = prepare(table, query.filter, query.sort);
  const resume = query.cursor ? decodeCursor(ctx, plans, query.cursor) : null;
  const taken: Emitted[] = [];
  let skipped = 0;
  for await (const emitted of merged(ctx, plans, resume, limit + offset + 1)) {
    if (skipped < offset) {
      skipped++;
      continue;
    }
    taken.push(emitted);
    if (taken.length > limit) break;
  }
  const rows = taken.slice(0, limit);
  const page: CombinedPage = {
    rows: rows.map((e) => project(e.row, fields)),
    next: taken.length > limit ? encodeCursor(ctx, plans, rows[rows.length - 1]!) : null,
  };
  if (query.count === true) {
    let total = 0;
    const fresh = prepare(table, query.filter, query.sort);
    for await (const emitted of merged(fresh.ctx, fresh.plans, null, 10_000)) {
      void emitted;
      total++;
    }
    return { ...page, total, totalExact: true };
  }
  if (query.count === 'estimate') return { ...page, total: await estimate(ctx, plans), totalExact: false };
  return page;
}

function checkFields(table: CombinedTable, fields: string[] | undefined): string[] | undefined {
  if (!fields || fields.length === 0) return undefined;
  for (const field of fields)
    if (!table.columns.some((c) => c.name === field))
      throw badRequest('unknown_field', `unknown field "${field}" in fields`, {
        field,
        table: table.definition.name,
      });
  return fields;
}

/** Upper bound of the row count: each stream's driver rows passing its pushed filter. */
async function estimate(ctx: ReadContext, plans: StreamPlan[]): Promise<number> {
  const counts = await Promise.all(
    plans
      .filter((p) => !p.empty)
      .map((p) => {
        const member = ctx.table.members[p.driver]!;
        const filter = p.pushed.length === 0 ? undefined : { and: p.pushed };
        return member.connector.count(member.table, filter);
      }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/** Every row of a read in order, in batches (exports, materialization), holding a chunk at a time. */
export async function* streamCombinedRows(
  table: CombinedTable,
  query: { filter?: Filter; sort?: SortTerm[] },
  batchSize = 1_000,
): AsyncIterable<CombinedRow[]> {
  const { ctx, plans } = prepare(table, query.filter, query.sort);
  let batch: CombinedRow[] = [];
  for await (const emitted of merged(ctx, plans, null, 5_000)) {
    batch.push(emitted.row);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * One entity by its key (`_key` of a row): the combined row and each member's full row (null where
 * the member lacks it), or null when no member holds it or the join kind hides it. With several rows
 * of one member for the key, the first by primary key is the entity's.
 */
export async function getCombinedRow(
  table: CombinedTable,
  key: string,
): Promise<{ row: CombinedRow; memberRows: (Row | null)[] } | null> {
  const keying = keyingOf(table);
  const found = await Promise.all(
    table.members.map((m) =>
      keying.rowsFor(
        m.index,
        [key],
        m.table.columns.map((c) => c.name),
      ),
    ),
  );
  const memberRows = found.map((map, i) => map.get(key)?.sort(byPrimaryKey(table, i))[0] ?? null);
  const join = table.definition.join;
  if (memberRows.every((r) => r === null)) return null;
  if (join === 'inner' && memberRows.some((r) => r === null)) return null;
  if (join === 'left' && memberRows[0] === null) return null;
  return { row: await combineRow(table, key, memberRows), memberRows };
}
