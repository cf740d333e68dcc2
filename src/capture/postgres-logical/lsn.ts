import { badRequest } from '../../model/errors.js';

/**
 * Log sequence numbers and capture positions.
 *
 * An LSN is a 64-bit WAL byte offset, shown by PostgreSQL as `hi/lo` in hex (`0/16B3748`). It is
 * kept as a bigint here: a JavaScript number loses bits past 2^53, which a busy server reaches.
 *
 * A position names one event: the commit LSN of its transaction and its index inside that
 * transaction. Both parts are zero-padded (`00000000/016B3748:0000000003`) so that positions of
 * one stream sort correctly as plain strings: consumers may store and compare them without parsing.
 */

const LSN_RE = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i;
const POSITION_RE = /^([0-9A-F]{8})\/([0-9A-F]{8}):(\d{10})$/i;

export function parseLsn(text: string): bigint {
  const m = LSN_RE.exec(text.trim());
  if (!m) throw badRequest('invalid_position', `"${text}" is not a PostgreSQL LSN (expected like 0/16B3748)`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** The LSN as PostgreSQL writes it (`0/16B3748`), for SQL and messages. */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export interface LogicalPosition {
  /** Commit LSN of the transaction. */
  lsn: bigint;
  /** Index of the event inside its transaction, from 0. */
  index: number;
}

export function formatPosition(position: LogicalPosition): string {
  const hi = (position.lsn >> 32n).toString(16).toUpperCase().padStart(8, '0');
  const lo = (position.lsn & 0xffffffffn).toString(16).toUpperCase().padStart(8, '0');
  return `${hi}/${lo}:${String(position.index).padStart(10, '0')}`;
}

export function parsePosition(text: string): LogicalPosition {
  const m = POSITION_RE.exec(text);
  if (!m) {
    throw badRequest(
      'invalid_position',
      `"${text}" is not a position of PostgreSQL logical capture (expected like 00000000/016B3748:0000000003)`,
    );
  }
  return { lsn: (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`), index: Number(m[3]) };
}

/** Negative when `a` comes before `b` in the stream. */
export function comparePositions(a: LogicalPosition, b: LogicalPosition): number {
  if (a.lsn !== b.lsn) return a.lsn < b.lsn ? -1 : 1;
  return a.index - b.index;
}

/** PostgreSQL timestamps in the replication protocol: microseconds since 2000-01-01 UTC. */
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/** A protocol timestamp as ISO 8601 UTC with microseconds, like the connector's `datetimetz`. */
export function pgTimestampToIso(micros: bigint): string {
  const ms = micros / 1000n;
  const subMs = Number(((micros % 1000n) + 1000n) % 1000n);
  const date = new Date(PG_EPOCH_MS + Number(ms - (micros < 0n && subMs !== 0 ? 1n : 0n)));
  const fraction = `${String(date.getUTCMilliseconds()).padStart(3, '0')}${String(subMs).padStart(3, '0')}`;
  return `${date.toISOString().slice(0, 19)}.${fraction}Z`;
}

/** Now as a protocol timestamp (for standby status updates). */
export function pgTimestampNow(): bigint {
  return BigInt(Date.now() - PG_EPOCH_MS) * 1000n;
}
