import { promises as fs } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { BraidError, badRequest } from '../model/errors.js';
import type { MetaDatabase } from './meta-schema.js';

/** File name of the SQLite metadata store inside the data directory. */
export const META_SQLITE_FILE = 'braid.db';

export type MetaEngine = 'sqlite' | 'postgres';

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Opens the SQLite file, creating the data directory (private to this user) when it is missing. */
export async function connectSqlite(dataDir: string): Promise<{ db: Kysely<MetaDatabase>; file: string }> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, META_SQLITE_FILE);
  const database = new Database(file);
  // WAL lets readers proceed during a write; busy_timeout rides out a CLI and the server writing at
  // once; foreign keys are off by default in SQLite and the schema relies on their cascades.
  // synchronous=NORMAL is the usual WAL pairing: a power cut may lose the last commit, never corrupts.
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  return { db: new Kysely<MetaDatabase>({ dialect: new SqliteDialect({ database }) }), file };
}

/**
 * Connects to PostgreSQL. With `schema`, every connection gets `search_path` set to it, so the
 * unqualified names of the migrations and repositories land there (tests isolate themselves this
 * way); the schema is created first when missing.
 */
export async function connectPostgres(
  url: string,
  schema?: string,
): Promise<{ db: Kysely<MetaDatabase>; schema: string }> {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw badRequest('invalid_schema_name', 'the metadata schema name must be a plain SQL identifier');
  }
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client can error (server restart); without a listener that would crash the process.
  pool.on('error', () => undefined);
  const setPath = schema && CompiledQuery.raw(`set search_path to "${schema}"`);
  const db = new Kysely<MetaDatabase>({
    dialect: new PostgresDialect({
      pool,
      ...(setPath
        ? { onCreateConnection: async (connection) => void (await connection.executeQuery(setPath)) }
        : {}),
    }),
  });
  try {
    if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    const current = await sql<{ name: string | null }>`select current_schema() as name`.execute(db);
    const name = current.rows[0]?.name;
    if (!name) throw new Error('no schema to create the metadata tables in: check search_path');
    return { db, schema: name };
  } catch (err) {
    await db.destroy();
    throw new BraidError(
      503,
      'meta_store_unreachable',
      `cannot connect to the metadata database (BRAID_DATABASE_URL): ${(err as Error).message}`,
      undefined,
      { cause: err },
    );
  }
}
