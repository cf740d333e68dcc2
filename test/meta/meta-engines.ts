import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openMetaStore, type MetaStore, type MetaStoreOptions } from '../../src/meta/meta-store.js';
import type { MetaEngine } from '../../src/meta/meta-connection.js';
import { POSTGRES_URL, postgresAvailable, uniqueName } from '../support/servers.js';

/** One isolated metadata store: a temp data dir, and for PostgreSQL its own schema. */
export interface MetaFixture {
  store: MetaStore;
  dataDir: string;
  /** The options it was opened with, to open it again (with overrides). */
  options: MetaStoreOptions;
  reopen(overrides?: Partial<MetaStoreOptions>): Promise<MetaStore>;
  /** Closes every store opened through this fixture and removes the data dir and schema. */
  cleanup(): Promise<void>;
}

export interface MetaEngineCase {
  name: MetaEngine;
  /** False only outside CI when the server is unreachable (under CI=true the probe throws). */
  available: boolean;
  open(overrides?: Partial<MetaStoreOptions>): Promise<MetaFixture>;
}

async function fixture(options: MetaStoreOptions, dropSchema?: () => Promise<void>): Promise<MetaFixture> {
  const opened: MetaStore[] = [];
  const open = async (overrides: Partial<MetaStoreOptions> = {}) => {
    const store = await openMetaStore({ ...options, ...overrides });
    opened.push(store);
    return store;
  };
  let store: MetaStore;
  try {
    store = await open();
  } catch (err) {
    // A store that fails to open must not leave its schema or data dir behind.
    await dropSchema?.();
    await fs.rm(options.dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    store,
    dataDir: options.dataDir,
    options,
    reopen: open,
    async cleanup() {
      // A store may already be closed by its test; destroying twice is harmless for Kysely.
      await Promise.allSettled(opened.map((s) => s.close()));
      await dropSchema?.();
      await fs.rm(options.dataDir, { recursive: true, force: true });
    },
  };
}

const tempDir = () => fs.mkdtemp(path.join(os.tmpdir(), 'braid-meta-'));

/** Runs raw SQL on the test PostgreSQL server (outside the store, to inspect what it wrote). */
export async function postgresQuery<R extends Record<string, unknown>>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export const META_ENGINES: MetaEngineCase[] = [
  {
    name: 'sqlite',
    available: true,
    open: async (overrides = {}) => fixture({ dataDir: await tempDir(), ...overrides }),
  },
  {
    name: 'postgres',
    available: await postgresAvailable(),
    open: async (overrides = {}) => {
      const pgSchema = uniqueName('meta');
      return fixture(
        { dataDir: await tempDir(), databaseUrl: POSTGRES_URL, pgSchema, ...overrides },
        async () => {
          await postgresQuery(`drop schema if exists "${pgSchema}" cascade`);
        },
      );
    },
  },
];
