import type { Connector } from '../../connectors/connector.js';
import type { CaptureAvailability } from '../capture-strategy.js';

const SEQ_DIGITS = 15;

/**
 * A polling position: `<zero-padded sequence>:<base64url JSON>`. The sequence counts events, so
 * positions compare as strings in delivery order; the JSON is the strategy's resumable state.
 */
export function encodeState(seq: number, data: unknown): string {
  return `${String(seq).padStart(SEQ_DIGITS, '0')}:${Buffer.from(JSON.stringify(data)).toString('base64url')}`;
}

export function decodeState<T>(position: string): { seq: number; data: T } {
  const m = /^(\d+):([A-Za-z0-9_-]*)$/.exec(position);
  if (!m) throw new Error(`"${position}" is not a polling position`);
  return { seq: Number(m[1]), data: JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8')) as T };
}

/** Polling marks nothing on the source: a plain transaction (see the strategies' withOrigin). */
export function plainTransaction<T>(connector: Connector, fn: (tx: Connector) => Promise<T>): Promise<T> {
  return connector.transaction(fn);
}

/** Polling needs nothing but read access, so it is always available. */
export function probePollingCapture(_connector?: Connector): Promise<CaptureAvailability> {
  return Promise.resolve({
    kind: 'polling',
    available: true,
    reason:
      'polling only reads the tables (it cannot see deletes without a snapshot diff, nor tag its own writes)',
  });
}
