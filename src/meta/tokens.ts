import { createHash, randomBytes } from 'node:crypto';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A short random id such as `k3f9x2m1qa7b` (12 characters of [a-z0-9], about 62 bits). Short enough
 * to appear in URLs and CLI commands, random so ids cannot be guessed or enumerated.
 *
 * @example
 * const id = newId(); // 'k3f9x2m1qa7b'
 */
export function newId(length = 12): string {
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 36).
  const limit = 256 - (256 % ID_ALPHABET.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += ID_ALPHABET[byte % ID_ALPHABET.length];
    }
  }
  return out;
}

/** A bearer token: 32 random bytes in base64url (43 characters). */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export const API_KEY_PREFIX = 'braid_';

/** An API key: `braid_` + 32 random bytes in base64url; the prefix lets secret scanners find leaks. */
export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * SHA-256 in hex. Tokens and API keys are full-entropy random values, so a fast unsalted hash is
 * enough to make a stolen metadata store useless for logging in, and it allows an indexed lookup.
 */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
