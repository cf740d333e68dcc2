import { BraidError, badRequest, notFound } from '../model/errors.js';
import type { ApiKeyInfo } from '../meta/api-keys-repository.js';
import type { MetaStore } from '../meta/meta-store.js';
import { USER_ROLES, type UserRole } from '../meta/meta-schema.js';
import { decoyPasswordHash, hashPassword, verifyPassword } from '../meta/password-hash.js';
import { API_KEY_PREFIX, newApiKey, newId, newSessionToken, sha256Hex } from '../meta/tokens.js';
import type { User } from '../meta/users-repository.js';

export type { User } from '../meta/users-repository.js';
export type { ApiKeyInfo } from '../meta/api-keys-repository.js';
export { USER_ROLES, type UserRole } from '../meta/meta-schema.js';

export const MIN_PASSWORD_LENGTH = 8;
// Long enough for any passphrase manager, short enough that a request cannot make hashing expensive.
export const MAX_PASSWORD_LENGTH = 1024;
/** How long a checked session or API key is trusted without reading the store again. */
export const AUTH_CACHE_MS = 2_000;
export const DEFAULT_SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
// Writing last_used_at on every request would turn each API call into a write; a minute is precise enough.
const API_KEY_TOUCH_INTERVAL_MS = 60_000;
const API_KEY_DISPLAY_LENGTH = API_KEY_PREFIX.length + 6;
const MAX_TOKEN_LENGTH = 256;

/** Builders and admins use the builder (sources, tables, syncs...); app users only published apps. */
export function canUseBuilder(role: UserRole): boolean {
  return role === 'admin' || role === 'builder';
}

export function isUserRole(value: unknown): value is UserRole {
  return typeof value === 'string' && (USER_ROLES as readonly string[]).includes(value);
}

export interface AuthServiceOptions {
  /** How long a login lasts (default 7 days). */
  sessionTtlMs?: number;
  /** The clock; tests move it to expire sessions. */
  now?: () => Date;
}

export interface LoginResult {
  /** The bearer token for the session cookie: shown once, only its SHA-256 is stored. */
  token: string;
  user: User;
  expiresAt: string;
}

export interface NewApiKey {
  id: string;
  /** The whole key: shown once, only its SHA-256 is stored. */
  key: string;
  name: string;
  prefix: string;
  createdAt: string;
}

// One error for unknown email and wrong password, so a login form cannot tell who has an account.
function invalidCredentials(): BraidError {
  return new BraidError(401, 'invalid_credentials', 'the email or the password is wrong');
}

