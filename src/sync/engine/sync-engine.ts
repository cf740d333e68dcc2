import type { CaptureAvailability, CaptureKind } from '../../capture/capture-strategy.js';
import type { MetaStore } from '../../meta/meta-store.js';
import type { ChangeEvent } from '../../model/change-event.js';
import { BraidError, notFound } from '../../model/errors.js';
import type { Sandbox } from '../../sandbox/sandbox.js';
import type { SourcesService } from '../../services/sources-service.js';
import type { SyncConflict } from '../../meta/sync-conflicts-repository.js';
import { parseSyncRule, type SyncRule } from '../sync-rule.js';
import {
  CAPTURE_ORDER,
  captureName,
  createCapture,
  selectCapture,
  type MemberSource,
} from './capture-choice.js';
import { EntityBaselines } from './entity-baselines.js';
import { runMember } from './member-loop.js';
import { reconcileSync, type ReconcileOptions, type ReconcileReport } from './reconcile-apply.js';
import { resolveConflictIn, type ConflictChoice } from './resolve-conflict.js';
import {
  emptyStats,
  serializer,
  type EngineLogger,
  type MemberRuntime,
  type SyncContext,
} from './sync-context.js';
import { applyEvent } from './apply-event.js';

export interface SyncEngineOptions {
  store: MetaStore;
  sources: SourcesService;
  sandbox: Sandbox;
  logger: EngineLogger;
  /** Directory for polling snapshots; without it polling capture is not offered. */
  pollingDir?: string;
}

/** One member in status(). */
export interface MemberStatus {
  member: number;
  source: string;
  table: string;
  strategy: CaptureKind;
  /** Why this strategy ("logical: wal_level is replica: using triggers"). */
  reason: string;
  probes: CaptureAvailability[];
  running: boolean;
  lastPosition: string | null;
  lastEventAt: string | null;
  /**
   * How far behind the source the member's changes are, ms: while a batch is being applied (or
   * retried, the target being down) now minus its oldest commit time, so it grows while stuck;
   * between batches the delay the last event had when it was applied (idle is not lag). Null
   * before the first event.
   */
  lagMs: number | null;
  eventsApplied: number;
  echoesSkipped: number;
  writes: number;
  /** Events applied that needed no write (redeliveries, values the members already held). */
  noopEvents: number;
  errors: number;
  lastError: string | null;
}

export interface SyncStatus {
  syncId: string;
  running: boolean;
  members: MemberStatus[];
  deadLetters: number;
  openConflicts: number;
}

/**
 * Runs sync rules: per member a change capture (chosen by probe or by the rule), a handler that
 * applies each change to the other members through the strategy's `withOrigin` (so Braid's writes
 * never come back as changes), positions stored after each applied batch, a restart loop with
 * backoff, dead letters for events that cannot be applied, and the reconcile job.
 *
 * @example
 * const engine = new SyncEngine({ store, sources, sandbox, logger: console });
 * await engine.reconcile(sync.id, { mode: 'apply' });
 * await engine.start(sync.id);
 * (await engine.status(sync.id)).members[0].reason; // "logical: ... : using logical"
 * await engine.resolveConflict(conflictId, { member: 1 }, 'ada@example.com'); // manual policy
 * await engine.remove(sync.id); // stops and drops slots, publications, triggers, changelogs
 */
export class SyncEngine {
  private readonly running = new Map<string, SyncContext>();
  /** The last context of each sync started here, so status() still shows its members once stopped. */
  private readonly last = new Map<string, SyncContext>();

  constructor(private readonly options: SyncEngineOptions) {}

  /** Starts capture and apply for a sync (a no-op when it is running); resolves once every member's capture started. */
  async start(syncId: string): Promise<void> {
    if (this.running.has(syncId)) return;
    const ctx = await this.context(syncId);
    this.running.set(syncId, ctx);
    this.last.set(syncId, ctx);
    try {
      for (const runtime of ctx.members) {
        await runtime.strategy.install([runtime.table]);
      }
      for (const runtime of ctx.members) {
        runtime.loop = runMember(ctx, runtime);
      }
      await waitForRuns(ctx);
    } catch (err) {
      await this.stop(syncId);
      throw err;
    }
  }

