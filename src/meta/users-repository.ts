import type { Kysely, Selectable } from 'kysely';
import { BraidError, notFound } from '../model/errors.js';
import { isUniqueViolation, isoNow } from './db-errors.js';
import type { MetaDatabase, UserRole, UsersTable } from './meta-schema.js';
import { newId } from './tokens.js';

/** A user as the rest of Braid sees it: never with the password hash. */
export interface User {
  id: string;
  email: string;
  role: UserRole;
  createdAt: string;
  disabled: boolean;
}

/** The stored row, for the auth service only (it needs the hash to verify a login). */
export type UserWithHash = User & { passwordHash: string };

/** Emails are compared trimmed and lower-cased; this is the one place that decides how. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function toUser(row: Selectable<UsersTable>): UserWithHash {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    createdAt: row.created_at,
    disabled: Number(row.disabled) === 1,
    passwordHash: row.password_hash,
  };
}

function withoutHash({ passwordHash: _hash, ...user }: UserWithHash): User {
  return user;
}

/**
 * Users of this Braid installation. Validation of emails and passwords lives in the auth service;
 * this layer stores, and maps duplicate emails to a 409 `email_taken`.
 *
 * @example
 * const user = await store.users.insert({ email: 'ada@example.com', passwordHash, role: 'builder' });
 * await store.users.findByEmail('ADA@example.com'); // the same user
 */
export class UsersRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async insert(input: { email: string; passwordHash: string; role: UserRole; now?: Date }): Promise<User> {
    const row: Selectable<UsersTable> = {
      id: newId(),
      email: normalizeEmail(input.email),
      password_hash: input.passwordHash,
      role: input.role,
      created_at: isoNow(input.now),
      disabled: 0,
    };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new BraidError(409, 'email_taken', 'a user with this email already exists');
      }
      throw err;
    }
    return withoutHash(toUser(row));
  }

  async findById(id: string): Promise<UserWithHash | null> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async findByEmail(email: string): Promise<UserWithHash | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', normalizeEmail(email))
      .executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async get(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw notFound('user', { id });
    return withoutHash(user);
  }

  async list(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => withoutHash(toUser(row)));
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Admins who can still sign in, for the "never lock everybody out" checks. */
  async countActiveAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('role', '=', 'admin')
      .where('disabled', '=', 0)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async update(
    id: string,
    changes: { role?: UserRole; disabled?: boolean; passwordHash?: string },
  ): Promise<User> {
    const set: Partial<Selectable<UsersTable>> = {};
    if (changes.role !== undefined) set.role = changes.role;
    if (changes.disabled !== undefined) set.disabled = changes.disabled ? 1 : 0;
    if (changes.passwordHash !== undefined) set.password_hash = changes.passwordHash;
    if (Object.keys(set).length > 0) {
      const result = await this.db.updateTable('users').set(set).where('id', '=', id).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw notFound('user', { id });
    }
    return this.get(id);
  }
}
