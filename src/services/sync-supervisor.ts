import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { MetaStore } from '../meta/index.js';
import type { EngineLogger } from '../sync/engine/sync-context.js';
import type { SyncEngine, SyncStatus } from '../sync/engine/index.js';
import { parseSyncRule } from '../sync/sync-rule.js';
import type { ReconcileReport } from '../sync/engine/reconcile-apply.js';

/** The life cycle states of a stored sync (`syncs.status`). */
export const SYNC_STATES = ['reconciling', 'active', 'paused', 'deleting'] as const;
export type SyncState = (typeof SYNC_STATES)[number];

/** What the process running a sync publishes in its lease, for every other process to show. */
export interface PublishedStatus {
  owner: string;
  engine: SyncStatus | null;
  /** Why the sync is not running although this process holds it (a start that failed). */
  startError: string | null;
  /** The initial reconciliation while it runs, and its report once done. */
  reconcile: { state: 'running' | 'done' | 'failed'; report?: ReconcileSummary; error?: string } | null;
}

export type ReconcileSummary = Pick<ReconcileReport, 'mode' | 'summary' | 'applied'>;

export interface SyncSupervisorOptions {
  store: MetaStore;
  engine: SyncEngine;
  logger: EngineLogger;
  /** How often the stored states are looked at and leases renewed (default 1 s). */
  tickMs?: number;
  /** How long a lease lasts without renewal: a killed owner's syncs move after this (default 15 s). */
  leaseMs?: number;
}

interface Held {
  startError: string | null;
  /** When to try a failed start again. */
  retryAt: number;
  failures: number;
  reconcile: PublishedStatus['reconcile'];
  /** A start or reconciliation in progress. */
  busy: Promise<void> | null;
}

/**
 * Runs the stored syncs in this process: every tick it reads each sync's state, takes the lease of
 * `reconciling` and `active` syncs nobody else runs, starts them, renews their leases with a status
 * snapshot, and stops (and releases) the ones paused, being deleted, or whose lease was lost. The
 * server and `braid worker` both run one; leases make sure a sync runs in exactly one of them.
 *
 * A `reconciling` sync is started first (capture installed, so changes made meanwhile are kept) and
 * then reconciled as its rule says, then marked `active`: a process that dies mid-way leaves it
 * `reconciling`, and the next holder does it again (reconciliation is idempotent).
 */
