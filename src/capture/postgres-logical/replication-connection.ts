import pg from 'pg';
import { pgTimestampNow } from './lsn.js';

/**
 * One walsender session in logical streaming mode (CopyBoth), on top of node-postgres: pg opens
 * the `replication=database` connection and sends START_REPLICATION as a simple query; pg's parser
 * already understands CopyBothResponse and CopyData, it just has no consumer for them, so this
 * class listens on the connection directly and writes standby status updates as CopyData.
 *
 * Frames (PostgreSQL manual, "Streaming Replication Protocol"): XLogData `w` carries one pgoutput
 * message; Primary keepalive `k` asks for a reply when its last byte is 1. Replies are standby
 * status updates `r` with the flush LSN, the only position a logical slot keeps
 * (confirmed_flush_lsn).
 */
export interface ReplicationConnectionOptions {
  client: pg.ClientConfig;
  slot: string;
  /** Plugin options after proto_version etc., already quoted: `publication_names '"braid_x"'`. */
  pluginOptions: string[];
  /** One pgoutput message, in stream order. */
  onData(payload: Buffer): void;
  /** The flush LSN to report now (called for every status update). */
  flushLsn(walEnd: bigint): bigint;
  /** The session ended without stop() (server gone, slot dropped, walsender terminated). */
  onFatal(err: Error): void;
  /** Status updates are sent at least this often, so wal_sender_timeout never fires. */
  feedbackIntervalMs?: number;
  /**
   * The session counts as lost when the server said nothing for this long although every status
   * update asks it for an answer (default: 6 feedback intervals, at least 60 s). Without it a
   * half-open TCP connection (a network that drops packets silently) would stall a sync for hours.
   */
  silenceTimeoutMs?: number;
}

export class ReplicationConnection {
  private readonly client: pg.Client;
  private replication: Promise<unknown> | undefined;
  /** Highest WAL end the server reported: everything before it has been sent to us. */
  private walEnd = 0n;
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  private paused = false;
  private failed = false;
  private lastHeard = Date.now();

  constructor(private readonly options: ReplicationConnectionOptions) {
    this.client = new pg.Client({
      ...options.client,
      replication: 'database',
      // A walsender streams for as long as it lives: no statement timeout applies to it.
      statement_timeout: undefined,
    } as pg.ClientConfig);
    // Without a listener a dropped connection would be an unhandled 'error' event (a crash).
    this.client.on('error', (err) => this.fail(err));
    this.client.on('end', () => this.fail(new Error('the replication connection was closed by the server')));
  }

  /** Connects and starts streaming; resolves once the server answered CopyBothResponse. */
  async start(): Promise<void> {
    await this.client.connect();
    const connection = (this.client as unknown as { connection: PgConnection }).connection;
    connection.on('copyData', (msg: { chunk: Buffer }) => {
      // This runs inside pg's socket handler: a throw here would be an uncaught exception.
      try {
        this.frame(msg.chunk);
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
    const started = new Promise<void>((resolve) => connection.once('replicationStart', () => resolve()));
    const command =
      `START_REPLICATION SLOT "${this.options.slot}" LOGICAL 0/0 ` +
      `(${this.options.pluginOptions.join(', ')})`;
    // Resolves only when the stream ends (after CopyDone), rejects when the server refuses or fails.
    const replication = this.client.query(command);
    this.replication = replication;
    const outcome = replication.then(
      () => new Error('the server ended the replication stream'),
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    const first = await Promise.race([started.then(() => undefined), outcome]);
    if (first) {
      this.closing = true;
      this.socket()?.destroy();
      throw first;
    }
    // Later, the end of the query is the end of the stream: fatal unless close() asked for it.
    void outcome.then((err) => this.fail(err));
    const interval = this.options.feedbackIntervalMs ?? 10_000;
    const silence = this.options.silenceTimeoutMs ?? Math.max(60_000, 6 * interval);
    this.lastHeard = Date.now();
    // Asking for a reply makes the server answer with a keepalive carrying its WAL end, so an
    // idle stream learns how far it may confirm (see the consumer's flushLsn).
    this.timer = setInterval(() => {
      // While paused the socket is not read, so silence says nothing about the server.
      if (!this.paused && Date.now() - this.lastHeard > silence) {
        this.fail(new Error(`the server sent nothing for ${Math.round(silence / 1000)} s (network lost?)`));
        return;
      }
      this.sendStatus(true);
    }, interval);
    this.timer.unref();
  }

  /** Stops reading from the socket (the consumer is behind); status updates continue on the timer. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket()?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.lastHeard = Date.now();
    this.socket()?.resume();
  }

  /** Sends a standby status update with the consumer's current flush LSN. */
  sendStatus(requestReply: boolean): void {
    if (this.failed) return;
    const flush = this.options.flushLsn(this.walEnd);
    const buf = Buffer.alloc(34);
    buf.write('r', 0, 'latin1');
    buf.writeBigUInt64BE(flush, 1); // written
    buf.writeBigUInt64BE(flush, 9); // flushed: what the slot's confirmed_flush_lsn becomes
    buf.writeBigUInt64BE(flush, 17); // applied
    buf.writeBigInt64BE(pgTimestampNow(), 25);
    buf.writeUInt8(requestReply ? 1 : 0, 33);
    try {
      (this.client as unknown as { connection: PgConnection }).connection.sendCopyFromChunk(buf);
    } catch {
      // The socket is gone; the 'error'/'end' handlers report it.
    }
  }

  /**
   * Ends the stream cleanly: a last status update, CopyDone, wait for the server's CommandComplete
   * (bounded), then close. The socket is destroyed if the server does not answer in time.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    this.resume();
    const connection = (this.client as unknown as { connection: PgConnection }).connection;
    if (this.replication) {
      this.sendStatus(false);
      try {
        connection.endCopyFrom();
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          this.replication.catch(() => {}),
          new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
      } catch {
        // already broken: fall through to closing the socket
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.client.end().catch(() => {}),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    this.socket()?.destroy();
  }

  private frame(chunk: Buffer): void {
    if (this.closing) return;
    this.lastHeard = Date.now();
    const tag = chunk[0];
    if (tag === 0x77 /* w */) {
      const end = chunk.readBigUInt64BE(9);
      if (end > this.walEnd) this.walEnd = end;
      this.options.onData(chunk.subarray(25));
    } else if (tag === 0x6b /* k */) {
      const end = chunk.readBigUInt64BE(1);
      if (end > this.walEnd) this.walEnd = end;
      if (chunk[17] === 1) this.sendStatus(false);
    }
  }

  private fail(err: Error): void {
    if (this.closing) return;
    this.failed = true;
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    this.socket()?.destroy();
    this.options.onFatal(err);
  }

  private socket(): { pause(): void; resume(): void; destroy(): void } | undefined {
    return (this.client as unknown as { connection?: { stream?: any } }).connection?.stream;
  }
}

/** The parts of pg's internal Connection this class uses (not in pg's type declarations). */
interface PgConnection {
  on(event: string, listener: (msg: any) => void): void;
  once(event: string, listener: (msg: any) => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}
