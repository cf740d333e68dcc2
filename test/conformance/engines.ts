import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Connector, SourceConfig, SourceKind } from '../../src/connectors/connector.js';
import type { TableDefinition, TableSchema } from '../../src/model/schema.js';
import {
  createMysqlDatabase,
  createPostgresSchema,
  mysqlAvailable,
  postgresAvailable,
  uniqueName,
} from '../support/servers.js';

/**
 * The engines the conformance suite runs against. Every test file does
 * `describe.each(engines)('... on $kind', (engine) => { const db = useDatabase(engine, tables); ... })`
 * so the same cases, with the same expectations, run on PostgreSQL, MariaDB and SQLite.
 *
 * BRAID_CONFORMANCE_ENGINES=sqlite,postgres narrows the run while debugging one engine.
 */

type Factory = (config: SourceConfig) => Connector;

/** Each engine folder is loaded on its own, so one engine can be exercised while another is unfinished. */
const loaders: Record<SourceKind, () => Promise<Factory>> = {
  postgres: async () => (await import('../../src/connectors/postgres/index.js')).createPostgresConnector,
  mysql: async () => (await import('../../src/connectors/mysql/index.js')).createMysqlConnector,
  sqlite: async () => (await import('../../src/connectors/sqlite/index.js')).createSqliteConnector,
};

/** An isolated database: a PostgreSQL schema, a MariaDB database or a SQLite file. */
interface Isolated {
  config: SourceConfig;
  /** The schema tables are created in (PostgreSQL) or null. */
  schema: string | null;
  /** Quotes a table name for raw SQL on this engine (raw SQL is the one place dialects show). */
  rawTable(name: string): string;
  drop(): Promise<void>;
}

export interface Engine {
  kind: SourceKind;
  /** False when the server is unreachable outside CI (under CI=true the probe throws instead). */
  available: boolean;
  isolate(): Promise<Isolated>;
}

const quoteDouble = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const quoteBacktick = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

const allEngines: Engine[] = [
  {
    kind: 'postgres',
    available: await postgresAvailable(),
    async isolate() {
      const created = await createPostgresSchema('conf');
      return {
        config: { url: created.url, schemas: [created.schema] },
        schema: created.schema,
        rawTable: (name) => `${quoteDouble(created.schema)}.${quoteDouble(name)}`,
        drop: () => created.drop(),
      };
    },
  },
  {
    kind: 'mysql',
    available: await mysqlAvailable(),
    async isolate() {
      const created = await createMysqlDatabase('conf');
      return {
        config: { url: created.url },
        schema: null,
        rawTable: quoteBacktick,
        drop: () => created.drop(),
      };
    },
  },
  {
    kind: 'sqlite',
    available: true,
    async isolate() {
      const file = join(tmpdir(), `${uniqueName('braid-conformance')}.sqlite`);
      const config: SourceConfig & { create?: boolean } = { file, create: true };
      return {
        config,
        schema: null,
        rawTable: quoteDouble,
        async drop() {
          await Promise.all(
            ['', '-wal', '-shm', '-journal'].map((suffix) => rm(file + suffix, { force: true })),
          );
        },
      };
    },
  },
];

const only = process.env.BRAID_CONFORMANCE_ENGINES?.split(',').map((s) => s.trim());
/** Reachable engines (an unreachable server was reported by the probe, or failed the run under CI). */
export const engines: Engine[] = allEngines.filter((e) => e.available && (!only || only.includes(e.kind)));

/** What a test sees: the connector, the tables of its fixture as introspected, and helpers. */
export interface Database {
  readonly kind: SourceKind;
  readonly connector: Connector;
  /** The introspected table created from the definition of that name. */
  table(name: string): TableSchema;
  /** Re-introspects (after DDL made by a test) and answers every table of this isolated database. */
  refresh(): Promise<TableSchema[]>;
  /** The table name quoted for raw SQL on this engine. */
  rawTable(name: string): string;
  /** The schema definitions are created in (PostgreSQL) or null. */
  readonly schema: string | null;
}

/**
 * Creates an isolated database with the given tables (through `connector.createTable`, so the
 * fixture is the same portable definition everywhere), seeds it, and removes it after the file.
 */
export function useDatabase(
  engine: Engine,
  definitions: TableDefinition[],
  seed?: (db: Database) => Promise<void>,
): Database {
  let connector: Connector | undefined;
  let isolated: Isolated | undefined;
  let tables: TableSchema[] = [];

  const mine = (t: TableSchema): boolean =>
    isolated!.schema === null ? true : t.schema === isolated!.schema;
  const db: Database = {
    kind: engine.kind,
    get connector() {
      if (!connector) throw new Error(`${engine.kind} connector is not open (did beforeAll fail?)`);
      return connector;
    },
    get schema() {
      return isolated!.schema;
    },
    table(name) {
      const found = tables.find((t) => t.name === name);
      if (!found)
        throw new Error(`table ${JSON.stringify(name)} not found by introspect() on ${engine.kind}`);
      return found;
    },
    async refresh() {
      const introspected = await db.connector.introspect();
      tables = introspected.tables.filter(mine);
      return tables;
    },
    rawTable: (name) => isolated!.rawTable(name),
  };

  beforeAll(async () => {
    isolated = await engine.isolate();
    connector = (await loaders[engine.kind]())(isolated.config);
    for (const definition of definitions) {
      await connector.createTable({ ...definition, schema: isolated.schema });
    }
    await db.refresh();
    if (seed) await seed(db);
  });

  afterAll(async () => {
    await connector?.close();
    await isolated?.drop();
  });

  return db;
}

/**
 * DDL of a table as an existing database would have it: `w` and `t` in the engine's
 * case-insensitive, accent-insensitive, space-padding or linguistic collations, which Braid's own DDL
 * never uses. The filter language must answer the same on these columns as on Braid's.
 */
export function collatedTableSql(db: Database, name: string): string[] {
  const table = db.rawTable(name);
  switch (db.kind) {
    case 'postgres': {
      const ci = `${quoteDouble(db.schema!)}.${quoteDouble(`${name}_ci`)}`;
      return [
        `create collation ${ci} (provider = icu, locale = 'und-u-ks-level1', deterministic = false)`,
        `create table ${table} (id integer primary key, w varchar(100) collate "en-x-icu", t text collate ${ci})`,
      ];
    }
    case 'mysql':
      return [
        `create table ${table} (id int primary key, w varchar(100) collate utf8mb4_general_ci, ` +
          `t text collate utf8mb4_unicode_ci) character set utf8mb4`,
      ];
    case 'sqlite':
      return [
        `create table ${table} (id integer primary key, w varchar(100) collate nocase, t text collate rtrim)`,
      ];
  }
}
