import { sql, type Kysely } from 'kysely';
import { META_MIGRATIONS } from './index.js';

const TABLE = 'braid_migration';

/**
 * Applies the pending metadata migrations in name order, each recorded in `braid_migration`, all in
 * one transaction. Braid's own runner rather than Kysely's Migrator: the Migrator looks for its
 * bookkeeping table by introspecting every schema of the database, which is slow next to big
 * catalogs and fails when another schema is dropped at that moment. Two processes starting at once
 * are serialized by an advisory lock (PostgreSQL) or SQLite's write lock.
 */
export async function runMetaMigrations(db: Kysely<any>, engine: 'sqlite' | 'postgres'): Promise<string[]> {
  try {
    await sql`create table if not exists ${sql.id(TABLE)} (name varchar(255) primary key, timestamp varchar(255) not null)`.execute(
      db,
    );
  } catch (err) {
    // PostgreSQL's "if not exists" can still collide with a concurrent creator; the table is there then.
    if (!(await tableReadable(db))) throw err;
  }
  return db.transaction().execute(async (trx) => {
    if (engine === 'postgres') {
      await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.braid_migration'))`.execute(trx);
    } else {
      // Take SQLite's write lock now, so a second process waits here instead of failing later.
      await sql`update ${sql.id(TABLE)} set name = name where 1 = 0`.execute(trx);
    }
    const applied = new Set(
      (await sql<{ name: string }>`select name from ${sql.id(TABLE)}`.execute(trx)).rows.map((r) => r.name),
    );
    const ran: string[] = [];
    for (const name of Object.keys(META_MIGRATIONS).sort()) {
      if (applied.has(name)) continue;
      await META_MIGRATIONS[name]!.up(trx);
      await sql`insert into ${sql.id(TABLE)} (name, timestamp) values (${name}, ${new Date().toISOString()})`.execute(
        trx,
      );
      ran.push(name);
    }
    return ran;
  });
}

async function tableReadable(db: Kysely<any>): Promise<boolean> {
  try {
    await sql`select 1 from ${sql.id(TABLE)} where 1 = 0`.execute(db);
    return true;
  } catch {
    return false;
  }
}
