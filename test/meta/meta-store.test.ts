import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateMetaStore, openMetaStore } from '../../src/meta/meta-store.js';
import { META_MIGRATIONS } from '../../src/meta/migrations/index.js';
import { KEY_FILE_NAME } from '../../src/meta/secret-key.js';
import { createPostgresSchema, POSTGRES_URL } from '../support/servers.js';
import { META_ENGINES, postgresQuery, type MetaFixture } from './meta-engines.js';

// 0001-initial, then the tables of 0002-sync, 0003-sync-state, 0004-jobs, 0005-relations,
// 0006-combined and 0007-combined-materializations (sorted by name).
const TABLES = [
  'api_keys',
  'braid_migration',
  'combined_materializations',
  'combined_tables',
  'job_logs',
  'jobs',
  'relations',
  'sessions',
  'settings',
  'sources',
  'sync_conflicts',
  'sync_dead_letters',
  'sync_entity_links',
  'sync_entity_state',
  'sync_leases',
  'sync_positions',
  'syncs',
  'users',
];

describe.each(META_ENGINES)('metadata store on $name', (engine) => {
  describe.skipIf(!engine.available)('', () => {
    let meta: MetaFixture;
    beforeEach(async () => {
      meta = await engine.open();
    });
    afterEach(async () => {
      await meta.cleanup();
    });

    it('applies every migration once and opening again is a no-op', async () => {
      const applied = await meta.store.db
        .selectFrom('braid_migration' as never)
        .select(sql<string>`name`.as('name'))
        .execute();
      expect(applied.map((r) => r.name)).toEqual(Object.keys(META_MIGRATIONS));
      await meta.store.users.insert({ email: 'kept@example.com', passwordHash: 'x', role: 'builder' });

      const again = await meta.reopen();
      const third = await meta.reopen();
      expect(await migrateMetaStore(again.db, again.engine)).toEqual([]);
      expect((await third.users.list()).map((u) => u.email)).toEqual(['kept@example.com']);
      const after = await again.db
        .selectFrom('braid_migration' as never)
        .select(sql<number>`count(*)`.as('n'))
        .execute();
      expect(Number(after[0]!.n)).toBe(Object.keys(META_MIGRATIONS).length);
    });

    it('creates the tables of every migration', async () => {
      const names =
        engine.name === 'sqlite'
          ? (
              await sql<{
                name: string;
              }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(
                meta.store.db,
              )
            ).rows
          : await postgresQuery<{ name: string }>(
              'select table_name as name from information_schema.tables where table_schema = $1',
              [meta.options.pgSchema],
            );
      expect(names.map((r) => r.name).sort()).toEqual(TABLES);
    });

    it('stores and replaces settings', async () => {
      const { settings } = meta.store;
      expect(await settings.get('a')).toBeNull();
      await settings.set('a', '1');
      await settings.set('a', '2');
      expect(await settings.get('a')).toBe('2');
      expect(await settings.setIfAbsent('a', '3')).toBe(false);
      expect(await settings.setIfAbsent('b', '3')).toBe(true);
      expect(await settings.delete('a')).toBe(true);
      expect(await settings.get('a')).toBeNull();
    });

    it('refuses to start with a different key file, and starts again with the right one', async () => {
      await meta.store.close();
      const keyFile = path.join(meta.dataDir, KEY_FILE_NAME);
      const original = await fs.readFile(keyFile, 'utf8');
      await fs.writeFile(keyFile, `${randomBytes(32).toString('hex')}\n`);
      await expect(meta.reopen()).rejects.toMatchObject({ status: 500, code: 'secret_key_mismatch' });
      await fs.writeFile(keyFile, original);
      await expect(meta.reopen()).resolves.toMatchObject({ secretKeySource: 'key-file' });
    });

    it('uses BRAID_SECRET_KEY instead of the key file once given, and checks it too', async () => {
      const fresh = await engine.open({ secretKey: randomBytes(32).toString('base64') });
      try {
        expect(fresh.store.secretKeySource).toBe('env-key');
        expect(await fs.readdir(fresh.dataDir)).not.toContain(KEY_FILE_NAME);
        await expect(fresh.reopen({ secretKey: 'some passphrase' })).rejects.toMatchObject({
          code: 'secret_key_mismatch',
        });
        await expect(fresh.reopen({ secretKey: undefined })).rejects.toMatchObject({
          code: 'secret_key_mismatch',
        });
        await expect(fresh.reopen()).resolves.toMatchObject({ secretKeySource: 'env-key' });
      } finally {
        await fresh.cleanup();
      }
    });

    it.runIf(engine.name === 'sqlite')('keeps braid.db in the data dir in WAL mode', async () => {
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(meta.store.db);
      expect(mode.rows[0]!.journal_mode).toBe('wal');
      expect((await fs.stat(path.join(meta.dataDir, 'braid.db'))).isFile()).toBe(true);
      expect(meta.store.engine).toBe('sqlite');
    });

    it.runIf(engine.name === 'postgres')(
      'creates its own schema when missing and stays inside it',
      async () => {
        expect(meta.store.engine).toBe('postgres');
        const schemas = await postgresQuery(
          'select 1 from information_schema.schemata where schema_name = $1',
          [meta.options.pgSchema],
        );
        expect(schemas).toHaveLength(1);
        await expect(openMetaStore({ ...meta.options, pgSchema: 'bad"name' })).rejects.toMatchObject({
          code: 'invalid_schema_name',
        });
      },
    );
  });
});

describe.skipIf(!META_ENGINES.find((e) => e.name === 'postgres')!.available)(
  'metadata store without pgSchema',
  () => {
    it("migrates into the connection's current schema (search_path), not into every schema it can see", async () => {
      // Other test files' schemas hold braid_migration tables too: they must not be mistaken for ours.
      const target = await createPostgresSchema('metapath');
      const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-meta-'));
      const url = new URL(POSTGRES_URL);
      url.searchParams.set('options', `-c search_path=${target.schema}`);
      try {
        const store = await openMetaStore({ dataDir, databaseUrl: url.toString() });
        await store.close();
        const tables = await postgresQuery<{ name: string }>(
          'select table_name as name from information_schema.tables where table_schema = $1',
          [target.schema],
        );
        expect(tables.map((t) => t.name).sort()).toEqual(TABLES);
      } finally {
        await target.drop();
        await fs.rm(dataDir, { recursive: true, force: true });
      }
    });
  },
);

describe('metadata store options', () => {
  it('refuses a database URL that is not PostgreSQL', async () => {
    await expect(
      openMetaStore({ dataDir: 'unused', databaseUrl: 'mysql://root@127.0.0.1/test' }),
    ).rejects.toMatchObject({
      code: 'invalid_database_url',
    });
  });
});
