import type { Kysely } from 'kysely';

/**
 * Sync rules and their state: links between members' rows, capture positions, the conflict review
 * queue and dead letters. Same portability rules as 0001: the schema builder, `text` and `integer`
 * only (JSON and timestamps as text). Every child table cascades from `syncs`, so deleting a rule
 * removes its state in one statement.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('syncs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('syncs_name_unique').on('syncs').column('name').unique().execute();

  await db.schema
    .createTable('sync_entity_links')
    .addColumn('sync_id', 'text', (c) => c.notNull().references('syncs.id').onDelete('cascade'))
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('member', 'integer', (c) => c.notNull())
    .addColumn('member_key', 'text', (c) => c.notNull())
    .addColumn('match_key', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  // A member row belongs to one entity of a sync, and an entity has at most one row per member.
  await db.schema
    .createIndex('sync_entity_links_member_key')
    .on('sync_entity_links')
    .columns(['sync_id', 'member', 'member_key'])
    .unique()
    .execute();
  await db.schema
    .createIndex('sync_entity_links_entity_member')
    .on('sync_entity_links')
    .columns(['entity_id', 'member'])
    .unique()
    .execute();
  await db.schema
    .createIndex('sync_entity_links_match_key')
    .on('sync_entity_links')
    .columns(['sync_id', 'member', 'match_key'])
    .execute();

  await db.schema
    .createTable('sync_positions')
    .addColumn('sync_id', 'text', (c) => c.notNull().references('syncs.id').onDelete('cascade'))
    .addColumn('member', 'integer', (c) => c.notNull())
    .addColumn('position', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sync_positions_pk', ['sync_id', 'member'])
    .execute();

  await db.schema
    .createTable('sync_conflicts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sync_id', 'text', (c) => c.notNull().references('syncs.id').onDelete('cascade'))
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('values', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('resolved_at', 'text')
    .addColumn('resolution', 'text')
    .execute();
  await db.schema
    .createIndex('sync_conflicts_sync_status')
    .on('sync_conflicts')
    .columns(['sync_id', 'status', 'created_at'])
    .execute();

  await db.schema
    .createTable('sync_dead_letters')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sync_id', 'text', (c) => c.notNull().references('syncs.id').onDelete('cascade'))
    .addColumn('member', 'integer', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('sync_dead_letters_sync')
    .on('sync_dead_letters')
    .columns(['sync_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'sync_dead_letters',
    'sync_conflicts',
    'sync_positions',
    'sync_entity_links',
    'syncs',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
