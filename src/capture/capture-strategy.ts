import type { Connector } from '../connectors/connector.js';
import type { ChangeEvent } from '../model/change-event.js';
import type { TableSchema } from '../model/schema.js';

export type CaptureKind = 'logical' | 'binlog' | 'triggers' | 'polling';

/** Whether a strategy can run on a source, and why (shown to people: "wal_level is replica"). */
export interface CaptureAvailability {
  kind: CaptureKind;
  available: boolean;
  reason: string;
}

/** Receives events in commit order; resolves once they are applied. Only then is the position acknowledged. */
export type ChangeHandler = (events: ChangeEvent[]) => Promise<void>;

export interface CaptureRun {
  /** Position of the last batch the handler finished (and the strategy acknowledged). */
  readonly lastPosition: string | null;
  /** Stops reading; resolves when the stream is closed. */
  stop(): Promise<void>;
  /** Settles when the run ends: resolves after stop(), rejects on a fatal error. */
  readonly done: Promise<void>;
}

/**
 * One way of capturing the changes of a set of tables in one source. A strategy instance belongs to
 * one consumer (`name`, e.g. a sync rule), which names the objects it creates on the source
 * (`braid_<name>` slot, publication, changelog table, triggers), so two consumers never collide and
 * removing one removes exactly its objects.
 *
 * Lifecycle: `install(tables)` (idempotent) -> `start(from, handler)` -> `stop()` ... -> `uninstall()`.
 * `from` is the durable position the consumer stored (null the first time: capture starts at the
 * current end of the log). Every event the handler resolves for was committed after `from`.
 */
export interface CaptureStrategy {
  readonly kind: CaptureKind;
  readonly name: string;
  install(tables: TableSchema[]): Promise<void>;
  uninstall(): Promise<void>;
  start(from: string | null, handler: ChangeHandler): Promise<CaptureRun>;
  /**
   * Runs `fn` in one transaction on `connector` (a connector of this same source), tagged with
   * `origin` in the way this strategy recognizes, so the changes it makes come back with `origin`
   * set (or not at all) instead of as new changes. This is how the sync engine suppresses echoes.
   */
  withOrigin<T>(connector: Connector, origin: string, fn: (tx: Connector) => Promise<T>): Promise<T>;
}
