import mysql from 'mysql2';
import type { Pool, PoolConnection, PoolOptions } from 'mysql2';
import type {
  MysqlPool,
  MysqlPoolConnection,
  MysqlQueryResult,
  MysqlStream,
  MysqlStreamOptions,
} from 'kysely';
import { initSession, type ServerInfo } from './mysql-session.js';

type QueryCallback = (error: unknown, result: MysqlQueryResult) => void;

/**
 * The mysql2 pool as Kysely sees it, with what a long-running server needs on top:
 * - every new connection gets Braid's session settings (UTC, strict mode, statement time limit)
 *   before its first use, and reports the server version;
 * - a connection the server closed (KILL, wait_timeout, restart) is dropped, not handed out;
 * - a client-side backstop timeout: when the server does not answer at all (network gone, host
 *   hung) the query fails and the connection is destroyed instead of blocking its queue forever;
 * - raw connections can be found by their server thread id (LOAD DATA needs the raw driver API).
 * Nothing connects before the first query.
 */
export class GuardedPool implements MysqlPool {
  private pool: Pool | null = null;
  private closed = false;
  private readonly guarded = new WeakMap<PoolConnection, GuardedConnection>();
  private readonly byThreadId = new Map<number, PoolConnection>();
  private info: ServerInfo | null = null;

  constructor(
    private readonly options: PoolOptions,
    private readonly timeoutMs: number,
  ) {}

  /** The server's version and flavor; connects once when no connection has been made yet. */
  async serverInfo(): Promise<ServerInfo> {
    if (this.info) return this.info;
    (await this.acquireRaw()).release();
    return this.info!;
  }

  /** The known server info, or null before the first connection. */
  get knownServerInfo(): ServerInfo | null {
    return this.info;
  }

  /** The raw mysql2 connection with this server thread id, if it belongs to this pool. */
  rawConnection(threadId: number): PoolConnection | undefined {
    return this.byThreadId.get(threadId);
  }

  getConnection(callback: (error: unknown, connection: MysqlPoolConnection) => void): void {
    this.acquireRaw().then(
      (conn) => callback(null, this.guarded.get(conn)!),
      (err: unknown) => callback(err, undefined as never),
    );
  }

  /**
   * A pooled mysql2 connection with Braid's session, for work Kysely cannot do (streaming,
   * LOAD DATA). Give it back with `release()`, or `abandon()` it when its state is unknown.
   */
  acquireRaw(): Promise<PoolConnection> {
    return new Promise((resolve, reject) => {
      // One event-loop turn first: the close event of a connection the server just killed is then
      // processed and the dead connection has left the free list before one is picked.
      setImmediate(() => this.acquire(0).then(resolve, reject));
    });
  }

  end(callback: (error: unknown) => void): void {
    this.closed = true;
    const pool = this.pool;
    this.pool = null;
    if (!pool) return callback(null);
    pool.end((err) => callback(err ?? null));
  }

  /**
   * A connection in an unknown protocol state (a query hit the backstop, a stream was left
   * early): ask the server to stop its query (best effort, on another connection) and destroy it.
   */
  abandon(conn: PoolConnection): void {
    const threadId = conn.threadId;
    if (this.byThreadId.get(threadId) === conn) this.byThreadId.delete(threadId);
    conn.destroy();
    if (this.pool && !this.closed && Number.isInteger(threadId)) {
      this.pool.query(`kill query ${Number(threadId)}`, () => undefined);
    }
  }

  private ensurePool(): Pool {
    if (this.closed) throw new Error('Pool is closed.');
    this.pool ??= mysql.createPool(this.options);
    return this.pool;
  }

  private async acquire(attempt: number): Promise<PoolConnection> {
    const pool = this.ensurePool();
    const conn = await new Promise<PoolConnection>((resolve, reject) =>
      pool.getConnection((err, c) => (err ? reject(err) : resolve(c))),
    );
    if (isDead(conn)) {
      conn.destroy();
      if (attempt >= 5) {
        throw Object.assign(new Error('Connection lost: every pooled connection was closed'), {
          code: 'PROTOCOL_CONNECTION_LOST',
        });
      }
      return this.acquire(attempt + 1);
    }
    if (this.guarded.has(conn)) return conn;
    try {
      this.info = await initSession(conn, this.timeoutMs);
    } catch (err) {
      conn.destroy();
      throw err;
    }
    this.guarded.set(conn, new GuardedConnection(conn, this.timeoutMs, (c) => this.abandon(c)));
    const threadId = conn.threadId;
    this.byThreadId.set(threadId, conn);
    const forget = (): void => {
      if (this.byThreadId.get(threadId) === conn) this.byThreadId.delete(threadId);
    };
    conn.once('end', forget);
    conn.once('error', forget);
    return conn;
  }
}

function isDead(conn: PoolConnection): boolean {
  const state = (conn as unknown as { state?: string }).state;
  if (state === 'error' || state === 'disconnected') return true;
  const internals = conn as unknown as {
    _fatalError?: unknown;
    _closing?: boolean;
    stream?: { destroyed?: boolean };
  };
  return Boolean(internals._fatalError || internals._closing || internals.stream?.destroyed);
}

/** One pooled connection with the backstop timeout on every callback query. */
class GuardedConnection implements MysqlPoolConnection {
  constructor(
    private readonly raw: PoolConnection,
    private readonly timeoutMs: number,
    private readonly abandon: (conn: PoolConnection) => void,
  ) {}

  query(sql: string, parameters: unknown[]): { stream: <T>(options: MysqlStreamOptions) => MysqlStream<T> };
  query(sql: string, parameters: unknown[], callback: QueryCallback): void;
  query(sql: string, parameters: unknown[], callback?: QueryCallback): any {
    if (!callback) return this.raw.query(sql, parameters);
    // The server's own statement limit fires first; this only catches a server that stopped answering.
    const backstop = this.timeoutMs + Math.max(2000, this.timeoutMs / 2);
    this.raw.query({ sql, values: parameters, timeout: backstop }, (err: unknown, result: unknown) => {
      if (err && (err as { code?: string }).code === 'PROTOCOL_SEQUENCE_TIMEOUT') this.abandon(this.raw);
      callback(err, result as MysqlQueryResult);
    });
  }

  release(): void {
    this.raw.release();
  }
}
