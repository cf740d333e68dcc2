import type { CombinedMaterializationsMetaTables } from './combined-materializations-repository.js';
import type { CombinedMetaTables } from './combined-tables-repository.js';
import type { JobsMetaTables } from './jobs-meta-schema.js';
import type { RelationsMetaTables } from './relations-repository.js';
import type { SyncMetaTables } from './sync-meta-schema.js';

/**
 * Row types of Braid's own metadata store, one interface per table, as Kysely sees them.
 *
 * Portability rules (the same migrations run on SQLite and PostgreSQL):
 * - timestamps are ISO 8601 UTC text from `Date.prototype.toISOString()` (fixed width, so they sort
 *   and compare correctly as text on both engines);
 * - booleans are integers 0/1 (better-sqlite3 cannot bind JS booleans);
 * - JSON is text, parsed and serialized by the repositories.
 *
 * @example
 * const row = await store.db.selectFrom('users').selectAll().where('email', '=', 'ada@example.com').executeTakeFirst();
 */
export interface MetaDatabase
  extends
    SyncMetaTables,
    JobsMetaTables,
    RelationsMetaTables,
    CombinedMetaTables,
    CombinedMaterializationsMetaTables {
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  sources: SourcesTable;
  settings: SettingsTable;
}

/** Who may do what: admins manage users and everything; builders build; app users use published apps. */
export type UserRole = 'admin' | 'builder' | 'app_user';

export const USER_ROLES: readonly UserRole[] = ['admin', 'builder', 'app_user'];

export interface UsersTable {
  id: string;
  /** Stored trimmed and lower-cased, so the unique index makes emails unique case-insensitively. */
  email: string;
  /** `scrypt$N$r$p$salt$hash` (see password-hash.ts). */
  password_hash: string;
  role: UserRole;
  created_at: string;
  /** 0 or 1. */
  disabled: number;
}

export interface SessionsTable {
  /** SHA-256 (hex) of the session token; the token itself is never stored. */
  token_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  /** The first characters of the key, shown in lists so people can tell keys apart. */
  prefix: string;
  /** SHA-256 (hex) of the whole key. */
  key_hash: string;
  created_at: string;
  last_used_at: string | null;
}

export interface SourcesTable {
  id: string;
  name: string;
  kind: string;
  /** JSON of the source config with every secret removed. */
  config_public: string;
  /** Secret-box sealed JSON of the secret parts, or null when the config has none. */
  config_secret: string | null;
  /** JSON of the last introspected DatabaseSchema. */
  schema_cache: string | null;
  schema_fetched_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface SettingsTable {
  key: string;
  value: string;
}
