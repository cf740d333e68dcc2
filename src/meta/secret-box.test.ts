import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BraidError } from '../model/errors.js';
import { createSecretBox } from './secret-box.js';

const PLAINTEXT = 'S3cr3t-Plaintext-Pw!';

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BraidError);
    expect((err as BraidError).code).toBe(code);
    return;
  }
  expect.fail(`expected a BraidError ${code}`);
}

/** Flips one bit of the decoded payload at `index` and re-encodes it. */
function flip(sealed: string, index: number): string {
  const raw = Buffer.from(sealed.slice(3), 'base64');
  raw[index] = raw[index]! ^ 0x01;
  return 'v1:' + raw.toString('base64');
}

describe('secret box', () => {
  const box = createSecretBox(randomBytes(32));

  it('round-trips text and JSON', () => {
    expect(box.open(box.seal(PLAINTEXT))).toBe(PLAINTEXT);
    expect(box.open(box.seal(''))).toBe('');
    expect(box.open(box.seal('pässwörd ✓ 密码'))).toBe('pässwörd ✓ 密码');
    expect(box.openJson(box.sealJson({ password: PLAINTEXT, n: 1 }))).toEqual({ password: PLAINTEXT, n: 1 });
  });

  it('writes v1: + base64(iv 12 | tag 16 | ciphertext) and never the plaintext', () => {
    const sealed = box.seal(PLAINTEXT);
    expect(sealed).toMatch(/^v1:[A-Za-z0-9+/]+=*$/);
    const raw = Buffer.from(sealed.slice(3), 'base64');
    expect(raw.length).toBe(12 + 16 + Buffer.byteLength(PLAINTEXT));
    expect(sealed).not.toContain(PLAINTEXT);
    expect(raw.includes(Buffer.from(PLAINTEXT))).toBe(false);
  });

  it('uses a fresh IV for every seal', () => {
    const a = box.seal(PLAINTEXT);
    const b = box.seal(PLAINTEXT);
    expect(a).not.toBe(b);
    expect(Buffer.from(a.slice(3), 'base64').subarray(0, 12)).not.toEqual(
      Buffer.from(b.slice(3), 'base64').subarray(0, 12),
    );
  });

  it('refuses tampered IV, tag or ciphertext with secret_undecryptable', () => {
    const sealed = box.seal(PLAINTEXT);
    expectCode(() => box.open(flip(sealed, 0)), 'secret_undecryptable'); // IV
    expectCode(() => box.open(flip(sealed, 20)), 'secret_undecryptable'); // tag
    expectCode(() => box.open(flip(sealed, 30)), 'secret_undecryptable'); // ciphertext
    expectCode(() => box.open(sealed.slice(0, 20)), 'secret_undecryptable');
    expectCode(() => box.open(sealed.replace('v1:', 'v9:')), 'secret_undecryptable');
    expectCode(() => box.open(PLAINTEXT), 'secret_undecryptable');
  });

  it('refuses a value sealed with another key, with a message that points at the key', () => {
    const other = createSecretBox(randomBytes(32));
    const sealed = box.seal(PLAINTEXT);
    expectCode(() => other.open(sealed), 'secret_undecryptable');
    try {
      other.open(sealed);
    } catch (err) {
      expect((err as Error).message).toMatch(/BRAID_SECRET_KEY/);
      expect((err as Error).message).not.toContain(PLAINTEXT);
    }
  });

  it('accepts only 32-byte keys', () => {
    expectCode(() => createSecretBox(randomBytes(16)), 'secret_key_invalid');
  });

  it('keeps its own copy of the key', () => {
    const key = randomBytes(32);
    const own = createSecretBox(key);
    const sealed = own.seal(PLAINTEXT);
    key.fill(0);
    expect(own.open(sealed)).toBe(PLAINTEXT);
  });
});
