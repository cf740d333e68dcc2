import { describe, expect, it } from 'vitest';
import { BraidError } from '../model/errors.js';
import { jaroWinkler } from './comparators.js';
import { findFuzzyPairs, fuzzyMatch, type FuzzyConfig, type MatchRecord } from './dedupe.js';
import { parseFuzzyConfig } from './fuzzy-config.js';

const NAME = ['trim', 'lower'] as const;

const people: FuzzyConfig = {
  fields: [
    { field: 'first_name', comparator: 'jaro_winkler', weight: 1, normalize: [...NAME] },
    { field: 'last_name', comparator: 'jaro_winkler', weight: 1, normalize: [...NAME] },
    { field: 'email', comparator: 'exact', weight: 1, normalize: ['email'] },
    { field: 'phone', comparator: 'digits', weight: 1 },
  ],
  threshold: 0.9,
  blocking: [
    { field: 'last_name', key: 'soundex' },
    { field: 'phone', key: 'digits_last7' },
  ],
};

function records(rows: Record<string, string | null>[]): MatchRecord[] {
  return rows.map((values, id) => ({ id, values }));
}

const sample = records([
  { first_name: 'Jon', last_name: 'Smith', email: 'jon@example.org', phone: '555-010-4477' },
  { first_name: 'John', last_name: 'SMITH ', email: ' JON@example.org', phone: '+1 555 010 4477' },
  { first_name: 'Mary', last_name: 'Jones', email: 'mary@example.org', phone: '555-123-9999' },
  { first_name: 'Marie', last_name: 'Jones', email: null, phone: '(555) 123-9999' },
  { first_name: 'Bob', last_name: 'Smith', email: 'bob@example.org', phone: '555-777-0000' },
]);

