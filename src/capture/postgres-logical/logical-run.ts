import type { ChangeEvent } from '../../model/change-event.js';
import { BraidError } from '../../model/errors.js';
import type { ChangeHandler } from '../capture-strategy.js';
import { StreamRun } from '../stream-run.js';
import type { ChangeDecoder } from './change-decoder.js';
import { comparePositions, formatPosition, pgTimestampToIso, type LogicalPosition } from './lsn.js';
import { parsePgOutput, type PgOutputMessage } from './pgoutput-parser.js';
import { ReplicationConnection, type ReplicationConnectionOptions } from './replication-connection.js';

/** Prefix of the transactional logical message that tags a transaction with its origin. */
export const ORIGIN_MESSAGE_PREFIX = 'braid.origin';

/** A TRUNCATE of captured tables, in stream order (see TruncateHandler). */
export interface TruncateNotice {
  tables: string[];
  position: string;
  commitTime: string;
  origin?: string;
}

/**
 * Called for a TRUNCATE in its place in the stream (after the events before it, before the ones
 * after it); like the change handler, the transaction is acknowledged only after it resolved.
 */
export type TruncateHandler = (notice: TruncateNotice) => Promise<void>;

export interface LogicalRunOptions {
  connection: Omit<ReplicationConnectionOptions, 'onData' | 'flushLsn' | 'onFatal'>;
  decoder: ChangeDecoder;
  handler: ChangeHandler;
  onTruncate?: TruncateHandler;
  /** Events at or before it are not delivered (already applied by the consumer). */
  from: LogicalPosition | null;
  fromText: string | null;
  /** The slot's confirmed_flush_lsn: never report less, which would move the slot backwards. */
  confirmedFlush: bigint;
  /** A transaction with more events is delivered in several consecutive handler calls. */
  maxBatchEvents: number;
}

interface OpenTransaction {
  lsn: bigint;
  commitTime: string;
  nextIndex: number;
  origin?: string;
  pending: ChangeEvent[];
  /** Part of it was delivered already (a big transaction): the rest goes on its own at commit. */
  split?: boolean;
}

/** Stop reading from the socket above this many undecoded messages; resume below the low mark. */
const QUEUE_HIGH = 20_000;
const QUEUE_LOW = 2_000;

/**
 * One streaming session: assembles pgoutput messages into transactions of change events, hands
 * them to the handler in commit order (several that arrived while the handler was busy together),
 * and confirms a transaction's end LSN to the slot only after the handler resolved for all of it.
 */
export class LogicalRun extends StreamRun {
  private readonly connection: ReplicationConnection;
  private readonly queue: PgOutputMessage[] = [];
  private txn: OpenTransaction | null = null;
  /**
   * Events of committed transactions not handed to the handler yet, and the end LSN of the last of
   * those transactions: transactions that arrive while the handler is busy go to it together (see
   * flushCommitted), so under load batches grow instead of the consumer falling behind.
   */
  private committed: ChangeEvent[] = [];
  private committedEnd: bigint | null = null;
  private acked: bigint;
  private position: string | null;

  constructor(private readonly options: LogicalRunOptions) {
    super();
    this.acked = options.confirmedFlush;
    this.position = options.fromText;
    this.connection = new ReplicationConnection({
      ...options.connection,
      onData: (payload) => this.receive(payload),
      flushLsn: (walEnd) => this.flushLsn(walEnd),
      onFatal: (err) =>
        void this.fail(
          new BraidError(
            502,
            'capture_stream_lost',
            `The replication stream of slot "${options.connection.slot}" ended: ${err.message} (start again to resume)`,
            { slot: options.connection.slot },
            { cause: err },
          ),
        ),
    });
  }

  get lastPosition(): string | null {
    return this.position;
  }

  async start(): Promise<void> {
    await this.connection.start();
  }

  protected closeStream(): Promise<void> {
    return this.connection.close();
  }

  protected pending(): number {
    return this.queue.length;
  }

  protected async handleNext(): Promise<void> {
    if (this.queue.length < QUEUE_LOW) this.connection.resume();
    await this.process(this.queue.shift()!);
    // Nothing more received for now: what committed goes to the handler.
    if (this.queue.length === 0) await this.flushCommitted();
  }

  /** Hands the committed events to the handler, then confirms their transactions' end to the slot. */
  private async flushCommitted(): Promise<void> {
    if (this.committed.length > 0) {
      const events = this.committed;
      this.committed = [];
      await this.options.handler(events);
      this.position = events[events.length - 1]!.position;
    }
    if (this.committedEnd !== null) {
      if (this.committedEnd > this.acked) this.acked = this.committedEnd;
      this.committedEnd = null;
      // Confirm at once: a stop or crash right after then redelivers as little as possible.
      this.connection.sendStatus(false);
    }
  }

