import type { Kysely } from 'kysely';
import { isoNow } from './db-errors.js';
import type { MetaDatabase } from './meta-schema.js';

/** What a sync remembers per entity. */
export interface EntityState<V extends Record<string, unknown> = Record<string, unknown>> {
  /** Canonical field -> the value the members last converged to (the sync layer's CanonicalValues). */
  converged: V;
  /** Member index -> `<capture kind>:<position>` of the last event applied from that member. */
  applied: Record<string, string>;
  /**
   * Member index -> the values Braid wrote into that member lately, newest last: for members whose
   * capture cannot tag Braid's writes (polling), the event that sees them is recognised by content.
   */
  echoes: Record<string, V[]>;
}

/** getMany reads its ids in chunks: bound parameters per statement are limited (SQLite: 32766). */
const CHUNK = 500;

/**
 * Per sync and entity (migration 0003): the canonical values its members last converged to, and the
 * position of the last event applied from each member. A conflict decision needs the value a change
 * replaced; when a change event carries no before-image (PostgreSQL logical capture without REPLICA
 * IDENTITY FULL) the converged values are the only evidence that the other members still hold it.
 * The positions let a restarted process recognise events it had applied before a crash. Both must
 * survive a restart. Rows go with their sync (cascade).
 *
 * @example
 * await store.syncEntityState.set(syncId, entityId, { converged: { phone: '5550100001' }, applied: { 0: 'binlog:...' }, echoes: {} });
 * (await store.syncEntityState.get(syncId, entityId))?.converged; // { phone: '5550100001' }
 */
export class SyncEntityStateRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  /** The entity's stored state, or null when none was recorded. */
  async get<V extends Record<string, unknown> = Record<string, unknown>>(
    syncId: string,
    entityId: string,
  ): Promise<EntityState<V> | null> {
    const row = await this.db
      .selectFrom('sync_entity_state')
      .select(['converged', 'applied', 'echoes'])
      .where('sync_id', '=', syncId)
      .where('entity_id', '=', entityId)
      .executeTakeFirst();
    return row ? toState<V>(row) : null;
  }

  /** The state of several entities (entities without any are left out of the map). */
  async getMany<V extends Record<string, unknown> = Record<string, unknown>>(
    syncId: string,
    entityIds: readonly string[],
  ): Promise<Map<string, EntityState<V>>> {
    const out = new Map<string, EntityState<V>>();
    for (let i = 0; i < entityIds.length; i += CHUNK) {
      const rows = await this.db
        .selectFrom('sync_entity_state')
        .select(['entity_id', 'converged', 'applied', 'echoes'])
        .where('sync_id', '=', syncId)
        .where('entity_id', 'in', entityIds.slice(i, i + CHUNK))
        .execute();
      for (const row of rows) out.set(row.entity_id, toState<V>(row));
    }
    return out;
  }

  /** Records (insert or replace) an entity's state; one statement on both engines. */
  async set(syncId: string, entityId: string, state: EntityState): Promise<void> {
    const converged = JSON.stringify(state.converged);
    const applied = JSON.stringify(state.applied);
    const echoes = JSON.stringify(state.echoes);
    const updatedAt = isoNow();
    await this.db
      .insertInto('sync_entity_state')
      .values({ sync_id: syncId, entity_id: entityId, converged, applied, echoes, updated_at: updatedAt })
      .onConflict((oc) =>
        oc
          .columns(['sync_id', 'entity_id'])
          .doUpdateSet({ converged, applied, echoes, updated_at: updatedAt }),
      )
      .execute();
  }

  /** Forgets an entity (its rows were deleted); true when there was something stored. */
  async delete(syncId: string, entityId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('sync_entity_state')
      .where('sync_id', '=', syncId)
      .where('entity_id', '=', entityId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function toState<V extends Record<string, unknown>>(row: {
  converged: string;
  applied: string;
  echoes: string;
}): EntityState<V> {
  return {
    converged: JSON.parse(row.converged) as V,
    applied: JSON.parse(row.applied) as Record<string, string>,
    echoes: JSON.parse(row.echoes) as Record<string, V[]>,
  };
}
