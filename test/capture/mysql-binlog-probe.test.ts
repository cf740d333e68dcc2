import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MysqlBinlogCapture, probeMysqlBinlog } from '../../src/capture/mysql-binlog/index.js';
import type { Connector } from '../../src/connectors/connector.js';
import { createMysqlConnector } from '../../src/connectors/mysql/index.js';
import { createSqliteConnector } from '../../src/connectors/sqlite/index.js';
import { createMysqlDatabase, MYSQL_URL, mysqlAvailable } from '../support/servers.js';
import { recorder, waitFor } from './mysql-binlog-helpers.js';

const available = await mysqlAvailable();

describe.skipIf(!available)('MySQL/MariaDB binlog capture: requirements', () => {
  const user = `braid_bl_${Date.now().toString(36)}`;
  let db: Awaited<ReturnType<typeof createMysqlDatabase>>;
  let root: mysql.Connection;
  let restricted: Connector;
  let restrictedUrl: string;

  beforeAll(async () => {
    db = await createMysqlDatabase('binlog_priv');
    root = await mysql.createConnection({ uri: MYSQL_URL });
    await root.query(`create user '${user}'@'%' identified by 'pw'`);
    await root.query(`grant select, insert, update, delete, create on \`${db.database}\`.* to '${user}'@'%'`);
    await root.query(`create table \`${db.database}\`.notes (id int primary key, body text)`);
    const url = new URL(db.url);
    url.username = user;
    url.password = 'pw';
    restrictedUrl = url.toString();
    restricted = createMysqlConnector({ url: restrictedUrl });
  });

  afterAll(async () => {
    await restricted?.close();
    await root?.query(`drop user if exists '${user}'@'%'`);
    await root?.end();
    await db?.drop();
  });

  it('is available to root on this server (log_bin, ROW, FULL)', async () => {
    const connector = createMysqlConnector({ url: db.url });
    try {
      expect(await probeMysqlBinlog(connector)).toMatchObject({ kind: 'binlog', available: true });
    } finally {
      await connector.close();
    }
  });

  it('is not available on other engines', async () => {
    const sqlite = createSqliteConnector({ file: ':memory:' });
    try {
      expect(await probeMysqlBinlog(sqlite)).toMatchObject({ available: false, reason: /MySQL\/MariaDB/ });
    } finally {
      await sqlite.close();
    }
  });

  it('names the missing replication privileges, refuses install, then works once granted', async () => {
    const probe = await probeMysqlBinlog(restricted);
    expect(probe).toMatchObject({ kind: 'binlog', available: false });
    expect(probe.reason).toMatch(/lacks REPLICATION SLAVE and REPLICATION CLIENT: GRANT REPLICATION SLAVE/);
    const notes = (await restricted.introspect()).tables.find((t) => t.name === 'notes')!;
    const capture = new MysqlBinlogCapture({ source: 's', name: 'priv', config: { url: restrictedUrl } });
    await expect(capture.install([notes])).rejects.toMatchObject({
      code: 'capture_unavailable',
      message: expect.stringMatching(/REPLICATION SLAVE/),
    });

    await root.query(`grant replication slave, replication client on *.* to '${user}'@'%'`);
    expect(await probeMysqlBinlog(restricted)).toMatchObject({ available: true });
    await capture.install([notes]);
    const rec = recorder();
    const run = await capture.start(null, rec.handler);
    try {
      await root.query(`insert into \`${db.database}\`.notes values (1, 'hello')`);
      const event = await waitFor('the insert', () => rec.events()[0]);
      expect(event).toMatchObject({ op: 'insert', table: 'notes', after: { id: 1, body: 'hello' } });
    } finally {
      await run.stop();
    }
  });
});
