import { randomBytes, scrypt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BraidError } from '../model/errors.js';

/** Name of the key file created in the data directory when BRAID_SECRET_KEY is not set. */
export const KEY_FILE_NAME = 'secret.key';

/**
 * Salt for turning a passphrase into a key. It is fixed (not random) on purpose: the same passphrase
 * must give the same key on every machine and every start, with nothing else to keep. A fixed salt
 * still defeats generic precomputed tables; a strong passphrase or a raw 32-byte key is recommended.
 */
export const PASSPHRASE_SALT = 'braid.secret-key.v1';
const PASSPHRASE_SCRYPT = { N: 16384, r: 8, p: 1 } as const;

export type SecretKeySource = 'env-key' | 'env-passphrase' | 'key-file' | 'key-file-created';

/** Decodes a raw 32-byte key: 64 hex characters or 44 characters of standard base64; else null. */
export function decodeRawKey(text: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text)) {
    const key = Buffer.from(text, 'base64');
    if (key.length === 32) return key;
  }
  return null;
}

/**
 * The key for BRAID_SECRET_KEY: 64 hex characters or 44-character base64 are used as the 32 bytes
 * they encode; anything else is a passphrase, derived with scrypt (N=16384, r=8, p=1) and the fixed
 * salt PASSPHRASE_SALT. Surrounding whitespace is ignored.
 *
 * @example
 * await parseSecretKey(randomBytes(32).toString('hex')); // those 32 bytes
 * await parseSecretKey('a long passphrase nobody guesses'); // scrypt-derived 32 bytes
 */
export async function parseSecretKey(text: string): Promise<{ key: Buffer; kind: 'raw' | 'passphrase' }> {
  const trimmed = text.trim();
  if (trimmed === '') throw new BraidError(500, 'secret_key_invalid', 'BRAID_SECRET_KEY is empty');
  const raw = decodeRawKey(trimmed);
  if (raw) return { key: raw, kind: 'raw' };
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(trimmed.normalize('NFKC'), PASSPHRASE_SALT, 32, PASSPHRASE_SCRYPT, (err, k) =>
      err ? reject(err) : resolve(k),
    ),
  );
  return { key, kind: 'passphrase' };
}

async function readKeyFile(file: string): Promise<Buffer> {
  const text = (await fs.readFile(file, 'utf8')).trim();
  const key = decodeRawKey(text);
  if (!key) {
    throw new BraidError(
      500,
      'secret_key_invalid',
      `${KEY_FILE_NAME} in the data directory must hold 64 hex characters (a 32-byte key); it is damaged or was replaced`,
    );
  }
  return key;
}

/**
 * Reads `secret.key` from dataDir, creating it (mode 0600, 32 random bytes in hex) when missing.
 * Creation is atomic: the key is written to a private temporary file and hard-linked into place, so
 * two processes starting together agree on one key and a crash never leaves a half-written file.
 */
export async function loadOrCreateKeyFile(
  dataDir: string,
): Promise<{ key: Buffer; created: boolean; file: string }> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, KEY_FILE_NAME);
  try {
    return { key: await readKeyFile(file), created: false, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const temp = path.join(dataDir, `.${KEY_FILE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await fs.writeFile(temp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  let created = true;
  try {
    await fs.link(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    created = false; // another process won the race; use its key
  } finally {
    await fs.unlink(temp);
  }
  return { key: await readKeyFile(file), created, file };
}

/**
 * The secret key Braid runs with: BRAID_SECRET_KEY when given (pass `config.secretKey`), else the
 * key file in dataDir. Set BRAID_SECRET_KEY when several servers share one PostgreSQL metadata
 * store, since each would otherwise create its own key file.
 */
export async function resolveSecretKey(options: {
  dataDir: string;
  secretKey?: string | undefined;
}): Promise<{ key: Buffer; source: SecretKeySource }> {
  if (options.secretKey !== undefined) {
    const { key, kind } = await parseSecretKey(options.secretKey);
    return { key, source: kind === 'raw' ? 'env-key' : 'env-passphrase' };
  }
  const { key, created } = await loadOrCreateKeyFile(options.dataDir);
  return { key, source: created ? 'key-file-created' : 'key-file' };
}