describe('findFuzzyPairs', () => {
  it('finds the duplicates and explains each score', () => {
    const pairs = findFuzzyPairs(sample, people);
    expect(pairs.map((p) => [p.a, p.b])).toEqual([
      [0, 1],
      [2, 3],
    ]);
    const [johns, marys] = pairs;
    const jon = jaroWinkler('jon', 'john');
    expect(johns!.fields).toEqual([
      { field: 'first_name', comparator: 'jaro_winkler', score: jon, a: 'jon', b: 'john' },
      { field: 'last_name', comparator: 'jaro_winkler', score: 1, a: 'smith', b: 'smith' },
      { field: 'email', comparator: 'exact', score: 1, a: 'jon@example.org', b: 'jon@example.org' },
      { field: 'phone', comparator: 'digits', score: 1, a: '555-010-4477', b: '+1 555 010 4477' },
    ]);
    expect(johns!.score).toBeCloseTo((jon + 3) / 4, 12);
    expect(johns!.blockedBy).toBe('last_name:soundex=S530');
    expect(marys!.blockedBy).toBe('last_name:soundex=J520');
  });

  it('leaves fields null on either side out of the score', () => {
    const marys = findFuzzyPairs(sample, people).find((p) => p.a === 2)!;
    const first = jaroWinkler('mary', 'marie');
    expect(marys.fields[2]).toEqual({
      field: 'email',
      comparator: 'exact',
      score: null,
      a: 'mary@example.org',
      b: null,
    });
    // Over three fields; counting the missing email as 0 would have given (first + 2) / 4 < 0.9.
    expect(marys.score).toBeCloseTo((first + 2) / 3, 12);
  });

  it('compares a pair once however many passes block it together', () => {
    const { stats } = fuzzyMatch(sample, people);
    // Soundex: Smith {0, 1, 4} gives 3 pairs, Jones {2, 3} 1; the phone pass only repeats 0-1 and 2-3.
    expect(stats).toEqual({ records: 5, comparedPairs: 4, matchedPairs: 2, blocks: 4, windowedBlocks: 0 });
  });

  it('reports the first pass that compared a pair', () => {
    const byPhoneOnly = records([
      { first_name: 'Ann', last_name: 'Lee', email: 'ann@example.org', phone: '555 222 3333' },
      { first_name: 'Ann', last_name: 'Leigh', email: 'ann@example.org', phone: '5552223333' },
    ]);
    const pairs = findFuzzyPairs(byPhoneOnly, { ...people, threshold: 0.8 });
    expect(pairs).toHaveLength(1);
    expect(pairs[0]!.blockedBy).toBe('phone:digits_last7=2223333');
  });

  it('blocks on a field that is not compared, through its raw value', () => {
    const byZip = records([
      { name: 'Ann Lee', zip: '02139' },
      { name: 'Ann Lee', zip: '02139' },
      { name: 'Ann Lee', zip: '10001' },
    ]);
    const config: FuzzyConfig = {
      fields: [{ field: 'name', comparator: 'token_set', weight: 1 }],
      threshold: 1,
      blocking: [{ field: 'zip', key: 'exact' }],
    };
    expect(findFuzzyPairs(byZip, config).map((p) => [p.a, p.b, p.blockedBy])).toEqual([
      [0, 1, 'zip:exact=02139'],
    ]);
  });

  it('matches a score exactly at the threshold and not one just below', () => {
    const config: FuzzyConfig = {
      fields: [
        { field: 'x', comparator: 'exact', weight: 1 },
        { field: 'y', comparator: 'exact', weight: 2 },
      ],
      threshold: 2 / 3,
      blocking: [{ field: 'y', key: 'exact' }],
    };
    const pair = records([
      { x: 'a', y: 'same' },
      { x: 'b', y: 'same' },
    ]);
    expect(findFuzzyPairs(pair, config).map((p) => p.score)).toEqual([2 / 3]);
    expect(findFuzzyPairs(pair, { ...config, threshold: 0.6667 })).toEqual([]);
    // (0.1 + 0.7) / (0.1 + 0.7 + 0.2) is 0.7999999999999999 in floating point: still a match at 0.8.
    const tenths: FuzzyConfig = {
      fields: [0.1, 0.7, 0.2].map((weight, i) => ({ field: `f${i}`, comparator: 'exact' as const, weight })),
      threshold: 0.8,
      blocking: [{ field: 'f0', key: 'exact' }],
    };
    const close = records([
      { f0: 'a', f1: 'b', f2: 'c' },
      { f0: 'a', f1: 'b', f2: 'd' },
    ]);
    expect(findFuzzyPairs(close, tenths)).toHaveLength(1);
    expect(findFuzzyPairs(close, { ...tenths, threshold: 0.8000001 })).toEqual([]);
  });

  it('needs evidence from minFields fields', () => {
    const sparse = records([
      { email: 'ann@example.org', phone: null },
      { email: 'ann@example.org', phone: '' },
    ]);
    const config: FuzzyConfig = {
      fields: [
        { field: 'email', comparator: 'exact', weight: 1 },
        { field: 'phone', comparator: 'digits', weight: 1 },
      ],
      threshold: 0.9,
      blocking: [{ field: 'email', key: 'exact' }],
    };
    expect(findFuzzyPairs(sparse, config)).toEqual([]);
    expect(findFuzzyPairs(sparse, { ...config, minFields: 1 })).toHaveLength(1);
    // With a single field, the default asks for that one field only.
    expect(findFuzzyPairs(sparse, { ...config, fields: config.fields.slice(0, 1) })).toHaveLength(1);
  });

  it('compares an oversize block with a sliding window and still finds adjacent duplicates', () => {
    const smiths = records(
      ['Carol', 'alice', 'Dave', 'Bob', 'Alice ', 'Erin', 'Frank'].map((first_name, i) => ({
        first_name,
        last_name: 'Smith',
        email: i === 2 || i === 6 ? 'shared@example.org' : `${i}@example.org`,
      })),
    );
    const config: FuzzyConfig = {
      fields: [
        { field: 'first_name', comparator: 'jaro_winkler', weight: 1, normalize: [...NAME] },
        { field: 'last_name', comparator: 'exact', weight: 1 },
      ],
      threshold: 0.95,
      blocking: [
        { field: 'last_name', key: 'exact' },
        { field: 'email', key: 'exact' },
      ],
      maxBlockSize: 3,
      window: 2,
    };
    const { pairs, stats } = fuzzyMatch(smiths, config);
    expect(pairs.map((p) => [p.a, p.b, p.blockedBy])).toEqual([[1, 4, 'last_name:exact=Smith']]);
    // 7 records in order alice, alice, bob, carol, dave, erin, frank: 6 neighbours instead of 21
    // pairs. Dave (2) and Frank (6) are not neighbours, so the email pass compares them: 7 in all.
    expect(stats).toMatchObject({ comparedPairs: 7, blocks: 2, windowedBlocks: 1 });
    expect(fuzzyMatch(smiths, { ...config, maxBlockSize: 7 }).stats.comparedPairs).toBe(21);
  });

  it('refuses records whose ids are not dense', () => {
    expect(() => findFuzzyPairs([{ id: 1, values: {} }], people)).toThrow(RangeError);
  });
});

