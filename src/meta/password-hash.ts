import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { BraidError } from '../model/errors.js';

/** scrypt cost parameters for new hashes; stored in every hash, so they can be raised later. */
export const SCRYPT_PARAMS = { N: 16384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// Bounds for parameters read back from the store, so a tampered row cannot make login allocate
// gigabytes or spin for minutes.
const MAX_N = 2 ** 20;
const MAX_RP = 64;

function scryptAsync(
  password: string,
  salt: Buffer,
  length: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, length, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function maxmem(N: number, r: number): number {
  // scrypt needs about 128 * N * r bytes; Node refuses above `maxmem` (default 32 MiB).
  return 128 * N * r * 2 + 1024 * 1024;
}

/**
 * Hashes a password as `scrypt$N$r$p$salt$hash` (salt and hash in base64). Passwords are NFKC-
 * normalized first, so the same password typed on different keyboards verifies.
 *
 * @example
 * const stored = await hashPassword('correct horse battery');
 * await verifyPassword('correct horse battery', stored); // true
 */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(password, salt, HASH_BYTES, { N, r, p, maxmem: maxmem(N, r) });
  return ['scrypt', N, r, p, salt.toString('base64'), hash.toString('base64')].join('$');
}

function malformed(): BraidError {
  return new BraidError(500, 'password_hash_invalid', 'a stored password hash is malformed');
}

function parseHash(stored: string): { N: number; r: number; p: number; salt: Buffer; hash: Buffer } {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw malformed();
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const isPowerOfTwo = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0;
  if (!isPowerOfTwo || N > MAX_N) throw malformed();
  if (![r, p].every((v) => Number.isInteger(v) && v >= 1 && v <= MAX_RP)) throw malformed();
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16) throw malformed();
  return { N, r, p, salt, hash };
}

/** Checks a password against a stored hash in constant time; throws only for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { N, r, p, salt, hash } = parseHash(stored);
  const candidate = await scryptAsync(password, salt, hash.length, { N, r, p, maxmem: maxmem(N, r) });
  return timingSafeEqual(candidate, hash);
}

/**
 * A valid hash of a random password, computed once. Logins for unknown emails verify against it so
 * they take as long as logins with a wrong password: response time must not reveal who has an account.
 */
let decoy: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}
