import type { Kysely } from 'kysely';

/**
 * Materialized combined tables: one real table per combined table, kept current by a generated sync
 * rule. One row per combined table (it has at most one materialization). Neither the combined
 * table, the source nor the sync is a foreign key, as in 0006: the services keep them consistent
 * (a materialized combined table cannot be deleted; dematerializing deletes the sync).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('combined_materializations')
    .addColumn('combined_id', 'text', (c) => c.primaryKey())
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addColumn('table_name', 'text', (c) => c.notNull())
    .addColumn('sync_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('combined_materializations').ifExists().execute();
}