describe('parseFuzzyConfig', () => {
  const valid = {
    fields: [
      { field: 'name', comparator: 'jaro_winkler', weight: 2, normalize: ['lower'] },
      { field: 'email', comparator: 'exact' },
    ],
    threshold: 0.9,
    blocking: [{ field: 'name', key: 'soundex' }],
  };

  it('fills the defaults', () => {
    expect(parseFuzzyConfig(valid)).toEqual({
      fields: [
        { field: 'name', comparator: 'jaro_winkler', weight: 2, normalize: ['lower'] },
        { field: 'email', comparator: 'exact', weight: 1, normalize: [] },
      ],
      threshold: 0.9,
      minFields: 2,
      blocking: [{ field: 'name', key: 'soundex' }],
      maxBlockSize: 500,
      window: 50,
    });
    expect(parseFuzzyConfig({ ...valid, fields: valid.fields.slice(0, 1) }).minFields).toBe(1);
  });

  function errorOf(input: unknown): BraidError {
    try {
      parseFuzzyConfig(input, 'job.fuzzy');
    } catch (err) {
      expect(err).toBeInstanceOf(BraidError);
      return err as BraidError;
    }
    throw new Error('expected parseFuzzyConfig to throw');
  }

  it.each([
    ['not an object', [], 'job.fuzzy'],
    ['no fields', { ...valid, fields: [] }, 'job.fuzzy.fields'],
    ['a field that is not an object', { ...valid, fields: ['name'] }, 'job.fuzzy.fields[0]'],
    [
      'an empty field name',
      { ...valid, fields: [{ field: ' ', comparator: 'exact' }] },
      'job.fuzzy.fields[0].field',
    ],
    [
      'an unknown comparator',
      { ...valid, fields: [{ field: 'n', comparator: 'soundex' }] },
      'job.fuzzy.fields[0].comparator',
    ],
    [
      'a zero weight',
      { ...valid, fields: [{ field: 'n', comparator: 'exact', weight: 0 }] },
      'job.fuzzy.fields[0].weight',
    ],
    [
      'an unknown normalizer',
      { ...valid, fields: [{ field: 'n', comparator: 'exact', normalize: ['shout'] }] },
      'job.fuzzy.fields[0].normalize[0]',
    ],
    ['a threshold above 1', { ...valid, threshold: 1.5 }, 'job.fuzzy.threshold'],
    ['a missing threshold', { ...valid, threshold: undefined }, 'job.fuzzy.threshold'],
    ['minFields above the field count', { ...valid, minFields: 3 }, 'job.fuzzy.minFields'],
    ['a fractional minFields', { ...valid, minFields: 1.5 }, 'job.fuzzy.minFields'],
    ['no blocking', { ...valid, blocking: [] }, 'job.fuzzy.blocking'],
    [
      'an unknown blocking key',
      { ...valid, blocking: [{ field: 'name', key: 'metaphone' }] },
      'job.fuzzy.blocking[0].key',
    ],
    ['a window of 1', { ...valid, window: 1 }, 'job.fuzzy.window'],
    ['a maxBlockSize that is not a number', { ...valid, maxBlockSize: '500' }, 'job.fuzzy.maxBlockSize'],
    ['a misspelt setting', { ...valid, treshold: 0.8 }, 'job.fuzzy.treshold'],
  ])('refuses %s, naming the path', (_what, input, path) => {
    const err = errorOf(input);
    expect(err.code).toBe('invalid_fuzzy');
    expect(err.status).toBe(400);
    expect(err.details?.path).toBe(path);
    expect(err.message).toContain(path);
  });
});
