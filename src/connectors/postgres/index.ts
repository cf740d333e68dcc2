import type { Connector, SourceConfig } from '../connector.js';
import { resolvePostgresConfig } from './postgres-config.js';
import { PostgresConnector, createPostgresShared } from './postgres-connector.js';

/**
 * Opens a PostgreSQL source (lazily: the pool connects on the first query).
 *
 * Config: `url` (`postgres://user:password@host:5432/db?sslmode=require`) or host/port/database/
 * user/password; `ssl` true (encrypt, accept any certificate), `'verify'` (encrypt and verify the
 * certificate) or false; `schemas` to introspect (default: every non-system schema); `timeoutMs`
 * for connecting and for each statement (default 10 000).
 *
 * Sessions run with TimeZone=UTC and ISO date styles; values follow the wire format of
 * model/values.ts (int8/numeric as strings, timestamptz as UTC `...Z` with microseconds, bytea as
 * base64, arrays as JSON arrays).
 *
 * @example
 * const pg = createPostgresConnector({ url: 'postgres://postgres@127.0.0.1:5432/test', schemas: ['public'] });
 * const check = await pg.test(); // { ok: true, serverVersion: 'PostgreSQL 15.20 ...', latencyMs: 0.4 }
 * const { tables } = await pg.introspect();
 * const orders = tables.find((t) => t.name === 'orders')!;
 * const page = await pg.select(orders, { filter: { field: 'total', op: 'gt', value: '100.00' }, limit: 50 });
 * for await (const batch of pg.stream(orders, { batchSize: 5000 })) console.log(batch.length);
 * await pg.close();
 */
export function createPostgresConnector(config: SourceConfig): Connector {
  const resolved = resolvePostgresConfig(config);
  return new PostgresConnector(createPostgresShared(resolved, config.schemas));
}

export { PostgresConnector } from './postgres-connector.js';
