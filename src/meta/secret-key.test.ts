import { randomBytes, scryptSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEY_FILE_NAME, loadOrCreateKeyFile, parseSecretKey, resolveSecretKey } from './secret-key.js';

describe('parseSecretKey', () => {
  it('uses 64 hex characters as the 32 bytes they encode', async () => {
    const key = randomBytes(32);
    expect(await parseSecretKey(key.toString('hex'))).toEqual({ key, kind: 'raw' });
    expect((await parseSecretKey(` ${key.toString('hex').toUpperCase()}\n`)).key).toEqual(key);
  });

  it('uses 44-character base64 as the 32 bytes it encodes', async () => {
    const key = randomBytes(32);
    const text = key.toString('base64');
    expect(text).toHaveLength(44);
    expect(await parseSecretKey(text)).toEqual({ key, kind: 'raw' });
  });

  it('derives anything else with scrypt and the documented fixed salt', async () => {
    // The salt and parameters are part of the stored data's contract: changing them would make
    // every installation that uses a passphrase unable to read its secrets.
    const expected = scryptSync('correct horse battery staple', 'braid.secret-key.v1', 32, {
      N: 16384,
      r: 8,
      p: 1,
    });
    expect(await parseSecretKey('correct horse battery staple')).toEqual({
      key: expected,
      kind: 'passphrase',
    });
    expect((await parseSecretKey('a'.repeat(63))).kind).toBe('passphrase');
    expect((await parseSecretKey('other passphrase')).key).not.toEqual(expected);
  });

  it('refuses an empty key', async () => {
    await expect(parseSecretKey('   ')).rejects.toMatchObject({ code: 'secret_key_invalid' });
  });
});

describe('key file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-key-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('is created once with mode 0600 and 64 hex characters, then reused', async () => {
    const first = await loadOrCreateKeyFile(dir);
    expect(first.created).toBe(true);
    const stat = await fs.stat(path.join(dir, KEY_FILE_NAME));
    expect(stat.mode & 0o777).toBe(0o600);
    expect(await fs.readFile(path.join(dir, KEY_FILE_NAME), 'utf8')).toBe(`${first.key.toString('hex')}\n`);
    const second = await loadOrCreateKeyFile(dir);
    expect(second).toMatchObject({ created: false });
    expect(second.key).toEqual(first.key);
    expect((await fs.readdir(dir)).sort()).toEqual([KEY_FILE_NAME]);
  });

  it('gives concurrent starts one key', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateKeyFile(dir)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    for (const r of results) expect(r.key).toEqual(results[0]!.key);
  });

  it('creates a missing data directory', async () => {
    const nested = path.join(dir, 'a', 'b');
    await loadOrCreateKeyFile(nested);
    expect((await fs.stat(path.join(nested, KEY_FILE_NAME))).isFile()).toBe(true);
  });

  it('refuses a damaged key file instead of replacing it', async () => {
    await fs.writeFile(path.join(dir, KEY_FILE_NAME), 'not a key\n', { mode: 0o600 });
    await expect(loadOrCreateKeyFile(dir)).rejects.toMatchObject({ code: 'secret_key_invalid' });
    expect(await fs.readFile(path.join(dir, KEY_FILE_NAME), 'utf8')).toBe('not a key\n');
  });

  it('is not touched when BRAID_SECRET_KEY is given', async () => {
    const key = randomBytes(32);
    expect(await resolveSecretKey({ dataDir: dir, secretKey: key.toString('hex') })).toEqual({
      key,
      source: 'env-key',
    });
    expect((await resolveSecretKey({ dataDir: dir, secretKey: 'a passphrase' })).source).toBe(
      'env-passphrase',
    );
    expect(await fs.readdir(dir)).toEqual([]);
    expect((await resolveSecretKey({ dataDir: dir })).source).toBe('key-file-created');
    expect((await resolveSecretKey({ dataDir: dir })).source).toBe('key-file');
  });
});
