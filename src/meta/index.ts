/** The metadata store's public surface, so callers import from one place. */
export { openMetaStore, migrateMetaStore, type MetaStore, type MetaStoreOptions } from './meta-store.js';
export { META_SQLITE_FILE, type MetaEngine } from './meta-connection.js';
export type { MetaDatabase, UserRole } from './meta-schema.js';
export { USER_ROLES } from './meta-schema.js';
export { createSecretBox, type SecretBox } from './secret-box.js';
export { KEY_FILE_NAME, parseSecretKey, resolveSecretKey, type SecretKeySource } from './secret-key.js';
export { splitSecrets, joinSecrets, type SourceSecrets } from './source-secrets.js';
export {
  BUILTIN_SOURCE_ID,
  SourcesRepository,
  type NewSource,
  type PublicSource,
  type SourceChanges,
  type SourceRecord,
} from './sources-repository.js';
export { UsersRepository, normalizeEmail, type User } from './users-repository.js';
export { SessionsRepository, type StoredSession } from './sessions-repository.js';
export { ApiKeysRepository, type ApiKeyInfo } from './api-keys-repository.js';
export { SettingsRepository } from './settings-repository.js';
export { SyncsRepository, type SyncRecord } from './syncs-repository.js';
export {
  EntityLinksRepository,
  memberKeyText,
  type EntityLink,
  type MemberKey,
} from './entity-links-repository.js';
export { SyncPositionsRepository } from './sync-positions-repository.js';
export {
  SyncConflictsRepository,
  type ConflictSide,
  type SyncConflict,
} from './sync-conflicts-repository.js';
export { SyncDeadLettersRepository, type DeadLetter } from './sync-dead-letters-repository.js';
