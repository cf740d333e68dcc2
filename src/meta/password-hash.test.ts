import { describe, expect, it } from 'vitest';
import { decoyPasswordHash, hashPassword, verifyPassword } from './password-hash.js';

describe('password hashing', () => {
  it('stores scrypt$N$r$p$salt$hash with a 16-byte salt', async () => {
    const stored = await hashPassword('correct horse');
    const match = /^scrypt\$16384\$8\$1\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
    expect(match).not.toBeNull();
    expect(Buffer.from(match![1]!, 'base64')).toHaveLength(16);
    expect(Buffer.from(match![2]!, 'base64')).toHaveLength(32);
    expect(stored).not.toContain('correct horse');
  });

  it('verifies the right password only', async () => {
    const stored = await hashPassword('correct horse');
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horsE', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same password')).not.toBe(await hashPassword('same password'));
  });

  it('treats canonically equal Unicode passwords as equal', async () => {
    const stored = await hashPassword('caf\u00e9 latte');
    expect(await verifyPassword('cafe\u0301 latte', stored)).toBe(true);
  });

  it('refuses malformed or abusive stored hashes', async () => {
    const stored = await hashPassword('correct horse');
    const parts = stored.split('$');
    for (const bad of [
      'plain',
      stored.replace('scrypt$', 'bcrypt$'),
      [parts[0], 2 ** 24, ...parts.slice(2)].join('$'),
      [parts[0], 1000, ...parts.slice(2)].join('$'),
      [...parts.slice(0, 5), ''].join('$'),
    ]) {
      await expect(verifyPassword('correct horse', bad)).rejects.toMatchObject({
        code: 'password_hash_invalid',
      });
    }
  });

  it('has a decoy hash that no guess matches', async () => {
    const decoy = await decoyPasswordHash();
    expect(decoy).toBe(await decoyPasswordHash());
    expect(await verifyPassword('password', decoy)).toBe(false);
  });
});
