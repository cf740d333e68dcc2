import mysql from 'mysql2/promise';
import { MysqlBinlogCapture } from '../../src/capture/mysql-binlog/index.js';
import type { Connector } from '../../src/connectors/connector.js';
import { createMysqlConnector } from '../../src/connectors/mysql/index.js';
import type { ChangeEvent } from '../../src/model/change-event.js';
import type { TableSchema } from '../../src/model/schema.js';
import { createMysqlDatabase } from '../support/servers.js';

export { recorder, waitFor, startFreezableProxy } from './postgres-logical-helpers.js';

/**
 * One test's world: its own database with `statements` run in it, a connector, the introspected
 * tables, a capture installed for `captured` and a plain mysql2 connection (the "other tool").
 */
export async function binlogFixture(statements: string[], captured: string[]) {
  const db = await createMysqlDatabase('binlog');
  const other = await mysql.createConnection({ uri: db.url, timezone: 'Z' });
  // The other tool runs in UTC too, so the TIMESTAMP literals in the tests are UTC instants.
  await other.query(`set time_zone = '+00:00'`);
  for (const s of statements) await other.query(s);
  const connector: Connector = createMysqlConnector({ url: db.url });
  const schema = await connector.introspect();
  const table = (name: string): TableSchema => schema.tables.find((t) => t.name === name)!;
  const capture = new MysqlBinlogCapture({
    source: 'src1',
    name: 'test',
    config: { url: db.url },
    heartbeatMs: 1_000,
  });
  await capture.install(captured.map(table));
  return {
    db,
    other,
    connector,
    table,
    capture,
    async close() {
      await capture.uninstall().catch(() => {});
      await other.end().catch(() => {});
      await connector.close().catch(() => {});
      await db.drop();
    },
  };
}

/** The rows of a table as select() answers them, by id. */
export async function selectById(connector: Connector, table: TableSchema): Promise<Map<string, unknown>> {
  const page = await connector.select(table, { limit: 1000 });
  return new Map(page.rows.map((r) => [String(r.id), r]));
}

export const ids = (events: ChangeEvent[]): string[] => events.map((e) => `${e.op}:${String(e.key.id)}`);
