import type { Kysely } from 'kysely';
import { isoNow } from './db-errors.js';
import type { MetaDatabase } from './meta-schema.js';

/**
 * The durable capture position of each member of a sync: where its capture resumes after a
 * restart. Saved only after the events up to it are applied (at-least-once delivery).
 *
 * @example
 * await store.syncPositions.save(syncId, 0, '0/16B3748');
 * await store.syncPositions.get(syncId, 0); // '0/16B3748'
 */
export class SyncPositionsRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async get(syncId: string, member: number): Promise<string | null> {
    const row = await this.db
      .selectFrom('sync_positions')
      .select('position')
      .where('sync_id', '=', syncId)
      .where('member', '=', member)
      .executeTakeFirst();
    return row?.position ?? null;
  }

  async save(syncId: string, member: number, position: string): Promise<void> {
    const updatedAt = isoNow();
    await this.db
      .insertInto('sync_positions')
      .values({ sync_id: syncId, member, position, updated_at: updatedAt })
      .onConflict((oc) => oc.columns(['sync_id', 'member']).doUpdateSet({ position, updated_at: updatedAt }))
      .execute();
  }

  /** Every member's position, for the status answer. */
  async forSync(syncId: string): Promise<{ member: number; position: string; updatedAt: string }[]> {
    const rows = await this.db
      .selectFrom('sync_positions')
      .selectAll()
      .where('sync_id', '=', syncId)
      .orderBy('member')
      .execute();
    return rows.map((r) => ({ member: Number(r.member), position: r.position, updatedAt: r.updated_at }));
  }

  /** Forgets a member's position (its capture starts again from the current end). */
  async clear(syncId: string, member: number): Promise<void> {
    await this.db
      .deleteFrom('sync_positions')
      .where('sync_id', '=', syncId)
      .where('member', '=', member)
      .execute();
  }
}
