import { BraidError } from '../model/errors.js';
import type { Filter } from '../model/filter.js';
import type { PortableType } from '../model/schema.js';
import type { SortTerm } from '../model/query.js';
import type { Row } from '../model/values.js';
import { byPrimaryKey, combineRow, memberFields } from './combined-rows.js';
import type { CombinedRow, CombinedTable, EntityKeying } from './combined-table.js';
import { keysetAfter, type Predicate } from './keyset-filter.js';
import { matchesFilter } from './row-filter.js';
import type { StreamPlan } from './stream-plan.js';
import { compareSortValue, compareValues } from './value-order.js';

/** A combined row with its place in the order: user sort values, stream, driver primary key. */
export interface Emitted {
  row: CombinedRow;
  sortValues: unknown[];
  stream: number;
  driverKey: unknown[];
}

/** Where a read resumes: the last row of the previous page. */
export interface ResumePoint {
  sortValues: unknown[];
  stream: number;
  driverKey: unknown[];
}

/** What every stream of one read shares. */
export interface ReadContext {
  table: CombinedTable;
  keying: EntityKeying;
  /** Bound to the combined columns; always evaluated on the joined rows. */
  filter: Filter | undefined;
  sort: (SortTerm & { type: PortableType })[];
  /** Semi-join filters already turned into driver filters, by member and filter (shared by streams). */
  /** Semi-join reads by member and filter (rows by entity key, null when too many), shared by streams. */
  dynamicCache: Map<string, Promise<Map<string, Row[]> | null>>;
  /** Each exposed column's type (the filter is evaluated on every joined row). */
  types: Map<string, PortableType>;
  /** Types of each stream's driver primary key, for the last tie-break. */
  keyTypes: PortableType[][];
}

/** Rows a stream that cannot be ordered by its source may sort in memory. */
export const MAX_IN_MEMORY_SORT = 100_000;
/** Keys a semi-join filter may carry to the driver; more and it is checked on the joined rows. */
export const MAX_SEMI_JOIN_KEYS = 10_000;
const MAX_CHUNK = 10_000;

/**
 * Driver rows to read first for a page of `pageSize`: more when rows will be dropped (entities
 * that must lack a member: most of them have it; entities that must have one: some lack it), so
 * that one round trip usually fills the page.
 */
function firstChunk(plan: StreamPlan, pageSize: number): number {
  if (plan.absent.length > 0) return pageSize * 4;
  if (plan.present.length > 0 || plan.dynamic.length > 0) return Math.ceil(pageSize * 1.5) + 10;
  return pageSize;
}

