import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { SourceConfig, TestResult } from '../../src/connectors/connector.js';
import { createMysqlConnector } from '../../src/connectors/mysql/index.js';
import { MYSQL_URL } from '../support/servers.js';
import { MYSQL_AVAILABLE, MysqlRelay } from './mysql-fixture.js';

/**
 * Connector.test() against the real server, one case per failure code. The probe users come from
 * scripts/ensure-services.sh: braid_pw_probe (password braid-probe-pw) and braid_tls_probe
 * (no password, REQUIRE SSL). The server has TLS on with a self-signed certificate.
 */
const server = new URL(MYSQL_URL);
const HOST = server.hostname;
const PORT = Number(server.port || 3306);
const PROBE_PASSWORD = 'braid-probe-pw';

async function check(config: SourceConfig): Promise<TestResult> {
  const connector = createMysqlConnector(config);
  try {
    return await connector.test();
  } finally {
    await connector.close();
  }
}

const base: SourceConfig = { host: HOST, port: PORT, database: 'test', timeoutMs: 5000 };

/** A port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe.skipIf(!MYSQL_AVAILABLE)('MySQL connection test()', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('answers ok with the server version and the latency', async () => {
    const result = await check({ url: MYSQL_URL });
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(result.latencyMs).toBeLessThan(5000);
  });

  it('a user with a password: right password ok, wrong password auth_failed', async () => {
    expect(await check({ ...base, user: 'braid_pw_probe', password: PROBE_PASSWORD })).toMatchObject({
      ok: true,
    });
    const wrong = await check({ ...base, user: 'braid_pw_probe', password: 'not-the-password' });
    expect(wrong).toMatchObject({ ok: false, code: 'auth_failed' });
    if (wrong.ok) return;
    expect(wrong.message).toContain('braid_pw_probe');
    expect(wrong.message).toMatch(/password/);
    expect(wrong.message).not.toContain('not-the-password');
    expect(wrong.message).not.toMatch(/\n\s+at /);
  });

  it('nothing listening on the port -> host_unreachable', async () => {
    const result = await check({ ...base, port: await closedPort() });
    expect(result).toMatchObject({ ok: false, code: 'host_unreachable' });
    if (!result.ok) expect(result.message).toMatch(/127\.0\.0\.1:\d+/);
  });

  it('a host name that does not resolve -> host_unreachable', async () => {
    const result = await check({ ...base, host: 'no-such-host.invalid' });
    expect(result).toMatchObject({ ok: false, code: 'host_unreachable' });
    if (!result.ok) expect(result.message).toContain('no-such-host.invalid');
  });

  it('a database that does not exist -> unknown_database naming it', async () => {
    const result = await check({ url: MYSQL_URL.replace(/\/[^/]*$/, '/braid_no_such_database') });
    expect(result).toMatchObject({ ok: false, code: 'unknown_database' });
    if (!result.ok) expect(result.message).toContain('braid_no_such_database');
  });

  it('a host that accepts the connection and never answers -> timeout within timeoutMs', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const started = Date.now();
    const result = await check({ ...base, port: (silent.address() as net.AddressInfo).port, timeoutMs: 700 });
    expect(result).toMatchObject({ ok: false, code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(10_000);
    if (!result.ok) expect(result.message).toMatch(/0\.7 s/);
  });

  it('a user that must use TLS, connecting without -> tls_required; with ssl: true -> ok', async () => {
    const plain = await check({ ...base, user: 'braid_tls_probe' });
    expect(plain).toMatchObject({ ok: false, code: 'tls_required' });
    if (!plain.ok) expect(plain.message).toMatch(/TLS/);
    expect(await check({ ...base, user: 'braid_tls_probe', ssl: true })).toMatchObject({ ok: true });
  });

  it('a connector with ssl: true runs its queries over TLS', async () => {
    const connector = createMysqlConnector({ ...base, user: 'braid_tls_probe', ssl: true });
    try {
      const { rows } = await connector.rawQuery("show session status like 'Ssl_cipher'");
      expect(String(rows[0]!.Value)).not.toBe('');
    } finally {
      await connector.close();
    }
  });

  it("ssl: 'verify' against the self-signed certificate -> tls_failed", async () => {
    const result = await check({ ...base, ssl: 'verify' });
    expect(result).toMatchObject({ ok: false, code: 'tls_failed' });
    if (!result.ok) expect(result.message).toMatch(/certificate/);
  });

  it('TLS requested from a server that offers none -> tls_failed', async () => {
    // The one test server has TLS on; the relay clears TLS from its greeting, as a server without it.
    const relay = new MysqlRelay({ host: HOST, port: PORT }, true);
    await relay.listen();
    cleanups.push(() => relay.close());
    const viaRelay = { ...base, host: '127.0.0.1', port: relay.port };
    expect(await check(viaRelay)).toMatchObject({ ok: true });
    const result = await check({ ...viaRelay, ssl: true });
    expect(result).toMatchObject({ ok: false, code: 'tls_failed' });
    if (!result.ok) expect(result.message).toMatch(/does not offer it/);
  });

  it('creating a connector does not connect (lazy until the first query)', async () => {
    const relay = new MysqlRelay({ host: HOST, port: PORT });
    await relay.listen();
    cleanups.push(() => relay.close());
    const url = new URL(MYSQL_URL);
    url.hostname = '127.0.0.1';
    url.port = String(relay.port);
    const connector = createMysqlConnector({ url: url.toString() });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(relay.accepted).toBe(0);
      expect(connector.defaultSchema).toBe(server.pathname.slice(1));
      await connector.rawQuery('select 1');
      expect(relay.accepted).toBeGreaterThan(0);
    } finally {
      await connector.close();
    }
  });
});
