import net from 'node:net';
import pg from 'pg';
import type { ChangeEvent } from '../../src/model/change-event.js';
import { POSTGRES_URL } from '../support/servers.js';

/** Prefix of every capture name the logical-capture tests create (slots are `braid_<name>`). */
export const TEST_CAPTURE_PREFIX = 'plt';

/** A unique capture name that embeds its creation time, so stale ones can be recognized. */
export function testCaptureName(): string {
  return `${TEST_CAPTURE_PREFIX}_${Date.now().toString(36)}_${Math.random().toString(16).slice(2, 8)}`;
}

export async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Drops slots and publications of test runs that crashed before their afterAll (older than ten
 * minutes and not streaming): a forgotten slot keeps WAL on the test server forever.
 */
export async function dropStaleTestSlots(): Promise<void> {
  const cutoff = Date.now() - 600_000;
  await withClient(async (client) => {
    const { rows } = await client.query<{ slot_name: string; active: boolean }>(
      `select slot_name, active from pg_replication_slots where slot_name like $1`,
      [`braid\\_${TEST_CAPTURE_PREFIX}\\_%`],
    );
    for (const { slot_name: slot, active } of rows) {
      const born = parseInt(slot.split('_')[2] ?? '', 36);
      if (active || !Number.isFinite(born) || born > cutoff) continue;
      await client.query('select pg_drop_replication_slot($1)', [slot]).catch(() => {});
      await client.query(`drop publication if exists "${slot}"`).catch(() => {});
    }
  });
}

/** Last resort after a test file: the slot and publication must not survive it, whatever failed. */
export async function forceDropCapture(objectName: string): Promise<void> {
  await withClient(async (client) => {
    await client.query(
      `select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = $1 and active_pid is not null`,
      [objectName],
    );
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const { rows } = await client.query(`select active from pg_replication_slots where slot_name = $1`, [
        objectName,
      ]);
      if (rows.length === 0) break;
      if (!rows[0].active) {
        await client.query('select pg_drop_replication_slot($1)', [objectName]).catch(() => {});
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await client.query(`drop publication if exists "${objectName}"`);
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A change handler that records every batch it was given, with the time it arrived. */
export function recorder() {
  const batches: { events: ChangeEvent[]; at: number }[] = [];
  return {
    batches,
    handler: async (events: ChangeEvent[]) => {
      batches.push({ events, at: Date.now() });
    },
    events: () => batches.flatMap((b) => b.events),
    /** Waits until an event matches, answering it. */
    waitForEvent(what: string, match: (e: ChangeEvent) => boolean, timeoutMs?: number): Promise<ChangeEvent> {
      return waitFor(what, () => batches.flatMap((b) => b.events).find(match), timeoutMs);
    },
  };
}

export const keyOf = (e: ChangeEvent): string => String(e.key.id);

/**
 * A TCP forwarder that can turn into a black hole: `freeze()` silently drops every byte in both
 * directions while keeping the connections open, as a network that loses packets does (unlike
 * a closed connection, nothing tells either side).
 */
export async function startFreezableProxy(
  targetUrl: string,
): Promise<{ url: string; freeze(): void; close(): Promise<void> }> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (d) => void (frozen || upstream.write(d)));
    upstream.on('data', (d) => void (frozen || client.write(d)));
    const forget = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', forget).on('close', forget);
    upstream.on('error', forget).on('close', forget);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    freeze: () => void (frozen = true),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
