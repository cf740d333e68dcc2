import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MYSQL_URL,
  POSTGRES_URL,
  createMysqlDatabase,
  createPostgresSchema,
  mysqlAvailable,
  mysqlExec,
  postgresAvailable,
  postgresExec,
} from '../support/servers.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { startHarness, type Harness } from './harness.js';

/**
 * A source whose server goes away between or during requests: the API answers a clean 502 with
 * a human message, and the connector's pool recovers once the server is back.
 */
const cases = [
  {
    kind: 'postgres' as const,
    available: postgresAvailable,
    async setup() {
      const created = await createPostgresSchema('outage');
      await postgresExec(
        created.schema,
        "create table items (id integer primary key, label text); insert into items select g, 'item ' || g from generate_series(1, 50) g",
      );
      const target = new URL(POSTGRES_URL);
      return {
        drop: created.drop,
        target,
        table: `${created.schema}.items`,
        config: (port: number) => ({
          host: '127.0.0.1',
          port,
          database: target.pathname.slice(1),
          user: target.username || 'postgres',
          schemas: [created.schema],
          timeoutMs: 3000,
        }),
      };
    },
  },
  {
    kind: 'mysql' as const,
    available: mysqlAvailable,
    async setup() {
      const created = await createMysqlDatabase('outage');
      await mysqlExec(
        created.url,
        "create table items (id int primary key, label text); insert into items select seq, concat('item ', seq) from seq_1_to_50",
      );
      const target = new URL(MYSQL_URL);
      return {
        drop: created.drop,
        target,
        table: 'items',
        config: (port: number) => ({
          host: '127.0.0.1',
          port,
          database: created.database,
          user: target.username || 'root',
          timeoutMs: 3000,
        }),
      };
    },
  },
];

describe.each(cases)('$kind source going away', (spec) => {
  let h: Harness;
  let proxy: TcpProxy;
  let sourceId: string;
  let teardown: () => Promise<void> = async () => {};
  let table = '';

  beforeAll(async () => {
    if (!(await spec.available())) return;
    const setup = await spec.setup();
    table = setup.table;
    proxy = await startTcpProxy(
      setup.target.hostname,
      Number(setup.target.port || (spec.kind === 'postgres' ? 5432 : 3306)),
    );
    teardown = async () => {
      await proxy.close();
      await setup.drop();
    };
    h = await startHarness();
    const res = await h.admin({
      method: 'POST',
      url: '/api/sources',
      payload: { name: 'flaky', kind: spec.kind, config: setup.config(proxy.port) },
    });
    expect(res.statusCode, res.body).toBe(201);
    sourceId = res.json().id;
  });
  afterAll(async () => {
    await h?.close();
    await teardown();
  });

  it('answers 502 while the server is gone and recovers when it is back', async () => {
    if (!h) return;
    const url = `/api/sources/${sourceId}/tables/${encodeURIComponent(table)}/rows`;
    const ok = await h.admin({ method: 'GET', url, query: { limit: '5' } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().rows).toHaveLength(5);

    proxy.cut();
    const gone = await h.admin({ method: 'GET', url, query: { limit: '5' } });
    expect(gone.statusCode, gone.body).toBe(502);
    expect(gone.json().error.code).toBe('source_unavailable');
    expect(gone.json().error.message).not.toMatch(/\n\s+at /);

    proxy.resume();
    let back = await h.admin({ method: 'GET', url, query: { limit: '5' } });
    // One retry at most: a pooled connection cut while idle may fail once before the pool replaces it.
    if (back.statusCode !== 200) back = await h.admin({ method: 'GET', url, query: { limit: '5' } });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json().rows).toHaveLength(5);
  });
});
