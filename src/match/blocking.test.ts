import { describe, expect, it } from 'vitest';
import { blockingKey, soundex } from './blocking.js';

describe('soundex', () => {
  it('gives the American Soundex codes', () => {
    expect(soundex('Robert')).toBe('R163');
    expect(soundex('Rupert')).toBe('R163');
    expect(soundex('Tymczak')).toBe('T522');
    expect(soundex('Pfister')).toBe('P236');
    expect(soundex('Rubin')).toBe('R150');
    expect(soundex('Lee')).toBe('L000');
  });

  it('does not let H and W separate equal codes, but vowels do', () => {
    expect(soundex('Ashcraft')).toBe('A261');
    expect(soundex('Tymczak')).toBe('T522');
  });

  it('codes the first word only, ignoring case, accents and other characters', () => {
    expect(soundex('  smith john')).toBe('S530');
    expect(soundex("O'Brien")).toBe('O165');
    expect(soundex('Müller')).toBe(soundex('Muller'));
    expect(soundex('123')).toBe('');
    expect(soundex('')).toBe('');
  });
});

describe('blockingKey', () => {
  it('computes each key', () => {
    expect(blockingKey('prefix3', 'Johnson')).toBe('Joh');
    expect(blockingKey('prefix5', 'Jo')).toBe('Jo');
    expect(blockingKey('prefix3', '😀😀😀😀')).toBe('😀😀😀');
    expect(blockingKey('soundex', 'Smith')).toBe('S530');
    expect(blockingKey('digits_last7', '+1 (555) 010-4477')).toBe('0104477');
    expect(blockingKey('digits_last7', '4477')).toBe('4477');
    expect(blockingKey('email_local', 'Ada+news@Example.com')).toBe('ada');
    expect(blockingKey('exact', 'x')).toBe('x');
  });

  it('answers null when the value gives no key', () => {
    expect(blockingKey('exact', null)).toBeNull();
    expect(blockingKey('prefix3', '')).toBeNull();
    expect(blockingKey('digits_last7', 'n/a')).toBeNull();
    expect(blockingKey('email_local', 'no-at-sign')).toBeNull();
    expect(blockingKey('email_local', '@example.com')).toBeNull();
    expect(blockingKey('soundex', '42')).toBeNull();
  });
});
