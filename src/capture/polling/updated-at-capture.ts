import { createHash } from 'node:crypto';
import type { Connector } from '../../connectors/connector.js';
import type { ChangeEvent } from '../../model/change-event.js';
import { badRequest } from '../../model/errors.js';
import type { Filter } from '../../model/filter.js';
import { qualifiedName, type TableSchema } from '../../model/schema.js';
import type { Row } from '../../model/values.js';
import type { CaptureStrategy, ChangeHandler } from '../capture-strategy.js';
import { startPollLoop, type PollingRun } from '../triggers/poll-loop.js';
import { decodeState, encodeState, plainTransaction } from './polling-common.js';

export interface UpdatedAtCaptureOptions {
  /** Source id carried by every event. */
  source: string;
  /** Consumer name (nothing is created on the source; it only names the strategy). */
  name: string;
  /** A connector of the source; only reads go through it. */
  connector: Connector;
  /** The column every write sets to the time of the write (default `updated_at`). */
  column?: string;
  /** When given, a row whose `createdColumn` equals its updated column is reported as an insert. */
  createdColumn?: string;
  pollIntervalMs?: number;
  /** Events per handler call at most (default 500). */
  batchSize?: number;
  maxReadFailures?: number;
}

/**
 * Per table: the newest updated value delivered, and the rows delivered with exactly that value
 * (key -> digest). Rows sharing the timestamp that become visible later, whatever their key, are
 * still delivered, and a row updated again within the same timestamp too (its digest differs).
 */
interface Cursor {
  ts: unknown;
  seen: Record<string, string>;
}
type Cursors = Record<string, Cursor>;

/**
 * Polling capture on an "updated at" column, for read-only sources: each poll reads, per table, the
 * rows whose updated_at is at or after the newest one delivered, in (updated_at, primary key)
 * order, skipping rows already delivered with that very timestamp. Rows sharing a timestamp are
 * therefore neither lost (also when one with a lower key commits later) nor repeated. The position
 * lists the rows of the newest timestamp, so it grows with how many rows share one timestamp.
 *
 * What it cannot see, by construction:
 * - deletes (use the snapshot diff strategy, or trigger capture);
 * - a write whose updated_at is older than the newest delivered one when it becomes visible (clock
 *   skew between writers, or a transaction that set updated_at and committed after newer rows
 *   were read);
 * - rows whose updated column is NULL, and intermediate states between two polls.
 * Every change is reported as `update` (or `insert`, see `createdColumn`): consumers apply it as an
 * upsert. `commitTime` is the updated value (read as UTC when the column has no zone).
 *
 * Positions are `<sequence>:<cursors>`: the zero-padded event count orders them, the cursors make
 * each one a complete place to resume from.
 */
export class UpdatedAtCapture implements CaptureStrategy {
  readonly kind = 'polling' as const;
  readonly name: string;
  private tables: TableSchema[] | null = null;
  private readonly column: string;

  constructor(private readonly options: UpdatedAtCaptureOptions) {
    this.name = options.name;
    this.column = options.column ?? 'updated_at';
  }

  /** Checks that every table has a primary key and the updated column; creates nothing. */
  async install(tables: TableSchema[]): Promise<void> {
    for (const table of tables) {
      if (table.primaryKey.length === 0) {
        throw badRequest('no_primary_key', `"${table.name}" has no primary key to order rows by`);
      }
      if (!table.columns.some((c) => c.name === this.column)) {
        throw badRequest('unknown_field', `"${table.name}" has no column "${this.column}"`, {
          field: this.column,
        });
      }
    }
    this.tables = tables;
  }

  async uninstall(): Promise<void> {
    this.tables = null;
  }

