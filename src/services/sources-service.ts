import path from 'node:path';
import type { Connector, TestResult } from '../connectors/connector.js';
import type { SourceConfig, SourceKind } from '../model/source.js';
import { createConnector } from '../connectors/create-connector.js';
import { createSqliteConnector } from '../connectors/sqlite/index.js';
import { badRequest, BraidError, notFound } from '../model/errors.js';
import { qualifiedName, type DatabaseSchema, type TableSchema } from '../model/schema.js';
import { BUILTIN_SOURCE_ID, splitSecrets, type SourceRecord } from '../meta/index.js';
import { validateSourceConfig, validateSourceInput } from './source-input.js';

export { BUILTIN_SOURCE_ID };

/** How long a parsed schema is used before checking the store for a newer one. */
export const SCHEMA_RECHECK_MS = 1_000;

/** The persistence the service needs; src/meta provides it. */
export interface SourceStore {
  list(): Promise<SourceRecord[]>;
  get(id: string): Promise<SourceRecord | null>;
  create(input: { name: string; kind: SourceKind; config: SourceConfig }): Promise<SourceRecord>;
  update(id: string, patch: { name?: string; config?: SourceConfig }): Promise<SourceRecord>;
  delete(id: string): Promise<void>;
  saveSchema(id: string, schema: DatabaseSchema): Promise<void>;
  /** When the stored schema was fetched: null if never, undefined if there is no such source. */
  schemaFetchedAt(id: string): Promise<string | null | undefined>;
}

/** What answers and logs may show of a source: never a password. */
export interface SourceView {
  id: string;
  name: string;
  kind: SourceKind | 'builtin';
  config: Omit<SourceConfig, 'password'> & { hasPassword?: boolean };
  tablesFetchedAt: string | null;
  tableCount: number | null;
  createdAt: string;
  updatedAt: string;
}

export function redactConfig(config: SourceConfig): SourceView['config'] {
  const { publicConfig, secrets } = splitSecrets(config);
  const out: SourceView['config'] = { ...publicConfig };
  if (Object.keys(secrets).length > 0) out.hasPassword = true;
  return out;
}

/**
 * A PATCH built from a redacted view leaves the password out (of the config or of its URL): keep
 * the stored one when the rest of the credentials still point at the same account.
 */
function keepStoredPassword(current: SourceConfig, next: SourceConfig): SourceConfig {
  const merged = { ...next };
  if (merged.password === undefined && current.password !== undefined) merged.password = current.password;
  if (merged.url && current.url) {
    try {
      const before = new URL(current.url);
      const after = new URL(merged.url);
      if (
        after.password === '' &&
        before.password !== '' &&
        after.username === before.username &&
        after.host === before.host
      ) {
        after.password = before.password;
        merged.url = after.toString();
      }
    } catch {
      // An unparsable URL is validated (and refused) right after.
    }
  }
  return merged;
}

/**
 * Sources: their records, a live connector per source (pooled, reused across requests) and the
 * cached schema that every identifier is checked against.
 */
export class SourcesService {
  private readonly connectors = new Map<string, Connector>();
  private builtin: SourceRecord | undefined;
  /** Last refresh per source: a miss refreshes at most this often, so unknown names cannot flood a source. */
  private readonly lastMissRefresh = new Map<string, number>();
  /** Parsed stored schemas with the fetch time they were stored under (see schema()). */
  private readonly parsedSchemas = new Map<
    string,
    { fetchedAt: string; schema: DatabaseSchema; checkedAt: number }
  >();

  /** Names of what still uses a source (syncs...), so it is not removed from under them. */
  private usersOf: (id: string) => Promise<string[]> = async () => [];

  constructor(
    private readonly store: SourceStore,
    private readonly dataDir: string,
  ) {}

  /** Set by the composition root: the layers that use sources are built after this service. */
  setUsageCheck(usersOf: (id: string) => Promise<string[]>): void {
    this.usersOf = usersOf;
  }

