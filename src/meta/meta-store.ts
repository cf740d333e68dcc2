import type { Kysely } from 'kysely';
import { BraidError } from '../model/errors.js';
import { ApiKeysRepository } from './api-keys-repository.js';
import { CombinedMaterializationsRepository } from './combined-materializations-repository.js';
import { CombinedTablesRepository } from './combined-tables-repository.js';
import { JobsRepository } from './jobs-repository.js';
import { RelationsRepository } from './relations-repository.js';
import { verifySecretKey } from './key-check.js';
import { connectPostgres, connectSqlite, isPostgresUrl, type MetaEngine } from './meta-connection.js';
import type { MetaDatabase } from './meta-schema.js';
import { runMetaMigrations } from './migrations/run-migrations.js';
import { createSecretBox, type SecretBox } from './secret-box.js';
import { resolveSecretKey, type SecretKeySource } from './secret-key.js';
import { SessionsRepository } from './sessions-repository.js';
import { SettingsRepository } from './settings-repository.js';
import { SourcesRepository } from './sources-repository.js';
import { EntityLinksRepository } from './entity-links-repository.js';
import { SyncConflictsRepository } from './sync-conflicts-repository.js';
import { SyncDeadLettersRepository } from './sync-dead-letters-repository.js';
import { SyncEntityStateRepository } from './sync-entity-state-repository.js';
import { SyncLeasesRepository } from './sync-leases-repository.js';
import { SyncPositionsRepository } from './sync-positions-repository.js';
import { SyncsRepository } from './syncs-repository.js';
import { UsersRepository } from './users-repository.js';

export interface MetaStoreOptions {
  /** Holds braid.db (SQLite store) and secret.key (when no secretKey is given); created if missing. */
  dataDir: string;
  /** postgres:// or postgresql:// URL to keep the metadata in PostgreSQL; else SQLite in dataDir. */
  databaseUrl?: string | undefined;
  /** PostgreSQL only: keep every table in this schema (created if missing). */
  pgSchema?: string | undefined;
  /** BRAID_SECRET_KEY: 64 hex / 44 base64 characters, or a passphrase; else the key file is used. */
  secretKey?: string | undefined;
}

/**
 * Braid's own metadata: users, sessions, API keys, sources, settings and the state of sync rules
 * (links, positions, conflicts, dead letters), migrated to the latest version on open. `db` is there for later issues' repositories; code outside src/meta should prefer
 * the repositories.
 *
 * @example
 * const store = await openMetaStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, secretKey: config.secretKey });
 * const source = await store.sources.create({ name: 'shop', kind: 'sqlite', config: { file: 'shop.db' } });
 * await store.close();
 */
export interface MetaStore {
  readonly engine: MetaEngine;
  readonly db: Kysely<MetaDatabase>;
  readonly secretBox: SecretBox;
  /** Where the secret key came from, for the start-up log (never the key itself). */
  readonly secretKeySource: SecretKeySource;
  readonly users: UsersRepository;
  readonly sessions: SessionsRepository;
  readonly apiKeys: ApiKeysRepository;
  readonly sources: SourcesRepository;
  readonly settings: SettingsRepository;
  readonly syncs: SyncsRepository;
  readonly entityLinks: EntityLinksRepository;
  readonly syncPositions: SyncPositionsRepository;
  readonly syncConflicts: SyncConflictsRepository;
  readonly syncDeadLetters: SyncDeadLettersRepository;
  /** Converged values per entity: the evidence conflict decisions need after a restart. */
  readonly syncEntityState: SyncEntityStateRepository;
  readonly syncLeases: SyncLeasesRepository;
  /** Durable jobs (imports, consolidations...): status, lease, progress, checkpoint and log. */
  readonly jobs: JobsRepository;
  /** Links between tables of different sources, for including related rows in reads. */
  readonly relations: RelationsRepository;
  /** Combined-table definitions (one virtual table over tables of several sources). */
  readonly combinedTables: CombinedTablesRepository;
  /** Where combined tables are materialized, and the sync rules keeping those tables current. */
  readonly combinedMaterializations: CombinedMaterializationsRepository;
  /** Closes the connection (pool); the store cannot be used afterwards. */
  close(): Promise<void>;
}

/**
 * Brings the schema to the latest migration and answers the names applied now. Safe to call again:
 * applied migrations are skipped. On PostgreSQL the tables live in the connection's current schema.
 */
export async function migrateMetaStore(db: Kysely<MetaDatabase>, engine: MetaEngine): Promise<string[]> {
  try {
    return await runMetaMigrations(db, engine);
  } catch (error) {
    throw new BraidError(
      500,
      'meta_migration_failed',
      `migrating the metadata store failed: ${(error as Error).message ?? String(error)}`,
      undefined,
      { cause: error },
    );
  }
}

/**
 * Opens (and migrates) the metadata store and the secret box, and checks that the secret key is the
 * one the store was sealed with (`secret_key_mismatch` otherwise).
 */
export async function openMetaStore(options: MetaStoreOptions): Promise<MetaStore> {
  const engine: MetaEngine = isPostgresUrl(options.databaseUrl) ? 'postgres' : 'sqlite';
  if (options.databaseUrl && engine === 'sqlite') {
    throw new BraidError(
      500,
      'invalid_database_url',
      'BRAID_DATABASE_URL must start with postgres:// or postgresql:// (leave it unset for SQLite)',
    );
  }
  // The key first: a bad BRAID_SECRET_KEY should fail before anything is created.
  const { key, source: secretKeySource } = await resolveSecretKey(options);
  const secretBox = createSecretBox(key);
  key.fill(0);
  const { db } =
    engine === 'postgres'
      ? await connectPostgres(options.databaseUrl!, options.pgSchema)
      : await connectSqlite(options.dataDir);
  try {
    await migrateMetaStore(db, engine);
    const settings = new SettingsRepository(db);
    await verifySecretKey(settings, secretBox);
    return {
      engine,
      db,
      secretBox,
      secretKeySource,
      users: new UsersRepository(db),
      sessions: new SessionsRepository(db),
      apiKeys: new ApiKeysRepository(db),
      sources: new SourcesRepository(db, secretBox),
      settings,
      syncs: new SyncsRepository(db),
      entityLinks: new EntityLinksRepository(db),
      syncPositions: new SyncPositionsRepository(db),
      syncConflicts: new SyncConflictsRepository(db),
      syncDeadLetters: new SyncDeadLettersRepository(db),
      syncEntityState: new SyncEntityStateRepository(db),
      syncLeases: new SyncLeasesRepository(db),
      jobs: new JobsRepository(db),
      relations: new RelationsRepository(db),
      combinedTables: new CombinedTablesRepository(db),
      combinedMaterializations: new CombinedMaterializationsRepository(db),
      close: () => db.destroy(),
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}
