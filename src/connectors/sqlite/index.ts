import type { Connector, SourceConfig } from '../connector.js';
import { SqliteConnector } from './sqlite-connector.js';
import { resolveSqliteFile } from './sqlite-database.js';

/** Options of a SQLite connector beyond the common SourceConfig. */
export interface SqliteConnectorConfig extends SourceConfig {
  /** Create the database file (and its folder) when it does not exist. Default: the file must exist. */
  create?: boolean;
  /** Open read-only: writes fail with 403 `read_only`. */
  readonly?: boolean;
}

/** Default wait for another process's lock; better-sqlite3 waits synchronously, so it stays short. */
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * A connector on a SQLite database file (`config.file`, or a `file:`/`sqlite:` URL in `config.url`).
 * Nothing is opened until the first statement. Sources must exist (`test()` answers
 * `file_not_found` otherwise); Braid's own files (built-in tables, the demo) pass `create: true`.
 * `config.timeoutMs` is the busy timeout.
 *
 * @example
 * const connector = createSqliteConnector({ file: path.join(dataDir, 'tables.db'), create: true });
 * await connector.createTable({ name: 'notes', columns: [
 *   { name: 'id', type: 'integer', autoIncrement: true },
 *   { name: 'body', type: 'text', nullable: false },
 * ], primaryKey: ['id'] });
 * const notes = (await connector.introspect()).tables.find((t) => t.name === 'notes')!;
 * const [note] = await connector.insert(notes, [{ body: 'hello' }]); // { id: 1, body: 'hello' }
 * await connector.close();
 */
export function createSqliteConnector(config: SqliteConnectorConfig): Connector {
  return SqliteConnector.open({
    file: resolveSqliteFile(config),
    create: config.create === true,
    readonly: config.readonly === true,
    busyTimeoutMs: config.timeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
  });
}

export { SqliteConnector } from './sqlite-connector.js';
