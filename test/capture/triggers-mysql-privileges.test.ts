import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TriggerCapture, probeTriggerCapture } from '../../src/capture/triggers/index.js';
import type { Connector } from '../../src/connectors/connector.js';
import { createConnector } from '../../src/connectors/create-connector.js';
import { engines } from '../conformance/engines.js';
import { createMysqlDatabase, MYSQL_URL } from '../support/servers.js';
import { collect } from './triggers-fixture.js';

/**
 * A MySQL/MariaDB user without the PROCESS privilege cannot list open transactions
 * (information_schema.innodb_trx): trigger capture then waits a grace period before delivering
 * past an id. And without TRIGGER the probe says so.
 */
describe.runIf(engines.some((e) => e.kind === 'mysql'))(
  'trigger capture with a restricted MySQL user',
  () => {
    const user = `braid_np_${Date.now().toString(36)}`;
    let database: Awaited<ReturnType<typeof createMysqlDatabase>>;
    let root: mysql.Connection;
    let connector: Connector;

    beforeAll(async () => {
      database = await createMysqlDatabase('capture_priv');
      root = await mysql.createConnection({ uri: MYSQL_URL });
      await root.query(`create user '${user}'@'%' identified by 'pw'`);
      await root.query(
        `grant select, insert, update, delete, create, drop on \`${database.database}\`.* to '${user}'@'%'`,
      );
      await root.query(`create table \`${database.database}\`.notes (id int primary key, body text)`);
      const url = new URL(database.url);
      url.username = user;
      url.password = 'pw';
      connector = createConnector('mysql', { url: url.toString() });
    });

    afterAll(async () => {
      await connector?.close();
      await root?.query(`drop user if exists '${user}'@'%'`);
      await root?.end();
      await database?.drop();
    });

    it('probe names the missing TRIGGER privilege, then capture works without PROCESS', async () => {
      const probe = await probeTriggerCapture(connector);
      expect(probe).toMatchObject({ kind: 'triggers', available: false });
      expect(probe.reason).toMatch(/TRIGGER/);

      await root.query(`grant trigger on \`${database.database}\`.* to '${user}'@'%'`);
      const [[server]] = (await root.query(
        'select @@global.log_bin as log_bin, @@global.log_bin_trust_function_creators as trusted',
      )) as unknown as [[{ log_bin: number; trusted: number }]];
      if (Number(server.log_bin) === 1 && Number(server.trusted) !== 1) {
        const refused = await probeTriggerCapture(connector);
        expect(refused).toMatchObject({ available: false });
        expect(refused.reason).toMatch(/binary logging/);
        // SUPER allows CREATE TRIGGER under binary logging; it does not include PROCESS.
        await root.query(`grant super on *.* to '${user}'@'%'`);
      }
      expect(await probeTriggerCapture(connector)).toMatchObject({ available: true });

      const notes = (await connector.introspect()).tables.find((t) => t.name === 'notes')!;
      const capture = new TriggerCapture({
        source: 's',
        name: 'np',
        connector,
        pollIntervalMs: 50,
        graceMs: 300,
      });
      await capture.install([notes]);
      const c = await collect(capture, null);
      try {
        const started = Date.now();
        await root.query(`insert into \`${database.database}\`.notes values (1, 'hello')`);
        const [event] = await c.waitFor(1);
        expect(event).toMatchObject({ op: 'insert', key: { id: 1 }, after: { id: 1, body: 'hello' } });
        // Delivered only once the grace period had passed: the open writers could not be listed.
        expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      } finally {
        await c.run.stop();
        await capture.uninstall();
      }
    });
  },
);