  /** Stops a sync's captures; positions stay, so start() resumes where it stopped. */
  async stop(syncId: string): Promise<void> {
    const ctx = this.running.get(syncId);
    if (!ctx) return;
    this.running.delete(syncId);
    ctx.stopping = true;
    ctx.signalStop();
    await Promise.allSettled(ctx.members.map((m) => m.run?.stop()));
    for (const member of ctx.members) member.run = null;
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.running.keys()].map((id) => this.stop(id)));
  }

  /**
   * Stops the sync and removes every capture object its members created on the sources (slots,
   * publications, triggers, changelogs): a forgotten replication slot keeps WAL forever. The rule
   * itself stays in the store (deleting it is the caller's). Every member is tried; the first error
   * is thrown after all were.
   */
  async remove(syncId: string): Promise<void> {
    const ctx = this.running.get(syncId) ?? this.last.get(syncId) ?? (await this.context(syncId));
    await this.stop(syncId);
    const results = await Promise.allSettled(ctx.members.map((m) => m.strategy.uninstall()));
    const failed = results.find((r) => r.status === 'rejected');
    // The strategy chosen now by probe may differ from the one a past process installed (the rule
    // says "auto" and the server changed): drop the other kinds' objects too. Their failures (the
    // kind cannot run there, nothing to drop) are not errors of remove().
    await Promise.allSettled(
      ctx.members.flatMap((m) =>
        CAPTURE_ORDER.filter((kind) => kind !== m.selection.kind && kind !== 'polling').map(async (kind) =>
          // Inside the async function: a constructor refusing this source's kind is a rejection too.
          createCapture(kind, captureName(syncId, m.index), memberSourceOf(m, ctx), null).uninstall(),
        ),
      ),
    );
    // Converged values stay in the store with the links they describe (they go with the sync row).
    this.last.delete(syncId);
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Per member: strategy and why, position, lag, counters; and the sync's dead letters and conflicts. */
  async status(syncId: string): Promise<SyncStatus> {
    const ctx = this.running.get(syncId) ?? this.last.get(syncId);
    const positions = await this.options.store.syncPositions.forSync(syncId);
    const deadLetters = await this.options.store.syncDeadLetters.count(syncId);
    const openConflicts = await this.options.store.syncConflicts.countOpen(syncId);
    const members: MemberStatus[] = (ctx?.members ?? []).map((m) => ({
      member: m.index,
      source: m.member.source,
      table: m.member.table,
      strategy: m.selection.kind,
      reason: m.selection.reason,
      probes: m.selection.probes,
      running: m.run !== null,
      ...m.stats,
      lastPosition: m.stats.lastPosition ?? positions.find((p) => p.member === m.index)?.position ?? null,
      lagMs: lagOf(m.stats),
    }));
    return { syncId, running: this.running.has(syncId), members, deadLetters, openConflicts };
  }

  /**
   * Applies a dead letter's event again (after the cause was fixed) and drops it on success; on
   * failure it stays with one more attempt and the new reason, and the error is thrown.
   */
  async retryDeadLetter(id: string): Promise<void> {
    const letter = await this.options.store.syncDeadLetters.get<ChangeEvent>(id);
    if (!letter) throw notFound(`dead letter "${id}"`, { id });
    const ctx = this.running.get(letter.syncId) ?? (await this.context(letter.syncId));
    const runtime = ctx.members[letter.member];
    if (!runtime)
      throw new BraidError(409, 'member_gone', `the sync has no member ${letter.member} any more`);
    try {
      // Serialized with the running handlers: the same entity must not be decided twice at once.
      await ctx.serialize(() => applyEvent(ctx, runtime, letter.event));
    } catch (err) {
      await this.options.store.syncDeadLetters.recordAttempt(id, (err as Error).message);
      throw err;
    }
    await this.options.store.syncDeadLetters.delete(id);
  }

  /**
   * Resolves an open conflict: the chosen canonical value (a side's, `{member}`, or any value,
   * `{value}`) is written to every member of the entity whose current value differs (only that
   * field's column, through the member's write transform and `withOrigin`, so no echo comes back),
   * recorded as the entity's converged value, and the conflict is marked resolved with
   * `{value, winner, losers, by}`. Works whether the sync is running or not. 404 for an unknown
   * conflict, 409 when it is resolved already, 400 `invalid_choice` for a member that is not a side.
   */
  async resolveConflict(conflictId: string, choice: ConflictChoice, by?: string): Promise<SyncConflict> {
    const conflict = await this.options.store.syncConflicts.get(conflictId);
    if (!conflict) throw notFound(`conflict "${conflictId}"`, { id: conflictId });
    if (conflict.status === 'resolved') {
      throw new BraidError(409, 'conflict_already_resolved', `conflict "${conflictId}" is already resolved`, {
        id: conflictId,
      });
    }
    const ctx = this.running.get(conflict.syncId) ?? (await this.context(conflict.syncId));
    return ctx.serialize(() => resolveConflictIn(ctx, conflict, choice, by));
  }

  /** Compares the members' rows (`dry-run`) or also links, writes the decided values and optionally creates missing rows (`apply`). */
  async reconcile(syncId: string, options: ReconcileOptions): Promise<ReconcileReport> {
    const ctx = this.running.get(syncId) ?? (await this.context(syncId));
    return reconcileSync(ctx, options);
  }

  /** Loads the rule, resolves each member's table and picks its capture (nothing is started). */
  private async context(syncId: string): Promise<SyncContext> {
    const { store, sources, sandbox, logger, pollingDir } = this.options;
    const record = await store.syncs.get(syncId);
    if (!record) throw notFound(`sync "${syncId}"`, { id: syncId });
    const rule: SyncRule = parseSyncRule(record.definition);
    const members: MemberRuntime[] = [];
    for (const [index, member] of rule.members.entries()) {
      const { connector, table } = await sources.resolveTable(member.source, member.table);
      // Through the sources service: it knows the built-in source, which has no row in the store.
      const config = await sources.configOf(member.source);
      const memberSource: MemberSource = { sourceId: member.source, connector, config, table };
      const selection = await selectCapture(member.capture ?? rule.capture, memberSource, pollingDir ?? null);
      const strategy = createCapture(
        selection.kind,
        captureName(syncId, index),
        memberSource,
        pollingDir ?? null,
      );
      members.push({
        index,
        member,
        connector,
        table,
        strategy,
        selection,
        config,
        stats: emptyStats(),
        run: null,
        loop: null,
      });
    }
    const origin = `braid_sync_${captureName(syncId, 0).slice(1, -3)}`;
    let signalStop = () => undefined as void;
    const stopped = new Promise<void>((resolve) => (signalStop = resolve));
    return {
      syncId,
      rule,
      origin,
      members,
      store,
      sandbox,
      logger,
      baselines: new EntityBaselines(store.syncEntityState, syncId),
      serialize: serializer(),
      stopping: false,
      stopped,
      signalStop,
    };
  }
}

function memberSourceOf(m: MemberRuntime, ctx: SyncContext): MemberSource {
  const sourceId = ctx.rule.members[m.index]!.source;
  return { sourceId, connector: m.connector, config: m.config, table: m.table };
}

/** Resolves when every member's first run has started, or rejects with the first start failure. */
async function waitForRuns(ctx: SyncContext): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (ctx.members.some((m) => m.run === null)) {
    const failed = ctx.members.find((m) => m.stats.lastError !== null && m.run === null);
    if (failed) throw new Error(`member ${failed.index} could not start: ${failed.stats.lastError}`);
    if (Date.now() > deadline) throw new Error('capture did not start within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function lagOf(stats: MemberRuntime['stats']): number | null {
  if (stats.applyingSince !== null) return Math.max(0, Date.now() - Date.parse(stats.applyingSince));
  if (stats.lastCommitTime === null || stats.lastEventAt === null) return null;
  return Math.max(0, Date.parse(stats.lastEventAt) - Date.parse(stats.lastCommitTime));
}
