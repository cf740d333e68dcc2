import type { Kysely } from 'kysely';
import type { MetaDatabase } from './meta-schema.js';

/**
 * Small key/value settings of the installation (for example the secret-key check value).
 * Values are text; callers store JSON when they need structure.
 *
 * @example
 * await store.settings.set('demo.created', 'true');
 * await store.settings.get('demo.created'); // 'true'
 */
export class SettingsRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async get(key: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value ?? null;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }

  /** Stores the value only when the key is absent; answers whether it was stored. */
  async setIfAbsent(key: string, value: string): Promise<boolean> {
    const result = await this.db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async delete(key: string): Promise<boolean> {
    const result = await this.db.deleteFrom('settings').where('key', '=', key).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