function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) {
    throw badRequest('password_too_short', `a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw badRequest('password_too_long', `a password may have at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  return password;
}

function checkEmail(email: unknown): string {
  const trimmed = typeof email === 'string' ? email.trim() : '';
  if (trimmed.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(trimmed)) {
    throw badRequest('invalid_email', 'give an email address such as ada@example.com');
  }
  return trimmed;
}

function checkRole(role: unknown): UserRole {
  if (!isUserRole(role)) throw badRequest('invalid_role', `a role is one of ${USER_ROLES.join(', ')}`);
  return role;
}

/**
 * Users, logins (session tokens) and API keys over the metadata store. Passwords are scrypt-hashed;
 * tokens and keys are random and stored only as SHA-256. The authenticate methods answer null for
 * anything that must not pass (unknown, expired, disabled) so the HTTP layer has one 401 path.
 *
 * @example
 * const auth = new AuthService(store);
 * await auth.createUser({ email: 'ada@example.com', password: 'long enough', role: 'builder' });
 * const { token } = await auth.login('ada@example.com', 'long enough');
 * (await auth.authenticateSession(token))?.role; // 'builder'
 */
export class AuthService {
  private readonly sessionTtlMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: Pick<MetaStore, 'users' | 'sessions' | 'apiKeys'>,
    options: AuthServiceOptions = {},
  ) {
    this.sessionTtlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
    this.now = options.now ?? (() => new Date());
  }

  async createUser(input: { email: string; password: string; role?: UserRole }): Promise<User> {
    const email = checkEmail(input.email);
    const password = checkPassword(input.password);
    const role = checkRole(input.role ?? 'app_user');
    return this.store.users.insert({
      email,
      passwordHash: await hashPassword(password),
      role,
      now: this.now(),
    });
  }

  /**
   * Creates an administrator, or, when the email exists, makes that user an enabled admin with the
   * new password (`braid admin create` doubles as the way back in after a lost password).
   */
  async createAdmin(email: string, password: string): Promise<User> {
    const existing = await this.store.users.findByEmail(checkEmail(email));
    if (!existing) return this.createUser({ email, password, role: 'admin' });
    const passwordHash = await hashPassword(checkPassword(password));
    await this.store.sessions.deleteForUser(existing.id);
    return this.store.users.update(existing.id, { role: 'admin', disabled: false, passwordHash });
  }

  /**
   * First start: with BRAID_ADMIN_EMAIL and BRAID_ADMIN_PASSWORD set (pass `config.adminEmail` and
   * `config.adminPassword`) and no active admin yet, creates that admin. Later starts leave users
   * alone, so a password changed in the app is not reset by a stale environment.
   */
  async ensureAdminFromEnv(env: {
    adminEmail?: string | undefined;
    adminPassword?: string | undefined;
  }): Promise<{ created: boolean; user: User | null }> {
    const { adminEmail, adminPassword } = env;
    if (!adminEmail && !adminPassword) return { created: false, user: null };
    if (!adminEmail || !adminPassword) {
      throw new BraidError(
        500,
        'admin_env_incomplete',
        'set both BRAID_ADMIN_EMAIL and BRAID_ADMIN_PASSWORD, or neither',
      );
    }
    if ((await this.store.users.countActiveAdmins()) > 0) return { created: false, user: null };
    return { created: true, user: await this.createAdmin(adminEmail, adminPassword) };
  }

  async login(email: string, password: string): Promise<LoginResult> {
    if (typeof email !== 'string' || typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) {
      throw invalidCredentials();
    }
    const found = await this.store.users.findByEmail(email);
    // Verify against a decoy when the email is unknown, so both failures take the same time.
    const matches = await verifyPassword(password, found?.passwordHash ?? (await decoyPasswordHash()));
    if (!found || !matches) throw invalidCredentials();
    // Only someone holding the right password learns that the account is disabled.
    if (found.disabled)
      throw new BraidError(403, 'user_disabled', 'this account is disabled: ask an administrator');
    const token = newSessionToken();
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.sessionTtlMs).toISOString();
    await this.store.sessions.insert({
      tokenHash: sha256Hex(token),
      userId: found.id,
      createdAt: now.toISOString(),
      expiresAt,
    });
    const { passwordHash: _hash, ...user } = found;
    return { token, user, expiresAt };
  }

  /** Ends a session; unknown tokens are ignored, so logging out twice is fine. */
  async logout(token: string): Promise<void> {
    if (typeof token !== 'string' || token === '') return;
    this.recent.delete(`s:${sha256Hex(token)}`);
    await this.store.sessions.delete(sha256Hex(token));
  }

  /**
   * Credentials checked in the last AUTH_CACHE_MS, so a burst of requests does not read the store
   * for each one. Changes made here (logout, role, disable, password, key revocation) clear it at
   * once; a change made by another Braid process sharing the store applies within AUTH_CACHE_MS.
   */
  private readonly recent = new Map<string, { user: User; until: number }>();

  private remembered(cacheKey: string): User | null {
    const hit = this.recent.get(cacheKey);
    if (!hit) return null;
    if (hit.until > this.now().getTime()) return hit.user;
    this.recent.delete(cacheKey);
    return null;
  }

  private remember(cacheKey: string, user: User, notAfter = Number.POSITIVE_INFINITY): User {
    if (this.recent.size >= 10_000) this.recent.clear();
    this.recent.set(cacheKey, { user, until: Math.min(this.now().getTime() + AUTH_CACHE_MS, notAfter) });
    return user;
  }

  /** The user of a live session, or null (unknown, expired or disabled). Expired sessions are removed. */
  async authenticateSession(token: string): Promise<User | null> {
    if (typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_LENGTH) return null;
    const tokenHash = sha256Hex(token);
    const cached = this.remembered(`s:${tokenHash}`);
    if (cached) return cached;
    const session = await this.store.sessions.find(tokenHash);
    if (!session) return null;
    if (session.expiresAt <= this.now().toISOString()) {
      await this.store.sessions.delete(tokenHash);
      return null;
    }
    const user = await this.activeUser(session.userId);
    return user && this.remember(`s:${tokenHash}`, user, Date.parse(session.expiresAt));
  }

  /** Removes every expired session (a periodic job may call it); answers how many. */
  async purgeExpiredSessions(): Promise<number> {
    return this.store.sessions.deleteExpired(this.now().toISOString());
  }

  async createApiKey(userId: string, name: string): Promise<NewApiKey> {
    const trimmed = typeof name === 'string' ? name.trim() : '';
    if (trimmed === '' || trimmed.length > 100)
      throw badRequest('invalid_key_name', 'an API key name is 1 to 100 characters');
    if (!(await this.activeUser(userId))) throw notFound('user', { id: userId });
    const key = newApiKey();
    const info = await this.store.apiKeys.insert({
      id: newId(),
      userId,
      name: trimmed,
      prefix: key.slice(0, API_KEY_DISPLAY_LENGTH),
      keyHash: sha256Hex(key),
      createdAt: this.now().toISOString(),
    });
    return { id: info.id, key, name: info.name, prefix: info.prefix, createdAt: info.createdAt };
  }

  /** The user an API key belongs to, or null (unknown key, or the user is disabled). */
  async authenticateApiKey(key: string): Promise<User | null> {
    if (typeof key !== 'string' || !key.startsWith(API_KEY_PREFIX) || key.length > MAX_TOKEN_LENGTH)
      return null;
    const cached = this.remembered(`k:${sha256Hex(key)}`);
    if (cached) return cached;
    const info = await this.store.apiKeys.findByHash(sha256Hex(key));
    if (!info) return null;
    const user = await this.activeUser(info.userId);
    if (!user) return null;
    const now = this.now();
    if (!info.lastUsedAt || now.getTime() - Date.parse(info.lastUsedAt) >= API_KEY_TOUCH_INTERVAL_MS) {
      await this.store.apiKeys.touch(info.id, now.toISOString());
    }
    return this.remember(`k:${sha256Hex(key)}`, user);
  }

  listApiKeys(userId: string): Promise<ApiKeyInfo[]> {
    return this.store.apiKeys.listForUser(userId);
  }

  async revokeApiKey(userId: string, keyId: string): Promise<void> {
    this.recent.clear();
    if (!(await this.store.apiKeys.delete(userId, keyId))) throw notFound('API key', { id: keyId });
  }

  listUsers(): Promise<User[]> {
    return this.store.users.list();
  }

  getUser(userId: string): Promise<User> {
    return this.store.users.get(userId);
  }

  async setRole(userId: string, role: UserRole): Promise<User> {
    checkRole(role);
    const user = await this.store.users.get(userId);
    if (user.role === 'admin' && role !== 'admin') await this.keepOneAdmin(user);
    this.recent.clear();
    return this.store.users.update(userId, { role });
  }

  /** Disables a user and ends their sessions; their API keys stop working while disabled. */
  async disableUser(userId: string): Promise<User> {
    const user = await this.store.users.get(userId);
    if (user.role === 'admin') await this.keepOneAdmin(user);
    const updated = await this.store.users.update(userId, { disabled: true });
    await this.store.sessions.deleteForUser(userId);
    this.recent.clear();
    return updated;
  }

  enableUser(userId: string): Promise<User> {
    return this.store.users.update(userId, { disabled: false });
  }

  /** Sets a new password and ends the user's sessions, so a stolen session dies with the old password. */
  async setPassword(userId: string, password: string): Promise<User> {
    const passwordHash = await hashPassword(checkPassword(password));
    const user = await this.store.users.update(userId, { passwordHash });
    await this.store.sessions.deleteForUser(userId);
    this.recent.clear();
    return user;
  }

  private async activeUser(userId: string): Promise<User | null> {
    const found = await this.store.users.findById(userId);
    if (!found || found.disabled) return null;
    const { passwordHash: _hash, ...user } = found;
    return user;
  }

  /** Refuses to demote or disable the last admin who can sign in: nobody could manage users then. */
  private async keepOneAdmin(user: User): Promise<void> {
    if (!user.disabled && (await this.store.users.countActiveAdmins()) <= 1) {
      throw new BraidError(
        409,
        'last_admin',
        'this is the last active administrator: make someone else admin first',
      );
    }
  }
}
