import { describe, expect, it } from 'vitest';
import {
  compare,
  jaro,
  jaroWinkler,
  levenshteinDistance,
  levenshteinSimilarity,
  tokenSetSimilarity,
} from './comparators.js';

describe('jaroWinkler', () => {
  it('gives the published values', () => {
    expect(jaroWinkler('MARTHA', 'MARHTA')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('DWAYNE', 'DUANE')).toBeCloseTo(0.84, 3);
    expect(jaroWinkler('DIXON', 'DICKSONX')).toBeCloseTo(0.813, 3);
    expect(jaro('MARTHA', 'MARHTA')).toBeCloseTo(0.944, 3);
  });

  it('is symmetric and bounded', () => {
    expect(jaroWinkler('DUANE', 'DWAYNE')).toBe(jaroWinkler('DWAYNE', 'DUANE'));
    expect(jaroWinkler('same', 'same')).toBe(1);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
    expect(jaroWinkler('', '')).toBe(1);
    expect(jaroWinkler('a', '')).toBe(0);
    // The prefix scale is capped so a score never exceeds 1.
    expect(jaroWinkler('abcdx', 'abcdy', 5)).toBeLessThanOrEqual(1);
  });

  it('weighs the shared prefix with prefixScale', () => {
    expect(jaroWinkler('MARTHA', 'MARHTA', 0)).toBeCloseTo(jaro('MARTHA', 'MARHTA'), 12);
    expect(jaroWinkler('MARTHA', 'MARHTA', 0.2)).toBeGreaterThan(jaroWinkler('MARTHA', 'MARHTA'));
  });

  it('handles strings longer than its scratch buffers', () => {
    const long = 'ab'.repeat(200);
    expect(jaroWinkler(long, `${long}c`)).toBeGreaterThan(0.99);
  });
});

describe('levenshtein', () => {
  it('counts edits', () => {
    expect(levenshteinDistance('kitten', 'sitting')).toBe(3);
    expect(levenshteinDistance('flaw', 'lawn')).toBe(2);
    expect(levenshteinDistance('', 'abc')).toBe(3);
    expect(levenshteinDistance('abc', 'abc')).toBe(0);
  });

  it('answers 1 - distance / longer length', () => {
    expect(levenshteinSimilarity('kitten', 'sitting')).toBeCloseTo(1 - 3 / 7, 12);
    expect(levenshteinSimilarity('', '')).toBe(1);
    expect(levenshteinSimilarity('abc', '')).toBe(0);
  });
});

describe('tokenSetSimilarity', () => {
  it('ignores word order, punctuation and repeats', () => {
    expect(tokenSetSimilarity('Smith John', 'John Smith')).toBe(1);
    expect(tokenSetSimilarity('Smith, John', 'John  Smith John')).toBe(1);
  });

  it('is the Jaccard index of the word sets', () => {
    expect(tokenSetSimilarity('blue bakery llc', 'blue bakery')).toBeCloseTo(2 / 3, 12);
    expect(tokenSetSimilarity('a b', 'c d')).toBe(0);
    expect(tokenSetSimilarity('--', '')).toBe(1);
  });
});

describe('compare', () => {
  it('answers null without evidence on either side', () => {
    expect(compare('exact', null, 'a')).toBeNull();
    expect(compare('jaro_winkler', 'a', '')).toBeNull();
    expect(compare('digits', 'n/a', '5550104477')).toBeNull();
    expect(compare('numeric', 'abc', '1')).toBeNull();
  });

  it('compares exactly', () => {
    expect(compare('exact', 'a@x.org', 'a@x.org')).toBe(1);
    expect(compare('exact', 'a@x.org', 'A@x.org')).toBe(0);
  });

  it('compares digits, allowing a country code in front', () => {
    expect(compare('digits', '(555) 010-4477', '555.010.4477')).toBe(1);
    expect(compare('digits', '+1 555 010 4477', '555-010-4477')).toBe(1);
    expect(compare('digits', '+44 010 4477', '0104477')).toBe(1);
    // Fewer than 7 digits: a suffix is a coincidence, not a country code.
    expect(compare('digits', '1-4477', '4477')).toBe(0.8);
    expect(compare('digits', '555 010 4477', '555 010 4478')).toBeCloseTo(0.9, 12);
  });

  it('compares numbers relative to the larger magnitude', () => {
    expect(compare('numeric', '100', '90')).toBeCloseTo(0.9, 12);
    expect(compare('numeric', ' 0 ', '0')).toBe(1);
    expect(compare('numeric', '5', '-5')).toBe(0);
    expect(compare('numeric', '1e3', '1000')).toBe(1);
  });

  it('dispatches the string comparators', () => {
    expect(compare('jaro_winkler', 'MARTHA', 'MARHTA')).toBeCloseTo(0.961, 3);
    expect(compare('levenshtein', 'kitten', 'sitting')).toBeCloseTo(4 / 7, 12);
    expect(compare('token_set', 'Smith John', 'John Smith')).toBe(1);
  });
});
