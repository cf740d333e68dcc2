import type { Kysely, Selectable } from 'kysely';
import type { ApiKeysTable, MetaDatabase } from './meta-schema.js';

/** An API key as it may be shown: its display prefix, never the key or its hash. */
export interface ApiKeyInfo {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

function toInfo(row: Selectable<ApiKeysTable>): ApiKeyInfo {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

/**
 * API keys for scripts and the CLI, stored as SHA-256 hashes. Generating and checking keys is the
 * auth service's job; this layer stores and finds them.
 *
 * @example
 * const info = await store.apiKeys.insert({ id, userId, name: 'ci', prefix: 'braid_Ab12Cd', keyHash, createdAt });
 * await store.apiKeys.listForUser(userId); // [info]
 */
export class ApiKeysRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async insert(key: Omit<ApiKeyInfo, 'lastUsedAt'> & { keyHash: string }): Promise<ApiKeyInfo> {
    const row: Selectable<ApiKeysTable> = {
      id: key.id,
      user_id: key.userId,
      name: key.name,
      prefix: key.prefix,
      key_hash: key.keyHash,
      created_at: key.createdAt,
      last_used_at: null,
    };
    await this.db.insertInto('api_keys').values(row).execute();
    return toInfo(row);
  }

  async findByHash(keyHash: string): Promise<ApiKeyInfo | null> {
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', keyHash)
      .executeTakeFirst();
    return row ? toInfo(row) : null;
  }

  async listForUser(userId: string): Promise<ApiKeyInfo[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toInfo);
  }

  async touch(id: string, usedAtIso: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: usedAtIso }).where('id', '=', id).execute();
  }

  /** Deletes a key of that user; answers false when the user has no such key. */
  async delete(userId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('api_keys')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