  /** From `from`, or (null) from the newest row of each table now. */
  async start(from: string | null, handler: ChangeHandler): Promise<PollingRun> {
    const tables = this.tables;
    if (!tables) throw new Error('install(tables) must be called before start()');
    let start = from;
    if (start === null) {
      const cursors: Cursors = {};
      for (const table of tables) {
        const sort = this.sortOf(table).map((t) => ({ ...t, dir: 'desc' as const }));
        const page = await this.options.connector.select(table, { sort, limit: 1, filter: this.notNull() });
        if (!page.rows[0]) continue;
        // Every row of the newest timestamp counts as delivered: capture starts after them.
        const ts = page.rows[0][this.column];
        const cursor: Cursor = { ts, seen: {} };
        for await (const batch of this.options.connector.stream(table, {
          filter: { field: this.column, op: 'eq', value: ts },
        })) {
          for (const row of batch) cursor.seen[this.keyOf(table, row)] = digestOf(row);
        }
        cursors[this.nameOf(table)] = cursor;
      }
      start = encodeState(0, cursors);
    }
    return startPollLoop(start, (position) => this.read(tables, position), handler, {
      intervalMs: this.options.pollIntervalMs ?? 1000,
      maxReadFailures: this.options.maxReadFailures ?? 5,
    });
  }

  /**
   * A read-only source cannot be marked: `fn` runs in a plain transaction and its changes come
   * back like anyone's, without `origin`. Echo suppression is the consumer's job here: compare
   * the values of an event with what it wrote itself and skip equal ones.
   */
  withOrigin<T>(connector: Connector, _origin: string, fn: (tx: Connector) => Promise<T>): Promise<T> {
    return plainTransaction(connector, fn);
  }

  private nameOf(table: TableSchema): string {
    return qualifiedName(table, this.options.connector.defaultSchema);
  }

  private sortOf(table: TableSchema): { field: string; dir: 'asc' }[] {
    return [this.column, ...table.primaryKey].map((field) => ({ field, dir: 'asc' as const }));
  }

  private keyOf(table: TableSchema, row: Row): string {
    return JSON.stringify(table.primaryKey.map((k) => row[k]));
  }

  private notNull(): Filter {
    return { field: this.column, op: 'notNull' };
  }

  /**
   * The rows after the cursor in (updated, key) order: first those of the cursor's own timestamp
   * not delivered in this state (streamed, since any number of rows may share it), then one page
   * of newer ones.
   */
  private async *candidates(
    table: TableSchema,
    cursor: Cursor | undefined,
    limit: number,
  ): AsyncIterable<Row> {
    const { connector } = this.options;
    const sort = this.sortOf(table);
    if (cursor) {
      const same: Filter = { field: this.column, op: 'eq', value: cursor.ts };
      for await (const batch of connector.stream(table, { filter: same, sort, batchSize: limit }))
        yield* batch;
    }
    const newer: Filter = cursor
      ? { and: [this.notNull(), { field: this.column, op: 'gt', value: cursor.ts }] }
      : this.notNull();
    yield* (await connector.select(table, { filter: newer, sort, limit })).rows;
  }

  private async read(tables: TableSchema[], position: string | null): Promise<ChangeEvent[]> {
    const state = decodeState<Cursors>(position ?? encodeState(0, {}));
    let seq = state.seq;
    const cursors = { ...state.data };
    const limit = this.options.batchSize ?? 500;
    const events: ChangeEvent[] = [];
    for (const table of tables) {
      if (events.length >= limit) break;
      const name = this.nameOf(table);
      for await (const row of this.candidates(table, cursors[name], limit - events.length)) {
        const cursor = cursors[name];
        const ts = row[this.column];
        const key = this.keyOf(table, row);
        const digest = digestOf(row);
        if (cursor && ts === cursor.ts && cursor.seen[key] === digest) continue;
        cursors[name] =
          cursor && ts === cursor.ts
            ? { ts, seen: { ...cursor.seen, [key]: digest } }
            : { ts, seen: { [key]: digest } };
        const created = this.options.createdColumn;
        const inserted = created !== undefined && row[created] !== null && row[created] === ts;
        events.push({
          source: this.options.source,
          table: name,
          op: inserted ? 'insert' : 'update',
          key: Object.fromEntries(table.primaryKey.map((k) => [k, row[k]])),
          after: row,
          commitTime: commitTimeOf(ts),
          position: encodeState(++seq, cursors),
        });
        if (events.length >= limit) break;
      }
    }
    return events;
  }
}

function digestOf(row: Row): string {
  return createHash('sha1').update(JSON.stringify(row)).digest('base64').slice(0, 12);
}

/** The updated value as an ISO instant when it is a date and time, else the time of the poll. */
function commitTimeOf(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value))
    return new Date().toISOString();
  return /Z$/.test(value) ? value : `${value}Z`;
}