  /**
   * The flush LSN to confirm. While idle (nothing received is unhandled) everything the server
   * sent is done, so the slot may move to the server's WAL end: otherwise a slot whose tables see
   * no writes would hold back WAL of the whole server. PostgreSQL's own apply worker does the same.
   */
  private flushLsn(walEnd: bigint): bigint {
    const idle =
      this.txn === null && this.queue.length === 0 && this.committedEnd === null && this.draining === null;
    return idle && walEnd > this.acked ? walEnd : this.acked;
  }

  private receive(payload: Buffer): void {
    if (this.stopping) return;
    try {
      this.queue.push(parsePgOutput(payload));
    } catch (err) {
      void this.fail(err);
      return;
    }
    if (this.queue.length > QUEUE_HIGH) this.connection.pause();
    this.kick();
  }

  private async process(msg: PgOutputMessage): Promise<void> {
    switch (msg.type) {
      case 'begin':
        this.txn = {
          lsn: msg.finalLsn,
          commitTime: pgTimestampToIso(msg.commitTime),
          nextIndex: 0,
          pending: [],
        };
        return;
      case 'relation':
        this.options.decoder.relation(msg);
        return;
      case 'message':
        if (msg.transactional && msg.prefix === ORIGIN_MESSAGE_PREFIX && this.txn) {
          this.txn.origin = msg.content.toString('utf8');
          // Events decoded before the message in the same transaction are tagged as well.
          for (const event of this.txn.pending) event.origin = this.txn.origin;
        }
        return;
      case 'insert':
      case 'update':
      case 'delete': {
        const txn = this.openTransaction(msg.type);
        const position = this.nextPosition(txn);
        if (position === null) return;
        const event: ChangeEvent = {
          ...this.options.decoder.change(msg),
          commitTime: txn.commitTime,
          position,
        };
        if (txn.origin !== undefined) event.origin = txn.origin;
        txn.pending.push(event);
        if (txn.pending.length >= this.options.maxBatchEvents) await this.deliver(txn);
        return;
      }
      case 'truncate':
        await this.truncate(msg);
        return;
      case 'commit': {
        const txn = this.openTransaction('commit');
        // A transaction split into several deliveries (maxBatchEvents) must not wait for others.
        if (txn.split) await this.deliver(txn);
        this.committed.push(...txn.pending);
        txn.pending = [];
        this.txn = null;
        this.committedEnd = msg.endLsn;
        if (this.committed.length >= this.options.maxBatchEvents) await this.flushCommitted();
        return;
      }
      default:
        return;
    }
  }

  private openTransaction(what: string): OpenTransaction {
    if (!this.txn) throw new Error(`pgoutput: ${what} outside a transaction`);
    return this.txn;
  }

  /** The next position in the transaction, or null when the consumer already has it (`from`). */
  private nextPosition(txn: OpenTransaction): string | null {
    const position = { lsn: txn.lsn, index: txn.nextIndex++ };
    if (this.options.from && comparePositions(position, this.options.from) <= 0) return null;
    return formatPosition(position);
  }

  /** Delivers the open transaction's events so far (a big one, or before a truncate), after what committed before it. */
  private async deliver(txn: OpenTransaction): Promise<void> {
    await this.flushCommitted();
    if (txn.pending.length === 0) return;
    txn.split = true;
    const events = txn.pending;
    txn.pending = [];
    await this.options.handler(events);
    this.position = events[events.length - 1]!.position;
  }

  private async truncate(msg: Extract<PgOutputMessage, { type: 'truncate' }>): Promise<void> {
    const txn = this.openTransaction('truncate');
    const position = this.nextPosition(txn);
    if (position === null) return;
    // Everything before the truncate goes first, including transactions committed before it.
    await this.deliver(txn);
    const tables = msg.relationIds.map((id) => this.options.decoder.tableName(id));
    if (!this.options.onTruncate) {
      // Not acknowledged: the run fails at this place again after a restart, so a truncate can
      // never be skipped silently; the consumer must handle it (reconcile) or pass onTruncate.
      throw new BraidError(
        409,
        'capture_truncate',
        `${tables.join(', ')} ${tables.length > 1 ? 'were' : 'was'} truncated at ${position}: ` +
          'change capture cannot express it as row events; reconcile the table(s) and handle truncates (onTruncate)',
        { tables, position },
      );
    }
    const notice: TruncateNotice = { tables, position, commitTime: txn.commitTime };
    if (txn.origin !== undefined) notice.origin = txn.origin;
    await this.options.onTruncate(notice);
    this.position = position;
  }
}
