import type { Kysely } from 'kysely';

/**
 * Combined tables: one virtual table over tables of several sources, matched by a key. The
 * definition is kept as JSON (its shape belongs to src/combined, not to the store). Names are
 * unique so people and the CLI can name one. Sources are not foreign keys (the built-in source has
 * no row); the sources service refuses to delete a source a combined table uses.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('combined_tables')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('combined_tables').ifExists().execute();
}
