import { describe, expect, it } from 'vitest';
import { BraidError } from '../model/errors.js';
import { NORMALIZE_STEPS, matchKey, normalize, parseNormalizeSteps } from './normalize.js';

describe('normalize', () => {
  it('applies each step', () => {
    expect(normalize('  Ada  ', ['trim'])).toBe('Ada');
    expect(normalize('ÀDA Straße', ['lower'])).toBe('àda straße');
    expect(normalize('straße', ['upper'])).toBe('STRASSE');
    expect(normalize('a \t b\u00a0\u3000c\n', ['collapse_spaces'])).toBe('a b c ');
    expect(normalize('Smith & Sons, Inc.', ['strip_punctuation'])).toBe('Smith  Sons Inc');
    expect(normalize('«Café» — ¿sí?', ['strip_punctuation'])).toBe('Café  sí');
    expect(normalize('+1 (555) 010-4477', ['digits'])).toBe('15550104477');
    expect(normalize('５５５-０１', ['digits'])).toBe('55501');
    expect(normalize('  Ada@Example.COM ', ['email'])).toBe('ada@example.com');
    expect(normalize('Chloé Müller Ångström', ['unaccent'])).toBe('Chloe Muller Angstrom');
  });

  it('applies steps in order', () => {
    expect(normalize('  Blue  Bakery LLC ', ['trim', 'lower', 'collapse_spaces'])).toBe('blue bakery llc');
    // Collapsing before trimming leaves one space at each end: order is the user's to choose.
    expect(normalize('  a  ', ['collapse_spaces'])).toBe(' a ');
  });

  it('treats composed and decomposed text as the same', () => {
    const composed = 'Caf\u00e9';
    const decomposed = 'Cafe\u0301';
    expect(composed).not.toBe(decomposed);
    expect(normalize(composed, [])).toBe(normalize(decomposed, []));
    expect(normalize(decomposed, ['lower'])).toBe('café');
  });

  it('compares non-text values through their text and keeps null', () => {
    expect(normalize(5551234567, [])).toBe('5551234567');
    expect(normalize('5551234567', ['digits'])).toBe(normalize(5551234567, ['digits']));
    expect(normalize(true, [])).toBe('true');
    expect(normalize({ a: 1 }, [])).toBe('{"a":1}');
    expect(normalize(null, ['trim'])).toBeNull();
    expect(normalize(undefined, [])).toBeNull();
  });

  it('is deterministic, whatever the locale', () => {
    // A Turkish locale would lower "I" to a dotless ı with toLocaleLowerCase.
    expect(normalize('ISTANBUL', ['lower'])).toBe('istanbul');
  });

  it('refuses unknown steps, listing the allowed ones', () => {
    let error: unknown;
    try {
      normalize('x', ['trim', 'shout']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BraidError);
    expect((error as BraidError).code).toBe('invalid_normalizer');
    expect((error as BraidError).message).toBe(
      `normalize[1]: unknown normalizer "shout"; allowed: ${NORMALIZE_STEPS.join(', ')}`,
    );
    expect(() => parseNormalizeSteps('trim', 'members[0].match.normalize')).toThrow(
      /^members\[0\]\.match\.normalize must be a list of steps/,
    );
  });
});

describe('matchKey', () => {
  it('normalizes the column and treats blanks as no key', () => {
    const steps = ['trim', 'lower', 'collapse_spaces'];
    expect(matchKey({ business_name: ' BLUE Bakery  LLC' }, 'business_name', steps)).toBe('blue bakery llc');
    expect(matchKey({ business_name: '   ' }, 'business_name', steps)).toBeNull();
    expect(matchKey({ business_name: null }, 'business_name', steps)).toBeNull();
    expect(matchKey({ phone: 'n/a' }, 'phone', ['digits'])).toBeNull();
    expect(matchKey({}, 'business_name', steps)).toBeNull();
  });
});