  private builtinRecord(): SourceRecord {
    this.builtin ??= {
      id: BUILTIN_SOURCE_ID,
      name: 'Built-in tables',
      kind: 'sqlite',
      config: { file: path.join(this.dataDir, 'builtin.db') },
      schema: null,
      schemaFetchedAt: null,
      createdAt: new Date(0).toISOString(),
      updatedAt: new Date(0).toISOString(),
    };
    return this.builtin;
  }

  private async record(id: string): Promise<SourceRecord> {
    if (id === BUILTIN_SOURCE_ID) return this.builtinRecord();
    const record = await this.store.get(id);
    if (!record) throw notFound(`source "${id}"`, { source: id });
    return record;
  }

  /**
   * A source's whole config, secrets included, for the layers that open their own connections to
   * it (change capture); the built-in source's too, which has no row in the store.
   */
  async configOf(id: string): Promise<SourceRecord['config']> {
    return (await this.record(id)).config;
  }

  view(record: SourceRecord): SourceView {
    const isBuiltin = record.id === BUILTIN_SOURCE_ID;
    return {
      id: record.id,
      name: record.name,
      kind: isBuiltin ? 'builtin' : record.kind,
      config: isBuiltin ? {} : redactConfig(record.config),
      tablesFetchedAt: record.schemaFetchedAt,
      tableCount: record.schema ? record.schema.tables.length : null,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }

  async list(): Promise<SourceView[]> {
    const records = await this.store.list();
    return [this.builtinRecord(), ...records].map((r) => this.view(r));
  }

  async get(id: string): Promise<SourceView> {
    return this.view(await this.record(id));
  }

  async create(body: unknown): Promise<SourceView> {
    const input = validateSourceInput(body) as { name: string; kind: SourceKind };
    const config = validateSourceConfig(input.kind, (body as { config?: unknown }).config);
    if (input.name.toLowerCase() === BUILTIN_SOURCE_ID)
      throw badRequest('invalid_source', '"builtin" is reserved');
    return this.view(await this.store.create({ name: input.name, kind: input.kind, config }));
  }

  async update(id: string, body: unknown): Promise<SourceView> {
    if (id === BUILTIN_SOURCE_ID)
      throw badRequest('read_only_source', 'the built-in source cannot be changed');
    const current = await this.record(id);
    const patch = validateSourceInput(body, true);
    if (patch.kind && patch.kind !== current.kind) throw badRequest('invalid_source', 'kind cannot change');
    const rawConfig = (body as { config?: Record<string, unknown> }).config;
    const update: { name?: string; config?: SourceConfig } = {};
    if (patch.name) update.name = patch.name;
    if (rawConfig) {
      update.config = validateSourceConfig(
        current.kind,
        keepStoredPassword(current.config, rawConfig as SourceConfig),
      );
    }
    const record = await this.store.update(id, update);
    await this.dropConnector(id);
    return this.view(record);
  }

  async remove(id: string): Promise<void> {
    if (id === BUILTIN_SOURCE_ID)
      throw badRequest('read_only_source', 'the built-in source cannot be removed');
    await this.record(id);
    // A sync's slots and triggers live on the source: with the source's settings gone, Braid could
    // never remove them again (and a forgotten slot fills the disk).
    const users = await this.usersOf(id);
    if (users.length > 0) {
      throw new BraidError(
        409,
        'source_in_use',
        `source "${id}" is used by ${users.join(', ')}: delete those first`,
        {
          source: id,
          usedBy: users,
        },
      );
    }
    await this.dropConnector(id);
    await this.store.delete(id);
  }

  async test(id: string): Promise<TestResult> {
    return (await this.connector(id)).test();
  }

  /** Tests a configuration before it is saved. */
  async testConfig(body: unknown): Promise<TestResult> {
    const input = validateSourceInput(body, true);
    if (!input.kind) throw badRequest('invalid_source', 'kind is required', { field: 'kind' });
    const connector = createConnector(
      input.kind,
      validateSourceConfig(input.kind, (body as { config?: unknown }).config),
    );
    try {
      return await connector.test();
    } finally {
      await connector.close();
    }
  }

  async connector(id: string): Promise<Connector> {
    let connector = this.connectors.get(id);
    if (!connector) {
      const record = await this.record(id);
      connector =
        id === BUILTIN_SOURCE_ID
          ? createSqliteConnector({ ...record.config, create: true })
          : createConnector(record.kind, record.config);
      this.connectors.set(id, connector);
    }
    return connector;
  }

  private async dropConnector(id: string): Promise<void> {
    const connector = this.connectors.get(id);
    this.connectors.delete(id);
    this.parsedSchemas.delete(id);
    await connector?.close();
  }

  /**
   * The cached schema; fetched on first use. The stored schema of a big source is megabytes of
   * JSON (2.8 MB for 2,000 tables): parsing it on every request cost 23 ms per row request. It is
   * parsed once and reused while its fetch time in the store is unchanged, a one-column read, so a
   * refresh by another Braid process sharing the store is still seen on the next request.
   */
  async schema(id: string): Promise<DatabaseSchema> {
    if (id !== BUILTIN_SOURCE_ID) {
      const cached = this.parsedSchemas.get(id);
      // Another process's refresh shows within SCHEMA_RECHECK_MS; this process's own at once.
      if (cached && Date.now() - cached.checkedAt < SCHEMA_RECHECK_MS) return cached.schema;
      const fetchedAt = cached ? await this.store.schemaFetchedAt(id) : undefined;
      if (cached && fetchedAt === cached.fetchedAt) {
        cached.checkedAt = Date.now();
        return cached.schema;
      }
    }
    const record = await this.record(id);
    if (!record.schema) return this.refresh(id);
    if (id !== BUILTIN_SOURCE_ID && record.schemaFetchedAt) {
      this.parsedSchemas.set(id, {
        fetchedAt: record.schemaFetchedAt,
        schema: record.schema,
        checkedAt: Date.now(),
      });
    }
    return record.schema;
  }

  async refresh(id: string): Promise<DatabaseSchema> {
    const connector = await this.connector(id);
    const schema = await connector.introspect();
    if (id === BUILTIN_SOURCE_ID) {
      const builtin = this.builtinRecord();
      builtin.schema = schema;
      builtin.schemaFetchedAt = schema.introspectedAt;
    } else {
      await this.store.saveSchema(id, schema);
      this.parsedSchemas.delete(id);
    }
    return schema;
  }

  /**
   * Finds a table by the name a person uses (`name`, or `schema.name` outside the default schema).
   * A miss refreshes the cache once, so a table created a moment ago is found.
   */
  /** A source by id or by name (people type `crm`, stored definitions keep what they wrote). */
  async resolveId(idOrName: string): Promise<string> {
    if (idOrName === BUILTIN_SOURCE_ID) return idOrName;
    const all = await this.list();
    const match = all.find((s) => s.id === idOrName) ?? all.find((s) => s.name === idOrName);
    if (!match)
      throw new BraidError(404, 'unknown_source', `no source with id or name "${idOrName}"`, {
        source: idOrName,
      });
    return match.id;
  }

  async resolveTable(id: string, name: string): Promise<{ connector: Connector; table: TableSchema }> {
    const connector = await this.connector(id);
    const find = (schema: DatabaseSchema) =>
      schema.tables.find((t) => qualifiedName(t, connector.defaultSchema) === name) ??
      schema.tables.find((t) => t.name === name && schema.tables.filter((u) => u.name === name).length === 1);
    let table = find(await this.schema(id));
    const now = Date.now();
    if (!table && now - (this.lastMissRefresh.get(id) ?? 0) > 5_000) {
      this.lastMissRefresh.set(id, now);
      table = find(await this.refresh(id));
    }
    if (!table) {
      throw new BraidError(404, 'unknown_table', `table "${name}" was not found in source "${id}"`, {
        table: name,
        source: id,
      });
    }
    return { connector, table };
  }

  async closeAll(): Promise<void> {
    const all = [...this.connectors.values()];
    this.connectors.clear();
    await Promise.allSettled(all.map((c) => c.close()));
  }
}
