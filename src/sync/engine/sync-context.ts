import type { CaptureRun, CaptureStrategy } from '../../capture/capture-strategy.js';
import type { Connector } from '../../connectors/connector.js';
import type { MetaStore } from '../../meta/meta-store.js';
import type { Row } from '../../model/values.js';
import type { TableSchema } from '../../model/schema.js';
import type { Sandbox } from '../../sandbox/sandbox.js';
import type { SourceConfig } from '../../model/source.js';
import type { SyncMember, SyncRule } from '../sync-rule.js';
import type { CaptureSelection } from './capture-choice.js';
import type { EntityBaselines } from './entity-baselines.js';

/**
 * The serialization of a sync's handlers: members apply one batch at a time, so two events of one
 * entity (one per member) never decide concurrently on stale reads or link the same row twice.
 */
export type Serializer = <T>(fn: () => Promise<T>) => Promise<T>;

export function serializer(): Serializer {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
}

/** Where the engine writes what it does; `console` fits. */
export interface EngineLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** Counters of one member, shown by status(). */
export interface MemberStats {
  /** Events of this member's capture that were applied (echoes excluded). */
  eventsApplied: number;
  /** Events of this member that were Braid's own writes, skipped. */
  echoesSkipped: number;
  /** Row writes Braid made into this member (updates, inserts, deletes). */
  writes: number;
  /**
   * Events of this member that were applied and needed no row write in any member: redeliveries
   * after a restart, members already holding the value.
   */
  noopEvents: number;
  errors: number;
  lastError: string | null;
  lastPosition: string | null;
  /** When the last event was applied (ISO). */
  lastEventAt: string | null;
  /** Commit time of the last applied event (ISO), for the lag. */
  lastCommitTime: string | null;
  /** Commit time of the oldest event of the batch being applied (ISO), null between batches. */
  applyingSince: string | null;
}

/** One member of a running sync: its table, connector and capture. */
export interface MemberRuntime {
  index: number;
  member: SyncMember;
  connector: Connector;
  table: TableSchema;
  strategy: CaptureStrategy;
  selection: CaptureSelection;
  /** The source's connection settings (log-based strategies open their own connections). */
  config: SourceConfig;
  stats: MemberStats;
  run: CaptureRun | null;
  /** Settles when the member's restart loop has ended. */
  loop: Promise<void> | null;
}

/** Everything the apply functions need about one running sync. */
export interface SyncContext {
  syncId: string;
  rule: SyncRule;
  /** Tag of Braid's writes for this sync: events carrying it are echoes. */
  origin: string;
  members: MemberRuntime[];
  store: MetaStore;
  sandbox: Sandbox;
  logger: EngineLogger;
  /**
   * Last converged canonical values per entity, stored (`store.syncEntityState`) behind a bounded
   * cache. A decision needs the value a change replaced; when the event has no `before` (PostgreSQL
   * logical capture without REPLICA IDENTITY FULL) this is the only evidence that the other members
   * still hold it, so it must outlive the process.
   */
  baselines: EntityBaselines;
  /** Runs the sync's handlers, conflict resolutions and retries one at a time (see serializer). */
  serialize: Serializer;
  stopping: boolean;
  /** Resolves when the sync is stopped: ends a restart loop's backoff wait at once. */
  stopped: Promise<void>;
  signalStop: () => void;
}

export function emptyStats(): MemberStats {
  return {
    eventsApplied: 0,
    echoesSkipped: 0,
    writes: 0,
    noopEvents: 0,
    errors: 0,
    lastError: null,
    lastPosition: null,
    lastEventAt: null,
    lastCommitTime: null,
    applyingSince: null,
  };
}

/** A member row's primary key from a row holding (at least) the key columns. */
export function keyOf(table: TableSchema, row: Row): Row {
  return Object.fromEntries(table.primaryKey.map((column) => [column, row[column] ?? null]));
}
