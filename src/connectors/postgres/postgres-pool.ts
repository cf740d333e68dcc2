import type { PostgresPool, PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { isConnectionError, type DriverError } from './postgres-errors.js';

/**
 * The pg.Pool of one source, made robust to servers that go away:
 * - every client gets a permanent 'error' listener: without one, a server dropping a checked-out
 *   connection (restart, pg_terminate_backend) emits an unhandled 'error' and crashes the process.
 *   The query in flight receives the error anyway.
 * - Kysely releases connections without saying a query failed, so a session the server just
 *   killed (FATAL 57P01) would go back to the idle list before its socket closes and fail the next
 *   query. The pool handed to Kysely wraps each client and destroys it on release after a
 *   connection-level error.
 * - clients are indexed by backend pid, so code under a Kysely transaction can reach the pg
 *   client it runs on (COPY needs it; Kysely does not expose it).
 */
export interface PostgresSourcePool {
  pool: pg.Pool;
  /** The pool Kysely's PostgresDialect uses. */
  forKysely: PostgresPool;
  clientByPid(pid: number): pg.PoolClient | undefined;
}

const pidOf = (client: pg.PoolClient): number => (client as unknown as { processID: number }).processID;

function isFatal(err: unknown): boolean {
  const e = err as DriverError & { severity?: string };
  return e?.severity === 'FATAL' || e?.severity === 'PANIC' || isConnectionError(e ?? {});
}

export function createSourcePool(config: pg.PoolConfig): PostgresSourcePool {
  const pool = new pg.Pool(config);
  const clients = new Map<number, pg.PoolClient>();
  pool.on('connect', (client) => {
    client.on('error', () => {});
    clients.set(pidOf(client as pg.PoolClient), client as pg.PoolClient);
  });
  pool.on('remove', (client) => clients.delete(pidOf(client as pg.PoolClient)));
  // Idle clients that die are removed by the pool itself; the event only needs a listener.
  pool.on('error', () => {});

  const forKysely: PostgresPool = {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let broken = false;
      return {
        query: ((text: unknown, params?: unknown) =>
          (client.query(text as string, params as unknown[]) as Promise<unknown>).catch((err: unknown) => {
            if (isFatal(err)) broken = true;
            throw err;
          })) as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy || broken ? true : undefined),
      };
    },
    end: () => pool.end(),
  };
  return { pool, forKysely, clientByPid: (pid) => clients.get(pid) };
}
