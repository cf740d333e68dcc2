import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/meta/tokens.js';
import { AuthService, DEFAULT_SESSION_TTL_MS } from '../../src/services/auth-service.js';
import { META_ENGINES, type MetaFixture } from './meta-engines.js';

const PASSWORD = 'correct horse battery';

describe.each(META_ENGINES)('auth on $name', (engine) => {
  describe.skipIf(!engine.available)('', () => {
    let meta: MetaFixture;
    let clock: Date;
    let auth: AuthService;
    beforeEach(async () => {
      meta = await engine.open();
      clock = new Date('2026-03-01T12:00:00.000Z');
      auth = new AuthService(meta.store, { now: () => clock });
    });
    afterEach(async () => {
      await meta.cleanup();
    });

    const advance = (ms: number) => {
      clock = new Date(clock.getTime() + ms);
    };

    it('creates users with checked input and case-insensitively unique emails', async () => {
      const ada = await auth.createUser({ email: '  Ada@Example.COM ', password: PASSWORD, role: 'builder' });
      expect(ada).toEqual({
        id: ada.id,
        email: 'ada@example.com',
        role: 'builder',
        createdAt: clock.toISOString(),
        disabled: false,
      });
      expect(ada).not.toHaveProperty('passwordHash');
      await expect(auth.createUser({ email: 'ADA@example.com', password: PASSWORD })).rejects.toMatchObject({
        status: 409,
        code: 'email_taken',
      });
      await expect(auth.createUser({ email: 'bob@example.com', password: 'short' })).rejects.toMatchObject({
        status: 400,
        code: 'password_too_short',
        message: expect.stringMatching(/at least 8 characters/),
      });
      await expect(auth.createUser({ email: 'not-an-email', password: PASSWORD })).rejects.toMatchObject({
        code: 'invalid_email',
      });
      await expect(
        auth.createUser({ email: 'c@example.com', password: PASSWORD, role: 'owner' as never }),
      ).rejects.toMatchObject({
        code: 'invalid_role',
      });
      advance(1000); // listUsers orders by creation time
      expect((await auth.createUser({ email: 'app@example.com', password: PASSWORD })).role).toBe('app_user');

      const row = await meta.store.db
        .selectFrom('users')
        .select('password_hash')
        .where('id', '=', ada.id)
        .executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
      expect(row.password_hash).not.toContain(PASSWORD);
      expect((await auth.listUsers()).map((u) => u.email)).toEqual(['ada@example.com', 'app@example.com']);
    });

    it('logs in with a session token stored only as its hash, and logs out', async () => {
      const ada = await auth.createUser({ email: 'ada@example.com', password: PASSWORD, role: 'builder' });
      const { token, user, expiresAt } = await auth.login('ADA@example.com', PASSWORD);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(user).toMatchObject({ id: ada.id, role: 'builder' });
      expect(expiresAt).toBe(new Date(clock.getTime() + DEFAULT_SESSION_TTL_MS).toISOString());

      const sessions = await meta.store.db.selectFrom('sessions').selectAll().execute();
      expect(sessions).toEqual([
        {
          token_hash: sha256Hex(token),
          user_id: ada.id,
          created_at: clock.toISOString(),
          expires_at: expiresAt,
        },
      ]);

      expect(await auth.authenticateSession(token)).toMatchObject({
        id: ada.id,
        email: 'ada@example.com',
        role: 'builder',
      });
      expect(
        await auth.authenticateSession(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')),
      ).toBeNull();
      expect(await auth.authenticateSession('')).toBeNull();
      await auth.logout(token);
      expect(await auth.authenticateSession(token)).toBeNull();
      await expect(auth.logout(token)).resolves.toBeUndefined();
    });

    it('answers the same error for an unknown email and a wrong password', async () => {
      await auth.createUser({ email: 'ada@example.com', password: PASSWORD });
      const wrong = await auth.login('ada@example.com', 'wrong password').catch((e: unknown) => e);
      const unknown = await auth.login('nobody@example.com', PASSWORD).catch((e: unknown) => e);
      expect(wrong).toMatchObject({ status: 401, code: 'invalid_credentials' });
      expect(unknown).toMatchObject({ status: 401, code: 'invalid_credentials' });
      expect((unknown as Error).message).toBe((wrong as Error).message);
      expect(await meta.store.db.selectFrom('sessions').selectAll().execute()).toEqual([]);
    });

    it('refuses an expired session and removes it', async () => {
      await auth.createUser({ email: 'ada@example.com', password: PASSWORD });
      const { token } = await auth.login('ada@example.com', PASSWORD);
      const other = await auth.login('ada@example.com', PASSWORD);
      advance(DEFAULT_SESSION_TTL_MS - 1000);
      expect(await auth.authenticateSession(token)).not.toBeNull();
      advance(1000);
      expect(await auth.authenticateSession(token)).toBeNull();
      const left = await meta.store.db.selectFrom('sessions').select('token_hash').execute();
      expect(left).toEqual([{ token_hash: sha256Hex(other.token) }]);
      expect(await auth.purgeExpiredSessions()).toBe(1);
      expect(await meta.store.db.selectFrom('sessions').selectAll().execute()).toEqual([]);
    });

    it('honours a custom session lifetime', async () => {
      const short = new AuthService(meta.store, { now: () => clock, sessionTtlMs: 60_000 });
      await short.createUser({ email: 'ada@example.com', password: PASSWORD });
      const { token } = await short.login('ada@example.com', PASSWORD);
      advance(60_001);
      expect(await short.authenticateSession(token)).toBeNull();
    });

    it('refuses disabled users everywhere until enabled again', async () => {
      await auth.createUser({ email: 'admin@example.com', password: PASSWORD, role: 'admin' });
      const bob = await auth.createUser({ email: 'bob@example.com', password: PASSWORD, role: 'builder' });
      const { token } = await auth.login('bob@example.com', PASSWORD);
      const { key } = await auth.createApiKey(bob.id, 'script');

      expect(await auth.disableUser(bob.id)).toMatchObject({ disabled: true });
      expect(await auth.authenticateSession(token)).toBeNull();
      expect(await auth.authenticateApiKey(key)).toBeNull();
      await expect(auth.login('bob@example.com', PASSWORD)).rejects.toMatchObject({
        status: 403,
        code: 'user_disabled',
      });
      // A wrong password still gets the generic answer: being disabled is not revealed to guessers.
      await expect(auth.login('bob@example.com', 'wrong password')).rejects.toMatchObject({
        code: 'invalid_credentials',
      });
      await expect(auth.createApiKey(bob.id, 'another')).rejects.toMatchObject({ status: 404 });

      await auth.enableUser(bob.id);
      expect(await auth.authenticateApiKey(key)).toMatchObject({ id: bob.id });
      expect(await auth.authenticateSession(token)).toBeNull(); // sessions ended when disabled
      expect((await auth.login('bob@example.com', PASSWORD)).user.id).toBe(bob.id);
    });

    it('issues API keys once, stores only their hash and tracks their use', async () => {
      const ada = await auth.createUser({ email: 'ada@example.com', password: PASSWORD, role: 'builder' });
      const created = await auth.createApiKey(ada.id, ' ci ');
      expect(created.key).toMatch(/^braid_[A-Za-z0-9_-]{43}$/);
      expect(created).toMatchObject({
        name: 'ci',
        prefix: created.key.slice(0, 12),
        createdAt: clock.toISOString(),
      });

      const rows = await meta.store.db.selectFrom('api_keys').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.key_hash).toBe(sha256Hex(created.key));
      expect(JSON.stringify(rows)).not.toContain(created.key);

      advance(5000);
      expect(await auth.authenticateApiKey(created.key)).toMatchObject({ id: ada.id, role: 'builder' });
      expect((await auth.listApiKeys(ada.id))[0]).toMatchObject({
        id: created.id,
        lastUsedAt: clock.toISOString(),
      });
      expect(await auth.authenticateApiKey(created.key.slice(0, -2) + 'xx')).toBeNull();
      expect(await auth.authenticateApiKey(created.key.slice(6))).toBeNull();
      expect(await auth.authenticateApiKey('')).toBeNull();

      await expect(auth.createApiKey(ada.id, '   ')).rejects.toMatchObject({ code: 'invalid_key_name' });
      await expect(auth.createApiKey('missing', 'x')).rejects.toMatchObject({ status: 404 });
      await expect(auth.revokeApiKey('someone-else', created.id)).rejects.toMatchObject({ status: 404 });
      await auth.revokeApiKey(ada.id, created.id);
      expect(await auth.authenticateApiKey(created.key)).toBeNull();
    });

    it('changes roles but never removes the last active admin', async () => {
      const root = await auth.createUser({ email: 'root@example.com', password: PASSWORD, role: 'admin' });
      await expect(auth.setRole(root.id, 'builder')).rejects.toMatchObject({
        status: 409,
        code: 'last_admin',
      });
      await expect(auth.disableUser(root.id)).rejects.toMatchObject({ code: 'last_admin' });

      const second = await auth.createUser({
        email: 'second@example.com',
        password: PASSWORD,
        role: 'builder',
      });
      expect(await auth.setRole(second.id, 'admin')).toMatchObject({ role: 'admin' });
      expect(await auth.setRole(root.id, 'app_user')).toMatchObject({ role: 'app_user' });
      const { token } = await auth.login('root@example.com', PASSWORD);
      expect(await auth.authenticateSession(token)).toMatchObject({ role: 'app_user' });
      await expect(auth.setRole(second.id, 'nobody' as never)).rejects.toMatchObject({
        code: 'invalid_role',
      });
      await expect(auth.setRole('missing', 'builder')).rejects.toMatchObject({ status: 404 });
    });

    it('creates an admin, and resets an existing one with braid admin create', async () => {
      const admin = await auth.createAdmin('root@example.com', PASSWORD);
      expect(admin.role).toBe('admin');
      const { token } = await auth.login('root@example.com', PASSWORD);

      const again = await auth.createAdmin('ROOT@example.com', 'a new password');
      expect(again).toMatchObject({ id: admin.id, role: 'admin', disabled: false });
      expect(await auth.authenticateSession(token)).toBeNull();
      await expect(auth.login('root@example.com', PASSWORD)).rejects.toMatchObject({
        code: 'invalid_credentials',
      });
      expect((await auth.login('root@example.com', 'a new password')).user.id).toBe(admin.id);
      await expect(auth.createAdmin('x@example.com', 'short')).rejects.toMatchObject({
        code: 'password_too_short',
      });
    });

    it('creates the first admin from the environment once', async () => {
      expect(await auth.ensureAdminFromEnv({})).toEqual({ created: false, user: null });
      await expect(auth.ensureAdminFromEnv({ adminEmail: 'root@example.com' })).rejects.toMatchObject({
        code: 'admin_env_incomplete',
      });
      const first = await auth.ensureAdminFromEnv({
        adminEmail: 'root@example.com',
        adminPassword: PASSWORD,
      });
      expect(first).toMatchObject({ created: true, user: { email: 'root@example.com', role: 'admin' } });
      await auth.setPassword(first.user!.id, 'changed in the app');
      expect(
        await auth.ensureAdminFromEnv({ adminEmail: 'root@example.com', adminPassword: PASSWORD }),
      ).toEqual({
        created: false,
        user: null,
      });
      expect((await auth.login('root@example.com', 'changed in the app')).user.role).toBe('admin');
    });

    it('removes sessions and API keys with their user', async () => {
      const ada = await auth.createUser({ email: 'ada@example.com', password: PASSWORD });
      await auth.login('ada@example.com', PASSWORD);
      await auth.createApiKey(ada.id, 'k');
      await meta.store.db.deleteFrom('users').where('id', '=', ada.id).execute();
      expect(await meta.store.db.selectFrom('sessions').selectAll().execute()).toEqual([]);
      expect(await meta.store.db.selectFrom('api_keys').selectAll().execute()).toEqual([]);
    });
  });
});
