import type { MysqlTarget } from '../../connectors/mysql/mysql-config.js';
import type { ChangeEvent } from '../../model/change-event.js';
import { BraidError } from '../../model/errors.js';
import type { ChangeHandler } from '../capture-strategy.js';
import { StreamRun } from '../stream-run.js';
import { BinlogConnection } from './binlog-connection.js';
import { parseEvent, parseHeader, type TableMap } from './binlog-events.js';
import { comparePositions, formatPosition, type BinlogPosition } from './binlog-position.js';
import type { TableDecoder } from './table-decoder.js';

export interface BinlogRunOptions {
  target: MysqlTarget;
  decoder: TableDecoder;
  handler: ChangeHandler;
  serverId: number;
  heartbeatMs: number;
  /** Where the dump begins: the start of `from`'s transaction, or the end of the log. */
  file: string;
  offset: number;
  /** Events at or before it are not delivered (the consumer has them). */
  from: BinlogPosition | null;
  fromText: string | null;
}

/** Stop reading the socket above this many committed transactions waiting for the handler. */
const QUEUE_HIGH = 1_000;
const QUEUE_LOW = 100;
/**
 * Transactions waiting while the handler was busy go to it together, up to this many events: under
 * load the consumer gets bigger batches (and may apply them concurrently) instead of falling behind
 * one small transaction at a time. A single bigger transaction is still delivered whole.
 */
const MAX_BATCH_EVENTS = 500;

interface OpenTransaction {
  offset: number;
  nextIndex: number;
  origin?: string;
  events: ChangeEvent[];
}

/**
 * One dump session: groups row events into transactions (GTID/BEGIN ... XID/COMMIT), keeps the
 * captured tables' events, tags them with the transaction's origin, and hands committed
 * transactions to the handler, one batch after the other, in binlog (= commit) order: each whole
 * transaction, or several that waited meanwhile. The position advances only after the handler
 * resolved for the whole batch.
 */
export class BinlogRun extends StreamRun {
  private readonly connection: BinlogConnection;
  private readonly maps = new Map<number, TableMap>();
  private readonly ready: ChangeEvent[][] = [];
  private file: string;
  private txn: OpenTransaction | null = null;
  private position: string | null;

  constructor(private readonly options: BinlogRunOptions) {
    super();
    this.file = options.file;
    this.position = options.fromText;
    this.connection = new BinlogConnection({
      target: options.target,
      serverId: options.serverId,
      file: options.file,
      position: options.offset,
      heartbeatMs: options.heartbeatMs,
      onEvent: (event) => this.receive(event),
      onFatal: (err) => void this.fail(streamError(err)),
    });
  }

  get lastPosition(): string | null {
    return this.position;
  }

  /** The server's thread id of the dump session (SHOW PROCESSLIST), for diagnostics. */
  get threadId(): number | null {
    return this.connection.threadId;
  }

  async start(): Promise<void> {
    await this.connection.start();
  }

  protected closeStream(): Promise<void> {
    return this.connection.close();
  }

  protected pending(): number {
    return this.ready.length;
  }

  protected async handleNext(): Promise<void> {
    if (this.ready.length < QUEUE_LOW) this.connection.resume();
    const events = [...this.ready.shift()!];
    while (this.ready.length > 0 && events.length + this.ready[0]!.length <= MAX_BATCH_EVENTS) {
      events.push(...this.ready.shift()!);
    }
    await this.options.handler(events);
    this.position = events[events.length - 1]!.position;
  }

  /** Decodes synchronously: a table id is only valid until the next TABLE_MAP reuses it. */
  private receive(raw: Buffer): void {
    if (this.stopping) return;
    try {
      this.apply(raw);
    } catch (err) {
      void this.fail(err);
    }
  }

  private apply(raw: Buffer): void {
    const header = parseHeader(raw);
    const event = parseEvent(header, raw);
    switch (event.kind) {
      case 'rotate':
        this.file = event.file;
        return;
      case 'begin':
        // Offsets of artificial events are 0; real ones end at nextPosition.
        this.txn = { offset: header.nextPosition - header.size, nextIndex: 0, events: [] };
        return;
      case 'tableMap':
        this.maps.set(event.map.tableId, event.map);
        return;
      case 'rows':
        this.rows(event);
        return;
      case 'commit':
        this.commit(header.timestamp);
        return;
      default:
        return;
    }
  }

  private rows(event: Extract<ReturnType<typeof parseEvent>, { kind: 'rows' }>): void {
    const map = this.maps.get(event.tableId);
    const txn = this.txn;
    if (!map || !txn) return;
    const { decoder } = this.options;
    if (decoder.isOriginMarker(map)) {
      const origin = decoder.origins(event.op, event.body, event.offset, map)[0];
      if (origin !== undefined) {
        txn.origin = origin;
        // Events before the marker in the same transaction belong to the same origin.
        for (const e of txn.events) e.origin = origin;
      }
      return;
    }
    if (!decoder.captures(map)) return;
    for (const change of decoder.changes(event.op, event.body, event.offset, map)) {
      const at: BinlogPosition = { file: this.file, offset: txn.offset, index: txn.nextIndex++ };
      if (this.options.from && comparePositions(at, this.options.from) <= 0) continue;
      const e: ChangeEvent = { ...change, commitTime: '', position: formatPosition(at) };
      if (txn.origin !== undefined) e.origin = txn.origin;
      txn.events.push(e);
    }
  }

  private commit(timestamp: number): void {
    const txn = this.txn;
    this.txn = null;
    if (!txn || txn.events.length === 0) return;
    const commitTime = new Date(timestamp * 1000).toISOString();
    for (const e of txn.events) e.commitTime = commitTime;
    this.ready.push(txn.events);
    if (this.ready.length > QUEUE_HIGH) this.connection.pause();
    this.kick();
  }
}

/** The server's reasons to end a dump, in words that say what to do. */
export function streamError(err: Error & { errno?: number }): BraidError {
  if (err instanceof BraidError) return err;
  if (err.errno === 1236) {
    return new BraidError(
      410,
      'capture_position_lost',
      `The binlog at the stored position is no longer on the server (${err.message}): ` +
        'changes since then are lost to capture; reconcile the tables, then start from the current end (from = null)',
      {},
      { cause: err },
    );
  }
  return new BraidError(
    502,
    'capture_stream_lost',
    `The binlog stream ended: ${err.message} (start again from lastPosition to resume)`,
    {},
    { cause: err },
  );
}
