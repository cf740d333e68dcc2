import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, postgresAvailable } from '../support/servers.js';
import { startHarness, type Harness } from './harness.js';

const PASSWORD = 'Pl41ntext-Never-Shown!';

describe('HTTP auth, roles and secrets', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  it('answers health without auth and refuses other routes without it', async () => {
    expect((await h.server.inject({ method: 'GET', url: '/api/health' })).json()).toEqual({ ok: true });
    const res = await h.server.inject({ method: 'GET', url: '/api/sources' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('unauthenticated');
  });

  it('serves an OpenAPI document describing the routes', async () => {
    const doc = (await h.server.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/sources',
        '/api/sources/{id}/tables/{table}/rows',
        '/api/sources/{id}/query',
        '/api/auth/login',
      ]),
    );
  });

  it('rejects a wrong password with the same answer as an unknown email', async () => {
    const wrong = await h.server.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'admin@example.test', password: 'nope-nope' },
    });
    const unknown = await h.server.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'ghost@example.test', password: 'nope-nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
  });

  it('authenticates with an API key and keeps app users out of the builder API', async () => {
    const created = await h.admin({
      method: 'POST',
      url: '/api/users',
      payload: { email: 'viewer@example.test', password: 'viewer-pass-1', role: 'app_user' },
    });
    expect(created.statusCode).toBe(201);
    const login = await h.server.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'viewer@example.test', password: 'viewer-pass-1' },
    });
    const cookie = `braid_session=${login.cookies.find((c) => c.name === 'braid_session')!.value}`;
    const me = await h.server.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    expect(me.json().user.role).toBe('app_user');
    const denied = await h.server.inject({ method: 'GET', url: '/api/sources', headers: { cookie } });
    expect(denied.statusCode).toBe(403);
    // Logging out ends the session at once, although checked credentials are briefly remembered.
    await h.server.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
    expect(
      (await h.server.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode,
    ).toBe(401);

    const key = (await h.admin({ method: 'POST', url: '/api/api-keys', payload: { name: 'ci' } })).json();
    expect(key.key).toMatch(/^braid_/);
    const withKey = await h.server.inject({
      method: 'GET',
      url: '/api/sources',
      headers: { authorization: `Bearer ${key.key}` },
    });
    expect(withKey.statusCode).toBe(200);
    const badKey = await h.server.inject({
      method: 'GET',
      url: '/api/sources',
      headers: { authorization: 'Bearer braid_forged' },
    });
    expect(badKey.statusCode).toBe(401);
  });

  it('never answers or logs a stored password', async () => {
    if (!(await postgresAvailable())) return;
    const url = new URL(POSTGRES_URL);
    const created = await h.admin({
      method: 'POST',
      url: '/api/sources',
      payload: {
        name: 'pg-secret',
        kind: 'postgres',
        config: {
          host: url.hostname,
          port: Number(url.port || 5432),
          database: 'test',
          user: 'braid_pw_probe',
          password: PASSWORD,
        },
      },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().config.hasPassword).toBe(true);
    const withUrl = await h.admin({
      method: 'POST',
      url: '/api/sources',
      payload: {
        name: 'pg-url-secret',
        kind: 'postgres',
        config: { url: `postgres://braid_pw_probe:${PASSWORD}@${url.host}/test` },
      },
    });
    expect(withUrl.statusCode).toBe(201);
    const id = created.json().id as string;
    const answers = [
      created.body,
      withUrl.body,
      (await h.admin({ method: 'GET', url: '/api/sources' })).body,
      (await h.admin({ method: 'GET', url: `/api/sources/${id}` })).body,
      (await h.admin({ method: 'GET', url: `/api/sources/${withUrl.json().id}` })).body,
      // The password is wrong for this role, so the test answers an error: it must not echo it.
      (await h.admin({ method: 'POST', url: `/api/sources/${id}/test` })).body,
      (await h.admin({ method: 'GET', url: `/api/sources/${id}/tables` })).body,
      (await h.admin({ method: 'PATCH', url: `/api/sources/${id}`, payload: { name: 'pg-secret-2' } })).body,
    ];
    const testAnswer = JSON.parse(answers[5]!);
    expect(testAnswer).toMatchObject({ ok: false, code: 'auth_failed' });
    for (const body of answers) expect(body).not.toContain(PASSWORD);
    expect(h.logs().length).toBeGreaterThan(0);
    expect(h.logs()).not.toContain(PASSWORD);
    // The password survived the rename (it is kept, not shown).
    const stored = await h.app.meta.sources.get(id);
    expect(stored?.config.password).toBe(PASSWORD);
  });
});
