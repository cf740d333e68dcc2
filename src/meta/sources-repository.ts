import type { Kysely, Selectable } from 'kysely';
import { SOURCE_KINDS, type SourceConfig, type SourceKind } from '../model/source.js';
import { BraidError, badRequest, notFound } from '../model/errors.js';
import type { DatabaseSchema } from '../model/schema.js';
import { isUniqueViolation, isoNow } from './db-errors.js';
import type { MetaDatabase, SourcesTable } from './meta-schema.js';
import type { SecretBox } from './secret-box.js';
import { hasSecrets, joinSecrets, splitSecrets, type SourceSecrets } from './source-secrets.js';
import { newId } from './tokens.js';

/** The id of Braid's own built-in database; no stored source may take it. */
export const BUILTIN_SOURCE_ID = 'builtin';

const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const MAX_NAME_LENGTH = 200;

/**
 * A source with its full config, secrets decrypted (in memory only): for opening connectors, never
 * for answers. `schema` is the cached introspection, null until fetched.
 */
export interface SourceRecord {
  id: string;
  name: string;
  kind: SourceKind;
  config: SourceConfig;
  schema: DatabaseSchema | null;
  schemaFetchedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A source as it may be shown to people: the config without secrets, and no schema. */
export interface PublicSource extends Omit<SourceRecord, 'config' | 'schema'> {
  config: SourceConfig;
  /** True when a password (or a password inside the URL) is stored, sealed. */
  hasSecrets: boolean;
}

export interface NewSource {
  /** Optional fixed id (demo data, imports); by default a short random one. */
  id?: string;
  name: string;
  kind: SourceKind;
  config: SourceConfig;
}

export interface SourceChanges {
  name?: string;
  kind?: SourceKind;
  /** Replaces the whole config, secrets included: merge with get()'s config to keep a password. */
  config?: SourceConfig;
}

function checkName(name: string): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (trimmed === '' || trimmed.length > MAX_NAME_LENGTH) {
    throw badRequest('invalid_source_name', `a source name must be 1 to ${MAX_NAME_LENGTH} characters`);
  }
  return trimmed;
}

function checkKind(kind: string): SourceKind {
  if (!SOURCE_KINDS.includes(kind as SourceKind)) {
    throw badRequest('invalid_kind', `unknown source kind "${kind}": use ${SOURCE_KINDS.join(', ')}`);
  }
  return kind as SourceKind;
}

function checkId(id: string): string {
  if (id === BUILTIN_SOURCE_ID)
    throw badRequest('reserved_id', `the source id "${BUILTIN_SOURCE_ID}" is reserved`);
  if (!ID_PATTERN.test(id)) {
    throw badRequest('invalid_source_id', 'a source id is 1 to 64 characters of a-z, 0-9, "_" and "-"');
  }
  return id;
}

function nameTaken(name: string): BraidError {
  return new BraidError(409, 'source_name_taken', `a source named "${name}" already exists`, { name });
}

/**
 * The connected databases. Secrets (`password`, the password inside `url`) are sealed with the
 * secret box before they reach the store and opened again by get() and list(); listPublic() and
 * getPublic() never open them.
 *
 * @example
 * const source = await store.sources.create({ name: 'crm', kind: 'postgres', config: { url: 'postgres://u:pw@h/crm' } });
 * (await store.sources.get(source.id))?.config.url; // 'postgres://u:pw@h/crm'
 * (await store.sources.getPublic(source.id)).config.url; // 'postgres://u@h/crm'
 */
export class SourcesRepository {
  constructor(
    private readonly db: Kysely<MetaDatabase>,
    private readonly box: SecretBox,
  ) {}

