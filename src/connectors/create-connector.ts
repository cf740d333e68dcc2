import { badRequest } from '../model/errors.js';
import { SOURCE_KINDS } from '../model/source.js';
import type { Connector, SourceConfig, SourceKind } from './connector.js';
import { createPostgresConnector } from './postgres/index.js';
import { createMysqlConnector } from './mysql/index.js';
import { createSqliteConnector } from './sqlite/index.js';

export { SOURCE_KINDS };

/** Opens a connector for a source (lazily: no connection is made until the first query). */
export function createConnector(kind: SourceKind, config: SourceConfig): Connector {
  switch (kind) {
    case 'postgres':
      return createPostgresConnector(config);
    case 'mysql':
      return createMysqlConnector(config);
    case 'sqlite':
      return createSqliteConnector(config);
    default:
      throw badRequest(
        'invalid_kind',
        `unknown source kind "${String(kind)}": use ${SOURCE_KINDS.join(', ')}`,
      );
  }
}
