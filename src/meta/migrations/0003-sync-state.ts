import type { Kysely } from 'kysely';

/**
 * Sync state that must survive a restart: per entity, the values its members last converged to (the
 * evidence a conflict decision needs when a change event carries no before-image) and the position
 * of the last event applied from each member (so a redelivered event is recognised), and the lease
 * that lets exactly one process (the server or a `braid worker`) run a sync at a time.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sync_entity_state')
    .addColumn('sync_id', 'text', (c) => c.notNull().references('syncs.id').onDelete('cascade'))
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('converged', 'text', (c) => c.notNull())
    .addColumn('applied', 'text', (c) => c.notNull())
    .addColumn('echoes', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sync_entity_state_pk', ['sync_id', 'entity_id'])
    .execute();

  await db.schema
    .createTable('sync_leases')
    .addColumn('sync_id', 'text', (c) => c.primaryKey().references('syncs.id').onDelete('cascade'))
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .addColumn('status', 'text')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sync_leases').ifExists().execute();
  await db.schema.dropTable('sync_entity_state').ifExists().execute();
}
