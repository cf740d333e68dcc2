import type { Kysely } from 'kysely';

/**
 * Relationships across sources: a column of a table in one source that names rows of a table in
 * another (invoices.customer_id in PostgreSQL -> customers.id in MariaDB), so row reads can include
 * the related rows. Sources are not foreign keys: the built-in source has no row, and a source in
 * use by a relation cannot be deleted (the sources service refuses it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('relations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('from_source', 'text', (c) => c.notNull())
    .addColumn('from_table', 'text', (c) => c.notNull())
    .addColumn('from_column', 'text', (c) => c.notNull())
    .addColumn('to_source', 'text', (c) => c.notNull())
    .addColumn('to_table', 'text', (c) => c.notNull())
    .addColumn('to_column', 'text', (c) => c.notNull())
    .addColumn('reverse_name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('relations_from')
    .on('relations')
    .columns(['from_source', 'from_table'])
    .execute();
  await db.schema.createIndex('relations_to').on('relations').columns(['to_source', 'to_table']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('relations').ifExists().execute();
}
