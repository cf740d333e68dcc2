import type { Connector, SourceConfig } from '../connector.js';
import { MysqlConnector } from './mysql-connector.js';

export { MysqlConnector } from './mysql-connector.js';

/**
 * A connector for a MySQL or MariaDB database. Lazy: nothing connects before the first query.
 *
 * @example
 * const mysql = createMysqlConnector({ url: 'mysql://app:secret@db.internal:3306/shop', ssl: true });
 * const check = await mysql.test(); // { ok: true, serverVersion: '10.11.6-MariaDB', latencyMs: 0.4 }
 * const { tables } = await mysql.introspect();
 * const orders = tables.find((t) => t.name === 'orders')!;
 * const page = await mysql.select(orders, { filter: { field: 'status', op: 'eq', value: 'open' }, limit: 50 });
 * await mysql.close();
 */
export function createMysqlConnector(config: SourceConfig): Connector {
  return MysqlConnector.create(config);
}
