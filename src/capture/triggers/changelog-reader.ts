import type { Connector } from '../../connectors/connector.js';
import type { ChangeEvent, ChangeOp } from '../../model/change-event.js';
import { qualifiedName, type TableSchema } from '../../model/schema.js';
import type { Row } from '../../model/values.js';
import { parseImage } from './lossless-json.js';
import type { CaptureNames, SettleSnapshot, TriggerDialect } from './trigger-dialect.js';

const POSITION_DIGITS = 20;

/** Changelog id -> position: zero-padded so that positions compare as strings in id order. */
export function positionOf(id: string): string {
  return id.padStart(POSITION_DIGITS, '0');
}

/** Position -> changelog id (a position from another strategy is refused). */
export function idOf(position: string): bigint {
  if (!/^\d{1,20}$/.test(position)) throw new Error(`"${position}" is not a trigger-capture position`);
  return BigInt(position);
}

interface Pending {
  high: bigint;
  running: Set<string> | null;
  at: number;
}

export interface ReaderOptions {
  source: string;
  batchSize: number;
  /** Without a list of open writers (MySQL without PROCESS), how long an id may still be overtaken. */
  graceMs: number;
}

/**
 * Reads the changelog in id order, but only up to the highest id no open transaction can still
 * undercut: ids are drawn when a row is written, not when it commits, so a long transaction can
 * commit id 5 after id 6 was read. Every poll notes the highest visible id together with the
 * writers open at that moment (see TriggerDialect.settle); once all of those have ended, every id
 * up to it is final. In a quiet database that is the same poll.
 */
export class ChangelogReader {
  private pending: Pending[] = [];
  private settled = -1n;

  constructor(
    private readonly connector: Connector,
    private readonly dialect: TriggerDialect,
    private readonly names: CaptureNames,
    private readonly tables: TableSchema[],
    private readonly options: ReaderOptions,
  ) {}

  private async settle(): Promise<bigint> {
    const now: SettleSnapshot = await this.dialect.settle(this.connector, this.names);
    const at = Date.now();
    // An earlier check with the same highest id covers this one, and its writers end sooner.
    if (now.high !== null && this.pending[this.pending.length - 1]?.high !== BigInt(now.high)) {
      this.pending.push({ high: BigInt(now.high), running: now.running && new Set(now.running), at });
    }
    const open = new Set(now.running ?? []);
    let done = -1;
    this.pending.forEach((p, i) => {
      const over =
        p.running === null || now.running === null
          ? at - p.at >= this.options.graceMs
          : [...p.running].every((tx) => !open.has(tx));
      if (over) done = i;
    });
    if (done >= 0) {
      const highest = this.pending[done]!.high;
      if (highest > this.settled) this.settled = highest;
      this.pending = this.pending.slice(done + 1);
    }
    // Bounded memory when writers never stop overlapping: keep the newest checks.
    if (this.pending.length > 1000) this.pending = this.pending.slice(-1000);
    return this.settled;
  }

  /**
   * The next events after `position`, at most one batch. Ids that follow `position` without a gap
   * are final at once: every id below them is visible too, so no open transaction can still commit
   * one in between. Only a gap (a writer still open, or one that rolled back) needs `settle`, which
   * on MySQL waits for InnoDB's transaction list to refresh.
   */
  async read(position: string | null): Promise<ChangeEvent[]> {
    const after = position === null ? -1n : idOf(position);
    const visible = await this.rows(after, null);
    const contiguous: Row[] = [];
    for (const row of visible) {
      if (BigInt(String(row.id)) !== after + 1n + BigInt(contiguous.length)) break;
      contiguous.push(row);
    }
    if (contiguous.length > 0) return this.eventsOf(contiguous);
    if (visible.length === 0) return [];
    const upTo = await this.settle();
    if (upTo <= after) return [];
    return this.eventsOf(await this.rows(after, upTo));
  }

  private async rows(after: bigint, upTo: bigint | null): Promise<Row[]> {
    const { rows } = await this.connector.rawQuery(
      `select id, table_name, op, row_key, old_row, new_row, commit_time, origin from ${this.dialect.changelogSql(this.names)}
        where id > :after${upTo === null ? '' : ' and id <= :upTo'} order by id limit ${Number(this.options.batchSize)}`,
      upTo === null ? { after: String(after) } : { after: String(after), upTo: String(upTo) },
    );
    return rows;
  }

  private async eventsOf(rows: Row[]): Promise<ChangeEvent[]> {
    const events: ChangeEvent[] = [];
    for (const row of rows) {
      const event = this.toEvent(row);
      if (event) events.push(event);
    }
    if (events.length === 0 && rows.length > 0) {
      // Every row of the batch belongs to a table no longer captured: read past them rather than
      // answer an empty batch, which would look like the end of the log.
      return this.read(positionOf(String(rows[rows.length - 1]!.id)));
    }
    return events;
  }

  private toEvent(row: Row): ChangeEvent | null {
    const table = this.tables.find((t) => qualifiedName(t, this.connector.defaultSchema) === row.table_name);
    if (!table) return null;
    const op = row.op as ChangeOp;
    const before = row.old_row ? this.decode(table, String(row.old_row)) : undefined;
    const after = row.new_row ? this.decode(table, String(row.new_row)) : undefined;
    const origin = row.origin === null || row.origin === undefined ? undefined : String(row.origin);
    return {
      source: this.options.source,
      table: String(row.table_name),
      op,
      key: row.row_key ? this.decode(table, String(row.row_key)) : {},
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
      commitTime: isoUtc(row.commit_time),
      position: positionOf(String(row.id)),
      ...(origin !== undefined ? { origin } : {}),
    };
  }

  /** A JSON row image -> wire values, through the connector's own codec for each column. */
  private decode(table: TableSchema, image: string): Row {
    const raw = parseImage(image);
    const out: Row = {};
    const decodeValue = this.connector.decodeValue;
    if (!decodeValue) throw new Error(`the ${this.connector.kind} connector cannot decode raw values`);
    for (const column of table.columns) {
      if (!(column.name in raw)) continue;
      const value = this.dialect.driverValue(column, raw[column.name]);
      out[column.name] = value === null ? null : decodeValue.call(this.connector, table, column, value);
    }
    return out;
  }
}

/** Changelog times (`2024-05-01 10:00:00.123456`, `...T...Z`, `...+00`) -> ISO 8601 UTC with `Z`. */
function isoUtc(value: unknown): string {
  const text = String(value).trim().replace(' ', 'T');
  if (/[zZ]$/.test(text)) return text.toUpperCase();
  if (/[+-]\d{2}(:?\d{2})?$/.test(text)) return new Date(text).toISOString();
  return `${text}Z`;
}
