import net from 'node:net';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Connector, SourceConfig } from '../../src/connectors/connector.js';
import { createMysqlConnector } from '../../src/connectors/mysql/index.js';
import { BraidError } from '../../src/model/errors.js';
import type { TableSchema } from '../../src/model/schema.js';
import { createMysqlDatabase, mysqlAvailable, mysqlExec, MYSQL_URL } from '../support/servers.js';

/** False when MariaDB/MySQL is unreachable outside CI; under CI=true the probe throws instead. */
export const MYSQL_AVAILABLE = await mysqlAvailable();

/** The test server's flavor: a few native types and messages differ between MariaDB and MySQL. */
export const IS_MARIADB = MYSQL_AVAILABLE ? await detectMariadb() : true;

async function detectMariadb(): Promise<boolean> {
  const conn = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    const [rows] = await conn.query('select version() as v');
    return /mariadb/i.test(String((rows as { v: string }[])[0]?.v));
  } finally {
    await conn.end();
  }
}

/** `int(11)` -> `int`: MySQL 8 no longer shows integer display widths (except tinyint(1)). */
export function withoutDisplayWidth(nativeType: string): string {
  return nativeType.replace(/^(tinyint|smallint|mediumint|int|bigint|year)\((?!1\))\d+\)/, '$1');
}

/**
 * One database per test file, created with `ddl` and dropped afterwards, and a connector on it.
 */
export interface MysqlFixture {
  readonly database: string;
  readonly url: string;
  readonly connector: Connector;
  /** Introspects again and answers the table of that name. */
  table(name: string): Promise<TableSchema>;
  exec(statements: string): Promise<void>;
  /** Another connector on the same database (closed by the fixture). */
  open(config?: Partial<SourceConfig>): Connector;
}

export function useMysqlDatabase(prefix: string, ddl = ''): MysqlFixture {
  let created: Awaited<ReturnType<typeof createMysqlDatabase>> | undefined;
  let connector: Connector | undefined;
  const extra: Connector[] = [];

  const ready = (): NonNullable<typeof created> => {
    if (!created) throw new Error('fixture not ready (did beforeAll fail?)');
    return created;
  };
  const fixture: MysqlFixture = {
    get database() {
      return ready().database;
    },
    get url() {
      return ready().url;
    },
    get connector() {
      if (!connector) throw new Error('fixture not ready (did beforeAll fail?)');
      return connector;
    },
    async table(name) {
      const { tables } = await fixture.connector.introspect();
      const found = tables.find((t) => t.name === name);
      if (!found) throw new Error(`table ${name} not found in ${fixture.database}`);
      return found;
    },
    exec: (statements) => mysqlExec(ready().url, statements),
    open(config = {}) {
      const c = createMysqlConnector({ url: ready().url, ...config });
      extra.push(c);
      return c;
    },
  };

  beforeAll(async () => {
    if (!MYSQL_AVAILABLE) return;
    created = await createMysqlDatabase(prefix);
    if (ddl) await mysqlExec(created.url, ddl);
    connector = createMysqlConnector({ url: created.url });
  });

  afterAll(async () => {
    await Promise.all([connector?.close(), ...extra.map((c) => c.close())]);
    await created?.drop();
  });

  return fixture;
}

/** Asserts that the call fails with a BraidError of this status and code, and answers it. */
export async function expectFailure(
  call: () => Promise<unknown>,
  status: number,
  code: string,
  mentions: string[] = [],
): Promise<BraidError> {
  let caught: unknown;
  try {
    await call();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected the call to fail').toBeInstanceOf(BraidError);
  const err = caught as BraidError;
  expect({ status: err.status, code: err.code }, err.message).toEqual({ status, code });
  for (const m of mentions) expect(err.message).toContain(m);
  return err;
}

/**
 * A TCP relay in front of the real server, for failures the one test server cannot produce itself:
 * `stripTls` clears the TLS capability in the server greeting (a server without TLS), `freeze()`
 * stops relaying (a host that stops answering), `close()`/`listen()` take the "server" away and
 * bring it back on the same port.
 */
export class MysqlRelay {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private frozen = false;
  port = 0;
  /** Connections accepted so far. */
  accepted = 0;

  constructor(
    private readonly upstream: { host: string; port: number },
    private readonly stripTls = false,
  ) {}

  async listen(): Promise<void> {
    const server = net.createServer((client) => this.relay(client));
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  freeze(on = true): void {
    this.frozen = on;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private relay(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect(this.upstream.port, this.upstream.host);
    this.sockets.add(client).add(upstream);
    let greeting = true;
    upstream.on('data', (data: Buffer) => {
      if (this.frozen) return;
      client.write(greeting && this.stripTls ? withoutTlsCapability(data) : data);
      greeting = false;
    });
    client.on('data', (data: Buffer) => {
      if (!this.frozen) upstream.write(data);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }
}

/** Clears CLIENT_SSL (0x0800) in a protocol-10 greeting: 4-byte header, version, NUL-terminated
 * server version, thread id (4), auth data (8), filler (1), then the low capability flags. */
function withoutTlsCapability(packet: Buffer): Buffer {
  const copy = Buffer.from(packet);
  const versionEnd = copy.indexOf(0, 5);
  const flagsAt = versionEnd + 1 + 4 + 8 + 1;
  if (copy[4] !== 10 || versionEnd < 0 || flagsAt + 2 > copy.length) return copy;
  copy.writeUInt16LE(copy.readUInt16LE(flagsAt) & ~0x0800, flagsAt);
  return copy;
}
