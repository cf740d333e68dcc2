import type { CaptureKind } from '../../capture/capture-strategy.js';
import type { EntityState, SyncEntityStateRepository } from '../../meta/sync-entity-state-repository.js';
import { canonicalEquals, type CanonicalValues } from '../field-mapping.js';

/** Entities kept in memory per running sync; the rest is read from the store when needed. */
const DEFAULT_CACHE_SIZE = 10_000;
/** Writes remembered per member for echo recognition: a poll may come after several of them. */
const ECHOES_KEPT = 4;

/** The event an entity's state was last updated for: which member, through which capture, where. */
export interface AppliedMark {
  member: number;
  kind: CaptureKind;
  position: string;
}

/**
 * What each entity's members last converged to and the last event applied from each member: stored
 * in `sync_entity_state` (so a restarted process decides conflicts as the running one would, and
 * recognises events it had already applied) behind a bounded least-recently-used cache. Writes go
 * through to the store, only when something changed. One instance per sync context, so a cache never
 * outlives the run that filled it (another process may have run the sync in between).
 */
export class EntityBaselines {
  /** entity id -> state; null remembers "nothing stored". Map order is recency (oldest first). */
  private readonly cache = new Map<string, EntityState<CanonicalValues> | null>();

  constructor(
    private readonly store: SyncEntityStateRepository,
    private readonly syncId: string,
    private readonly maxEntries = DEFAULT_CACHE_SIZE,
  ) {}

  /** The entity's converged values, or undefined when none were ever recorded. */
  async get(entityId: string): Promise<CanonicalValues | undefined> {
    return (await this.state(entityId))?.converged;
  }

  /**
   * True when an event at `mark` (or a later one of the same member's stream) was already applied
   * to this entity: a redelivery after a restart. Positions are ordered as strings within one
   * capture stream (see ChangeEvent.position); a mark of another capture kind says nothing.
   */
  async applied(entityId: string, mark: AppliedMark): Promise<boolean> {
    const last = (await this.state(entityId))?.applied[String(mark.member)];
    const prefix = `${mark.kind}:`;
    return last !== undefined && last.startsWith(prefix) && mark.position <= last.slice(prefix.length);
  }

  /** Records the converged values (and the event applied); writes the store only when something changed. */
  async set(entityId: string, values: CanonicalValues, mark?: AppliedMark): Promise<void> {
    const previous = await this.state(entityId);
    const applied = { ...previous?.applied };
    if (mark) applied[String(mark.member)] = `${mark.kind}:${mark.position}`;
    if (
      previous &&
      canonicalEquals(previous.converged, values) &&
      canonicalEquals(previous.applied, applied)
    ) {
      return;
    }
    await this.save(entityId, { converged: { ...values }, applied, echoes: previous?.echoes ?? {} });
  }

  /**
   * Remembers values Braid wrote into a member whose capture cannot tag them (polling), so that the
   * event seeing them is recognised as an echo (see `takeEcho`).
   */
  async expectEcho(entityId: string, member: number, written: CanonicalValues): Promise<void> {
    const previous = await this.state(entityId);
    const echoes = { ...previous?.echoes };
    echoes[String(member)] = [...(echoes[String(member)] ?? []), { ...written }].slice(-ECHOES_KEPT);
    await this.save(entityId, {
      converged: previous?.converged ?? {},
      applied: previous?.applied ?? {},
      echoes,
    });
  }

  /**
   * True when `values` (a member's row as its capture saw it) is an echo of Braid's own write: they
   * hold what Braid wrote there lately for those fields and the converged value for every other
   * field. The echo and the writes before it are forgotten. A change back to a value Braid wrote
   * moments ago is indistinguishable from an echo: the price of capture that cannot tag writes.
   */
  async takeEcho(entityId: string, member: number, values: CanonicalValues): Promise<boolean> {
    const previous = await this.state(entityId);
    const expected = previous?.echoes[String(member)];
    if (!previous || !expected?.length) return false;
    const index = expected.findLastIndex((written) =>
      Object.entries(values).every(([field, value]) =>
        canonicalEquals(value, field in written ? written[field] : previous.converged[field]),
      ),
    );
    if (index < 0) return false;
    const echoes = { ...previous.echoes, [String(member)]: expected.slice(index + 1) };
    await this.save(entityId, { ...previous, echoes });
    return true;
  }

  /** Forgets the entity (its rows were deleted everywhere). */
  async delete(entityId: string): Promise<void> {
    await this.store.delete(this.syncId, entityId);
    this.remember(entityId, null);
  }

  private async save(entityId: string, state: EntityState<CanonicalValues>): Promise<void> {
    await this.store.set(this.syncId, entityId, state);
    this.remember(entityId, state);
  }

  private async state(entityId: string): Promise<EntityState<CanonicalValues> | undefined> {
    if (this.cache.has(entityId)) {
      const cached = this.cache.get(entityId)!;
      this.remember(entityId, cached);
      return cached ?? undefined;
    }
    const stored = await this.store.get<CanonicalValues>(this.syncId, entityId);
    this.remember(entityId, stored);
    return stored ?? undefined;
  }

  private remember(entityId: string, state: EntityState<CanonicalValues> | null): void {
    this.cache.delete(entityId);
    this.cache.set(entityId, state);
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
  }
}