  async create(input: NewSource): Promise<SourceRecord> {
    const id = input.id === undefined ? newId() : checkId(input.id);
    const name = checkName(input.name);
    const kind = checkKind(input.kind);
    const now = isoNow();
    const row: Selectable<SourcesTable> = {
      id,
      name,
      kind,
      ...this.sealConfig(input.config),
      schema_cache: null,
      schema_fetched_at: null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto('sources').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        const clash = await this.db
          .selectFrom('sources')
          .select('id')
          .where('id', '=', id)
          .executeTakeFirst();
        if (clash)
          throw new BraidError(409, 'source_id_taken', `a source with id "${id}" already exists`, { id });
        throw nameTaken(name);
      }
      throw err;
    }
    return this.toRecord(row);
  }

  /** Every source, secrets decrypted, by name. */
  async list(): Promise<SourceRecord[]> {
    const rows = await this.db.selectFrom('sources').selectAll().orderBy('name').execute();
    return rows.map((row) => this.toRecord(row));
  }

  /** Every source without its secrets (nothing is decrypted), by name. */
  async listPublic(): Promise<PublicSource[]> {
    const rows = await this.db.selectFrom('sources').selectAll().orderBy('name').execute();
    return rows.map((row) => this.toPublic(row));
  }

  /** The source with secrets decrypted, or null when there is none with that id. */
  async get(id: string): Promise<SourceRecord | null> {
    const row = await this.findRow(id);
    return row ? this.toRecord(row) : null;
  }

  /** Like get(), but a missing source is a 404 BraidError. */
  async require(id: string): Promise<SourceRecord> {
    return this.toRecord(await this.getRow(id));
  }

  async getPublic(id: string): Promise<PublicSource> {
    return this.toPublic(await this.getRow(id));
  }

  async update(id: string, changes: SourceChanges): Promise<SourceRecord> {
    const set: Partial<Selectable<SourcesTable>> = { updated_at: isoNow() };
    if (changes.name !== undefined) set.name = checkName(changes.name);
    if (changes.kind !== undefined) set.kind = checkKind(changes.kind);
    if (changes.config !== undefined) Object.assign(set, this.sealConfig(changes.config));
    try {
      const result = await this.db.updateTable('sources').set(set).where('id', '=', id).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw notFound('source', { id });
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(set.name ?? '');
      throw err;
    }
    return this.require(id);
  }

  /** Deletes a source; a missing one is a 404 BraidError. */
  async delete(id: string): Promise<void> {
    const result = await this.db.deleteFrom('sources').where('id', '=', id).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound('source', { id });
  }

  /** Stores the last introspected schema, so pages open without asking the source again. */
  async saveSchema(id: string, schema: DatabaseSchema, fetchedAt: Date = new Date()): Promise<void> {
    const result = await this.db
      .updateTable('sources')
      .set({ schema_cache: JSON.stringify(schema), schema_fetched_at: isoNow(fetchedAt) })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound('source', { id });
  }

  /**
   * When the cached schema was stored (null: never fetched; undefined: no such source), read
   * without the schema itself so callers holding a parsed copy can check it cheaply.
   */
  async schemaFetchedAt(id: string): Promise<string | null | undefined> {
    const row = await this.db
      .selectFrom('sources')
      .select('schema_fetched_at')
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? row.schema_fetched_at : undefined;
  }

  /** The cached schema, or null when it was never fetched. */
  async getSchema(id: string): Promise<{ schema: DatabaseSchema; fetchedAt: string } | null> {
    const row = await this.db
      .selectFrom('sources')
      .select(['schema_cache', 'schema_fetched_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('source', { id });
    if (row.schema_cache === null || row.schema_fetched_at === null) return null;
    return { schema: JSON.parse(row.schema_cache) as DatabaseSchema, fetchedAt: row.schema_fetched_at };
  }

  private sealConfig(config: SourceConfig): Pick<SourcesTable, 'config_public' | 'config_secret'> {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw badRequest('invalid_source_config', 'a source config must be an object');
    }
    const { publicConfig, secrets } = splitSecrets(config);
    return {
      config_public: JSON.stringify(publicConfig),
      config_secret: hasSecrets(secrets) ? this.box.sealJson(secrets) : null,
    };
  }

  private async findRow(id: string): Promise<Selectable<SourcesTable> | undefined> {
    return this.db.selectFrom('sources').selectAll().where('id', '=', id).executeTakeFirst();
  }

  private async getRow(id: string): Promise<Selectable<SourcesTable>> {
    const row = await this.findRow(id);
    if (!row) throw notFound('source', { id });
    return row;
  }

  private toPublic(row: Selectable<SourcesTable>): PublicSource {
    return {
      ...this.base(row),
      config: JSON.parse(row.config_public) as SourceConfig,
      hasSecrets: row.config_secret !== null,
    };
  }

  private toRecord(row: Selectable<SourcesTable>): SourceRecord {
    const secrets = row.config_secret === null ? null : this.box.openJson<SourceSecrets>(row.config_secret);
    return {
      ...this.base(row),
      config: joinSecrets(JSON.parse(row.config_public) as SourceConfig, secrets),
      schema: row.schema_cache === null ? null : (JSON.parse(row.schema_cache) as DatabaseSchema),
    };
  }

  private base(row: Selectable<SourcesTable>): Omit<SourceRecord, 'config' | 'schema'> {
    return {
      id: row.id,
      name: row.name,
      kind: row.kind as SourceKind,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      schemaFetchedAt: row.schema_fetched_at,
    };
  }
}
