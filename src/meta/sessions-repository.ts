import type { Kysely } from 'kysely';
import type { MetaDatabase } from './meta-schema.js';

export interface StoredSession {
  tokenHash: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
}

/**
 * Login sessions, keyed by the SHA-256 of their token (the auth service hashes; this layer never
 * sees a token).
 *
 * @example
 * await store.sessions.insert({ tokenHash, userId, createdAt, expiresAt });
 * await store.sessions.find(tokenHash);
 */
export class SessionsRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async insert(session: StoredSession): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        token_hash: session.tokenHash,
        user_id: session.userId,
        created_at: session.createdAt,
        expires_at: session.expiresAt,
      })
      .execute();
  }

  async find(tokenHash: string): Promise<StoredSession | null> {
    const row = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row
      ? {
          tokenHash: row.token_hash,
          userId: row.user_id,
          createdAt: row.created_at,
          expiresAt: row.expires_at,
        }
      : null;
  }

  async delete(tokenHash: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('sessions')
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteForUser(userId: string): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Removes sessions that expired at or before `nowIso`; answers how many. */
  async deleteExpired(nowIso: string): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('expires_at', '<=', nowIso).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