export class SyncSupervisor {
  readonly owner = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly held = new Map<string, Held>();
  private readonly tickMs: number;
  private readonly leaseMs: number;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly options: SyncSupervisorOptions) {
    this.tickMs = options.tickMs ?? 1_000;
    this.leaseMs = options.leaseMs ?? 15_000;
  }

  /** Starts ticking; resolves after the first tick (syncs already started or failed to). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.wake();
    this.schedule();
  }

  /** Runs a tick now (after a sync was created, paused, resumed or deleted); resolves when done. */
  async wake(): Promise<void> {
    if (this.ticking) {
      // A tick is running with states read before the change: run one more after it.
      this.again = true;
      return this.ticking;
    }
    this.ticking = (async () => {
      try {
        do {
          this.again = false;
          await this.tick();
        } while (this.again && !this.stopped);
      } finally {
        this.ticking = null;
      }
    })();
    return this.ticking;
  }

  /** True when this process runs (holds) the sync. */
  holds(syncId: string): boolean {
    return this.held.has(syncId);
  }

  /** Stops every sync this process runs and gives the leases up, so another process takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    await Promise.allSettled([...this.held.keys()].map((id) => this.letGo(id)));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.wake().finally(() => this.schedule());
    }, this.tickMs);
    // Not unref'd: in `braid worker` the ticks are what keeps the process alive.
  }

  private async tick(): Promise<void> {
    const { store, logger } = this.options;
    let syncs;
    try {
      syncs = await store.syncs.list();
    } catch (err) {
      logger.error('sync supervisor: cannot read the syncs', { error: (err as Error).message });
      return;
    }
    const states = new Map(syncs.map((s) => [s.id, s.status as SyncState]));
    for (const syncId of [...this.held.keys()]) {
      const state = states.get(syncId);
      if (state !== 'active' && state !== 'reconciling') await this.letGo(syncId);
    }
    for (const sync of syncs) {
      if (this.stopped) return;
      const state = sync.status as SyncState;
      if (state !== 'active' && state !== 'reconciling') continue;
      try {
        await this.keep(sync.id, state);
      } catch (err) {
        logger.error(`sync supervisor: sync ${sync.id} failed`, { error: (err as Error).message });
      }
    }
  }

  /** Takes or renews the lease of a sync that should run, and starts it when it is not running. */
  private async keep(syncId: string, state: SyncState): Promise<void> {
    const { store, engine, logger } = this.options;
    let held = this.held.get(syncId);
    if (!held) {
      if (!(await store.syncLeases.acquire(syncId, this.owner, this.leaseMs))) return;
      held = { startError: null, retryAt: 0, failures: 0, reconcile: null, busy: null };
      this.held.set(syncId, held);
      logger.info(`sync ${syncId}: running in this process`, { owner: this.owner });
    }
    if (!(await store.syncLeases.renew(syncId, this.owner, this.leaseMs, await this.publish(syncId)))) {
      // Our lease expired (a long pause of this process) and someone else took the sync over.
      logger.warn(`sync ${syncId}: lease lost to another process, stopping here`);
      this.held.delete(syncId);
      await engine.stop(syncId);
      return;
    }
    // Starting (up to 30 s) and reconciling (minutes on big tables) run beside the ticks, so the
    // other syncs' leases keep being renewed meanwhile.
    if (held.busy) return;
    const running = (await engine.status(syncId)).running;
    if (!running && Date.now() >= held.retryAt) {
      held.busy = this.startHeld(syncId, held, state).finally(() => (held.busy = null));
    } else if (
      running &&
      state === 'reconciling' &&
      (held.reconcile?.state !== 'failed' || Date.now() >= held.retryAt)
    ) {
      held.busy = this.reconcileInitial(syncId, held).finally(() => (held.busy = null));
    }
  }

  private async startHeld(syncId: string, held: Held, state: SyncState): Promise<void> {
    try {
      await this.options.engine.start(syncId);
      held.startError = null;
      held.failures = 0;
    } catch (err) {
      held.failures++;
      held.startError = (err as Error).message;
      // 2 s, 4 s ... at most a minute: a source that is down is tried again without hammering it.
      held.retryAt = Date.now() + Math.min(60_000, 1_000 * 2 ** held.failures);
      this.options.logger.error(`sync ${syncId}: could not start`, { error: held.startError });
      return;
    }
    if (this.held.get(syncId) !== held) {
      // Paused, deleted or stopped while it was starting.
      await this.options.engine.stop(syncId);
      return;
    }
    if (state === 'reconciling') await this.reconcileInitial(syncId, held);
  }

  /** The rule's initial reconciliation, then `active`; the report stays in the published status. */
  private async reconcileInitial(syncId: string, held: Held): Promise<void> {
    const { store, engine, logger } = this.options;
    const record = await store.syncs.get(syncId);
    if (!record) return;
    const rule = parseSyncRule(record.definition);
    const mode = rule.reconcile;
    held.reconcile = { state: 'running' };
    try {
      if (mode !== 'none') {
        const report = await engine.reconcile(syncId, {
          mode,
          ...(rule.createMissing ? { createMissing: true } : {}),
        });
        held.reconcile = { state: 'done', report: summarize(report) };
        logger.info(`sync ${syncId}: initial reconciliation (${mode}) done`, { ...report.summary });
      } else {
        held.reconcile = null;
      }
      // The report is published before the state says `active`, so a status read in between
      // (from any process) never shows an active sync without its initial reconciliation.
      await store.syncLeases.renew(syncId, this.owner, this.leaseMs, await this.publish(syncId));
      // Only a sync still reconciling becomes active: a pause or delete meanwhile wins.
      if ((await store.syncs.get(syncId))?.status === 'reconciling')
        await store.syncs.setStatus(syncId, 'active');
    } catch (err) {
      held.reconcile = { state: 'failed', error: (err as Error).message };
      held.retryAt = Date.now() + 30_000;
      logger.error(`sync ${syncId}: initial reconciliation failed`, { error: (err as Error).message });
    }
  }

  private async publish(syncId: string): Promise<PublishedStatus> {
    const held = this.held.get(syncId);
    const engine = await this.options.engine.status(syncId).catch(() => null);
    return {
      owner: this.owner,
      engine,
      startError: held?.startError ?? null,
      reconcile: held?.reconcile ?? null,
    };
  }

  private async letGo(syncId: string): Promise<void> {
    this.held.delete(syncId);
    await this.options.engine.stop(syncId);
    await this.options.store.syncLeases.release(syncId, this.owner);
    this.options.logger.info(`sync ${syncId}: stopped in this process`);
  }
}

export function summarize(report: ReconcileReport): ReconcileSummary {
  return { mode: report.mode, summary: report.summary, applied: report.applied };
}
