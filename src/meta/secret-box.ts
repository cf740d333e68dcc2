import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BraidError } from '../model/errors.js';

const VERSION = 'v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/**
 * Seals secrets (source passwords) for storage: AES-256-GCM, a fresh random 12-byte IV per seal,
 * output `v1:` + base64(iv | tag | ciphertext). GCM authenticates, so a tampered value or a wrong
 * key fails loudly with a BraidError (`secret_undecryptable`) instead of decrypting to garbage.
 * The `v1:` prefix leaves room for a later algorithm or key rotation without guessing formats.
 *
 * @example
 * const box = createSecretBox(randomBytes(32));
 * const sealed = box.sealJson({ password: 'pw' }); // 'v1:...'
 * box.openJson<{ password: string }>(sealed).password; // 'pw'
 */
export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
  sealJson(value: unknown): string;
  openJson<T>(sealed: string): T;
}

function undecryptable(reason: string, cause?: unknown): BraidError {
  return new BraidError(
    500,
    'secret_undecryptable',
    `a stored secret cannot be decrypted (${reason}): the secret key (BRAID_SECRET_KEY or secret.key) ` +
      'is not the one it was sealed with, or the stored value was altered',
    undefined,
    { cause },
  );
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== KEY_BYTES) {
    throw new BraidError(
      500,
      'secret_key_invalid',
      `the secret key must be ${KEY_BYTES} bytes, got ${key.length}`,
    );
  }
  // A private copy, so a caller that later zeroes or reuses its buffer cannot change our key.
  const secretKey = Buffer.from(key);

  const seal = (plaintext: string): string => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', secretKey, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return VERSION + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
  };

  const open = (sealed: string): string => {
    if (typeof sealed !== 'string' || !sealed.startsWith(VERSION)) throw undecryptable('unknown format');
    const raw = Buffer.from(sealed.slice(VERSION.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw undecryptable('too short');
    const decipher = createDecipheriv('aes-256-gcm', secretKey, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch (err) {
      throw undecryptable('authentication failed', err);
    }
  };

  return {
    seal,
    open,
    sealJson: (value) => seal(JSON.stringify(value)),
    openJson: <T>(sealed: string) => JSON.parse(open(sealed)) as T,
  };
}