/** Orders two emitted rows: user sort terms, then stream, then the driver's primary key. */
export function compareEmitted(ctx: ReadContext, a: ResumePoint, b: ResumePoint): number {
  for (const [i, term] of ctx.sort.entries()) {
    const c = compareSortValue(term.type, term.dir, a.sortValues[i], b.sortValues[i]);
    if (c !== 0) return c;
  }
  if (a.stream !== b.stream) return a.stream - b.stream;
  for (let i = 0; i < a.driverKey.length; i++) {
    const c = compareValues(ctx.keyTypes[a.stream]?.[i] ?? 'text', a.driverKey[i], b.driverKey[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * Reads one stream in order, a chunk at a time: driver rows (pushed filter, semi-join filters,
 * keyset resume, sort), then the other members' rows of those entities in one batched lookup per
 * member, joined, checked against the join rule and the whole filter. Holds one chunk at most,
 * except a stream its driver cannot order, which is read whole and sorted (MAX_IN_MEMORY_SORT).
 */
export class StreamReader {
  private buffer: Emitted[] = [];
  private driverCursor: string | undefined;
  private done = false;
  private started = false;
  private driverFilter: Filter | undefined;
  private chunk: number;
  /** Rows of members fetched for a semi-join, by entity key: they are those members' partner rows. */
  private readonly semiJoinRows = new Map<number, Map<string, Row[]>>();

  constructor(
    private readonly ctx: ReadContext,
    private readonly plan: StreamPlan,
    private readonly resume: ResumePoint | null,
    pageSize: number,
  ) {
    if (plan.empty) this.done = true;
    this.chunk = Math.min(firstChunk(plan, pageSize), MAX_CHUNK);
  }

  async peek(): Promise<Emitted | null> {
    while (this.buffer.length === 0 && !this.done) await this.fill();
    return this.buffer[0] ?? null;
  }

  take(): Emitted {
    return this.buffer.shift()!;
  }

  /**
   * A point no row of this stream sorts before, known without reading, or null. Only a stream whose
   * every sort value is NULL has one (all its rows tie on the sort); the merge then reads it only
   * when that point would come next, so a stream of rows missing the sorted member (or, unsorted,
   * a later stream) costs nothing until the page reaches it.
   */
  lowerBound(): ResumePoint | null {
    if (!this.plan.sort || this.plan.sort.some((t) => t.column !== null)) return null;
    return { sortValues: this.plan.sort.map(() => null), stream: this.plan.index, driverKey: [] };
  }

  private async start(): Promise<void> {
    this.started = true;
    const parts: Filter[] = [...this.plan.pushed];
    for (const dynamic of this.plan.dynamic) {
      const filter = await this.semiJoin(dynamic.member, dynamic.filter);
      if (filter) parts.push(filter);
    }
    if (this.resume && this.plan.sort) {
      const resume = this.resumeFilter(this.plan.sort, this.resume);
      if (resume === false) {
        this.done = true;
        return;
      }
      if (resume !== true) parts.push(resume);
    }
    this.driverFilter = parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : { and: parts };
  }

  /** "After the resume point" on this stream's driver columns (see compareEmitted). */
  private resumeFilter(sort: NonNullable<StreamPlan['sort']>, at: ResumePoint): Predicate {
    if (at.stream === this.plan.index) {
      const pk = this.ctx.table.members[this.plan.driver]!.table.primaryKey;
      return keysetAfter(
        [...sort, ...pk.map((column) => ({ dir: 'asc' as const, column }))],
        [...at.sortValues, ...at.driverKey],
        true,
      );
    }
    return keysetAfter(sort, at.sortValues, at.stream > this.plan.index);
  }

  /**
   * The driver filter keeping the entities whose member `member` passes `filter` (Trino's dynamic
   * filtering). The member's rows read for it are kept: they are its partner rows for this stream.
   */
  private async semiJoin(member: number, filter: Filter): Promise<Filter | null> {
    const cacheKey = JSON.stringify([member, filter]);
    let cached = this.ctx.dynamicCache.get(cacheKey);
    if (!cached) {
      cached = (async () => {
        const { table, keying } = this.ctx;
        const target = table.members[member]!;
        const page = await target.connector.select(target.table, {
          filter,
          fields: memberFields(table, member),
          limit: MAX_SEMI_JOIN_KEYS,
        });
        if (page.next) return null;
        const keys = await keying.keysOf(member, page.rows);
        const rows = new Map<string, Row[]>();
        page.rows.forEach((row, i) => {
          const list = rows.get(keys[i]!);
          if (list) list.push(row);
          else rows.set(keys[i]!, [row]);
        });
        return rows;
      })();
      this.ctx.dynamicCache.set(cacheKey, cached);
    }
    const rows = await cached;
    if (!rows) return null;
    this.semiJoinRows.set(member, rows);
    return this.ctx.keying.filterFor(this.plan.driver, [...rows.keys()]);
  }

  private async fill(): Promise<void> {
    if (!this.started) await this.start();
    if (this.done) return;
    if (!this.plan.sort) return this.fillSortedInMemory();
    const { table } = this.ctx;
    const driver = table.members[this.plan.driver]!;
    const page = await driver.connector.select(driver.table, {
      ...(this.driverFilter ? { filter: this.driverFilter } : {}),
      sort: this.plan.sort.filter((t) => t.column !== null).map((t) => ({ field: t.column!, dir: t.dir })),
      fields: memberFields(table, this.plan.driver),
      limit: this.chunk,
      ...(this.driverCursor ? { cursor: this.driverCursor } : {}),
    });
    this.driverCursor = page.next ?? undefined;
    if (!page.next) this.done = true;
    const accepted = await this.join(page.rows);
    this.buffer.push(...accepted);
    // Most rows were dropped (other members' filters, anti-joins): read further ahead next time.
    if (accepted.length * 2 < page.rows.length) this.chunk = Math.min(this.chunk * 4, MAX_CHUNK);
  }

  private async fillSortedInMemory(): Promise<void> {
    const { table } = this.ctx;
    const driver = table.members[this.plan.driver]!;
    const all: Emitted[] = [];
    let cursor: string | undefined;
    do {
      const page = await driver.connector.select(driver.table, {
        ...(this.driverFilter ? { filter: this.driverFilter } : {}),
        fields: memberFields(table, this.plan.driver),
        limit: MAX_CHUNK,
        ...(cursor ? { cursor } : {}),
      });
      all.push(...(await this.join(page.rows)));
      if (all.length > MAX_IN_MEMORY_SORT)
        throw new BraidError(
          422,
          'sort_too_large',
          `sorting on "${this.ctx.sort.map((t) => t.field).join(', ')}" needs more than ${MAX_IN_MEMORY_SORT} rows of member "${driver.name}" in memory (a transformed or shared column its source cannot order by): add a filter or sort on a column of one member`,
          { member: driver.name, limit: MAX_IN_MEMORY_SORT },
        );
      cursor = page.next ?? undefined;
    } while (cursor);
    all.sort((a, b) => compareEmitted(this.ctx, a, b));
    const resume = this.resume;
    this.buffer = resume ? all.filter((e) => compareEmitted(this.ctx, e, resume) > 0) : all;
    this.done = true;
  }

  /** Joins driver rows with the other members' rows and keeps the visible ones passing the filter. */
  private async join(driverRows: Row[]): Promise<Emitted[]> {
    if (driverRows.length === 0) return [];
    const { table, keying, filter, sort } = this.ctx;
    const { driver } = this.plan;
    const keys = await keying.keysOf(driver, driverRows);
    const unique = [...new Set(keys)];
    const others = table.members.filter((m) => m.index !== driver);
    const partners = await Promise.all(
      others.map((m) => {
        const known = this.semiJoinRows.get(m.index);
        if (known) return known;
        const dynamic = this.plan.absent.includes(m.index)
          ? undefined
          : this.plan.dynamic.find((d) => d.member === m.index)?.filter;
        return keying.rowsFor(m.index, unique, memberFields(table, m.index), dynamic);
      }),
    );
    const out: Emitted[] = [];
    const driverPk = table.members[driver]!.table.primaryKey;
    const orders = others.map((m) => byPrimaryKey(table, m.index));
    for (const [i, driverRow] of driverRows.entries()) {
      const key = keys[i]!;
      const memberRows: (Row | null)[] = table.members.map(() => null);
      memberRows[driver] = driverRow;
      others.forEach((m, j) => {
        const rows = partners[j]!.get(key);
        memberRows[m.index] = rows ? (rows.length > 1 ? rows.sort(orders[j]) : rows)[0]! : null;
      });
      if (this.plan.absent.some((m) => memberRows[m])) continue;
      if (this.plan.present.some((m) => !memberRows[m])) continue;
      const row = await combineRow(table, key, memberRows);
      if (filter && !matchesFilter(filter, row, (f) => this.ctx.types.get(f) ?? 'text')) continue;
      out.push({
        row,
        sortValues: sort.map((t) => row[t.field] ?? null),
        stream: this.plan.index,
        driverKey: driverPk.map((c) => driverRow[c]),
      });
    }
    return out;
  }
}
