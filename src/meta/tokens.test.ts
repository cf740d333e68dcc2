import { describe, expect, it } from 'vitest';
import { newApiKey, newId, newSessionToken, sha256Hex } from './tokens.js';

describe('tokens', () => {
  it('makes short, distinct lowercase ids', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newId()));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]{12}$/);
    expect(newId(6)).toMatch(/^[a-z0-9]{6}$/);
  });

  it('makes 32-byte base64url session tokens and braid_ API keys', () => {
    const token = newSessionToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(newSessionToken()).not.toBe(token);
    expect(newApiKey()).toMatch(/^braid_[A-Za-z0-9_-]{43}$/);
  });

  it('hashes with SHA-256 in hex', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
