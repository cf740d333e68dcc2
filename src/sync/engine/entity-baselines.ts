import type { CaptureKind } from '../../capture/capture-strategy.js';
import type { EntityState, SyncEntityStateRepository } from '../../meta/sync-entity-state-repository.js';
import { canonicalEquals, type CanonicalValues } from '../field-mapping.js';

/** Entities kept in memory per running sync; the rest is read from the store when needed. */
const DEFAULT_CACHE_SIZE = 10_000;

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
    const state = { converged: { ...values }, applied };
    await this.store.set(this.syncId, entityId, state);
    this.remember(entityId, state);
  }

  /** Forgets the entity (its rows were deleted everywhere). */
  async delete(entityId: string): Promise<void> {
    await this.store.delete(this.syncId, entityId);
    this.remember(entityId, null);
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
