import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceConfig } from '../../src/connectors/connector.js';
import { createPostgresConnector } from '../../src/connectors/postgres/index.js';
import { postgresAvailable, POSTGRES_URL } from '../support/servers.js';

const available = await postgresAvailable();
const server = new URL(POSTGRES_URL);
const HOST = server.hostname;
const PORT = Number(server.port || 5432);
const DATABASE = server.pathname.slice(1) || 'postgres';
/** Roles made by scripts/ensure-services.sh for exactly these cases. */
const PROBE_PASSWORD = 'braid-probe-pw';

async function probe(config: SourceConfig) {
  const connector = createPostgresConnector(config);
  try {
    return await connector.test();
  } finally {
    await connector.close();
  }
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe.skipIf(!available)('PostgreSQL connection test()', () => {
  /** Accepts TCP connections and never answers: an unresponsive host, not a fake database. */
  const silent = net.createServer(() => {});
  const sockets = new Set<net.Socket>();
  silent.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  let silentPort = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('answers ok with the server version and a round-trip latency', async () => {
    const result = await probe({ url: POSTGRES_URL });
    expect(result).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^PostgreSQL \d+/) });
    expect(result.ok && result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a refused connection as host_unreachable', async () => {
    const port = await closedPort();
    const result = await probe({ host: '127.0.0.1', port, user: 'postgres', database: DATABASE });
    expect(result).toMatchObject({
      ok: false,
      code: 'host_unreachable',
      message: expect.stringContaining(`127.0.0.1:${port}`),
    });
    expect(result.ok ? '' : result.message).toMatch(/refused/);
  });

  it('reports an unknown host name as host_unreachable', async () => {
    const result = await probe({ host: 'braid-no-such-host.invalid', user: 'postgres', database: DATABASE });
    expect(result).toMatchObject({
      ok: false,
      code: 'host_unreachable',
      message: expect.stringContaining('braid-no-such-host.invalid'),
    });
  });

  it('reports a wrong password as auth_failed, without echoing it', async () => {
    const result = await probe({
      url: `postgres://braid_pw_probe:wrong-secret-123@${HOST}:${PORT}/${DATABASE}`,
    });
    expect(result).toMatchObject({
      ok: false,
      code: 'auth_failed',
      message: expect.stringContaining('braid_pw_probe'),
    });
    expect(JSON.stringify(result)).not.toContain('wrong-secret-123');
  });

  it('accepts the right password (given apart from the URL)', async () => {
    const result = await probe({
      url: `postgres://braid_pw_probe@${HOST}:${PORT}/${DATABASE}`,
      password: PROBE_PASSWORD,
    });
    expect(result.ok).toBe(true);
  });

  it('reports a missing password as auth_failed, not by borrowing PGPASSWORD', async () => {
    const saved = process.env.PGPASSWORD;
    process.env.PGPASSWORD = PROBE_PASSWORD;
    try {
      const result = await probe({ host: HOST, port: PORT, user: 'braid_pw_probe', database: DATABASE });
      expect(result).toMatchObject({ ok: false, code: 'auth_failed' });
    } finally {
      if (saved === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = saved;
    }
  });

  it('reports an unknown database as unknown_database', async () => {
    const result = await probe({ host: HOST, port: PORT, user: 'postgres', database: 'braid_no_such_db' });
    expect(result).toMatchObject({
      ok: false,
      code: 'unknown_database',
      message: expect.stringContaining('"braid_no_such_db" does not exist'),
    });
  });

  it('reports a host that never answers as timeout, within the configured time', async () => {
    const started = performance.now();
    const result = await probe({
      host: '127.0.0.1',
      port: silentPort,
      user: 'postgres',
      database: DATABASE,
      timeoutMs: 700,
    });
    expect(result).toMatchObject({
      ok: false,
      code: 'timeout',
      message: expect.stringContaining('did not answer within 0.7 s'),
    });
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('reports a server that requires TLS as tls_required, and connects with ssl', async () => {
    const base = { host: HOST, port: PORT, user: 'braid_tls_probe', database: DATABASE };
    const plain = await probe({ ...base, ssl: false });
    expect(plain).toMatchObject({
      ok: false,
      code: 'tls_required',
      message: expect.stringMatching(/requires an encrypted connection/),
    });
    expect((await probe({ ...base, ssl: true })).ok).toBe(true);
    expect(
      (await probe({ url: `postgres://braid_tls_probe@${HOST}:${PORT}/${DATABASE}?sslmode=require` })).ok,
    ).toBe(true);
  });

  it('reports an unverifiable certificate as tls_failed when verification is asked for', async () => {
    const result = await probe({
      host: HOST,
      port: PORT,
      user: 'braid_tls_probe',
      database: DATABASE,
      ssl: 'verify',
    });
    expect(result).toMatchObject({
      ok: false,
      code: 'tls_failed',
      message: expect.stringMatching(/certificate/),
    });
  });

  it('never puts the password or the URL in a message', async () => {
    const port = await closedPort();
    const url = `postgres://someone:hunter2-secret@127.0.0.1:${port}/${DATABASE}`;
    const result = await probe({ url });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('hunter2-secret');
    expect(JSON.stringify(result)).not.toContain('postgres://');
  });

  it('is lazy: creating and closing a connector to a dead host does nothing', async () => {
    const connector = createPostgresConnector({ host: '127.0.0.1', port: await closedPort() });
    await connector.close();
  });
});
