import { performance } from 'node:perf_hooks';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { seededRandom } from '../support.js';
import { PHONE_BASE } from './databases.js';

/**
 * The change load: single-row UPDATEs of random customers' phones at a fixed rate over one plain
 * driver connection that Braid does not own (autocommit, so each statement is its own commit).
 * Each phone encodes the update's sequence number, so its arrival on the other side can be matched.
 */

export type SourceSide = 'postgres' | 'mysql';

export interface LoadResult {
  /** Sequence numbers used: firstSeq .. firstSeq + sent - 1. */
  firstSeq: number;
  sent: number;
  /** Epoch ms (fractional) right after each commit returned, by seq - firstSeq. */
  commitMs: Float64Array;
  /** The row each update changed, by seq - firstSeq. */
  ids: Int32Array;
  /** Round trip of each UPDATE (send to commit), ms. */
  roundTripMs: Float64Array;
  /** Wall time of the whole load, s, and how far behind schedule the generator fell at most, ms. */
  seconds: number;
  maxBehindMs: number;
  startedAtMs: number;
  endedAtMs: number;
}

export interface LoadOptions {
  side: SourceSide;
  client: pg.Client | mysql.Connection;
  rows: number;
  rate: number;
  seconds: number;
  firstSeq: number;
  /** Called once, `atSeconds` after the start, without pausing the schedule (the SIGKILL). */
  event?: { atSeconds: number; run: () => void };
}

export function phoneFor(side: SourceSide, seq: number): string | number {
  return side === 'mysql' ? String(PHONE_BASE + seq) : PHONE_BASE + seq;
}

const epochMs = (): number => performance.timeOrigin + performance.now();

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { side, client, rows, rate, seconds, firstSeq } = options;
  const total = Math.round(rate * seconds);
  const commitMs = new Float64Array(total);
  const roundTripMs = new Float64Array(total);
  const ids = new Int32Array(total);
  const random = seededRandom(firstSeq);
  const interval = 1000 / rate;
  const update =
    side === 'postgres'
      ? (phone: string | number, id: number) =>
          (client as pg.Client).query('update invoice_customers set phone = $1 where id = $2', [phone, id])
      : (phone: string | number, id: number) =>
          (client as mysql.Connection).execute('update crm_business_information set phone = ? where id = ?', [
            phone,
            id,
          ]);
  const start = performance.now();
  const startedAtMs = epochMs();
  let maxBehindMs = 0;
  let eventDone = !options.event;
  for (let i = 0; i < total; i++) {
    // The i-th update is due at start + i * interval: a slow statement is caught up on, not
    // carried as drift into every later one (sleeping a fixed time per update would).
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    else maxBehindMs = Math.max(maxBehindMs, -wait);
    if (!eventDone && performance.now() - start >= options.event!.atSeconds * 1000) {
      eventDone = true;
      options.event!.run();
    }
    const id = 1 + Math.floor(random() * rows);
    const sent = performance.now();
    await update(phoneFor(side, firstSeq + i), id);
    const committed = performance.now();
    commitMs[i] = performance.timeOrigin + committed;
    ids[i] = id;
    roundTripMs[i] = committed - sent;
  }
  return {
    firstSeq,
    sent: total,
    commitMs,
    ids,
    roundTripMs,
    seconds: (performance.now() - start) / 1000,
    maxBehindMs,
    startedAtMs,
    endedAtMs: epochMs(),
  };
}

/**
 * The direct-driver floor: one UPDATE on the target side and the SELECT that reads it back, on a
 * table Braid does not capture. It is what any copier pays at least per change, so Braid's latency
 * can be put next to it as a ratio.
 */
export async function measureFloor(
  side: SourceSide,
  client: pg.Client | mysql.Connection,
  iterations = 300,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    if (side === 'postgres') {
      const c = client as pg.Client;
      await c.query('update bench_floor set v = $1 where id = 1', [i]);
      await c.query('select v from bench_floor where id = 1');
    } else {
      const c = client as mysql.Connection;
      await c.execute('update bench_floor set v = ? where id = 1', [i]);
      await c.execute('select v from bench_floor where id = 1');
    }
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

export { epochMs };
