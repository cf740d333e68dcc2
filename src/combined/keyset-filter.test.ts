import { describe, expect, it } from 'vitest';
import { keysetAfter } from './keyset-filter.js';

describe('keysetAfter', () => {
  it('builds the lexicographic condition over the driver columns', () => {
    expect(
      keysetAfter(
        [
          { dir: 'asc', column: 'city' },
          { dir: 'asc', column: 'id' },
        ],
        ['Oslo', 7],
        true,
      ),
    ).toEqual({
      or: [
        { field: 'city', op: 'gt', value: 'Oslo' },
        {
          and: [
            { field: 'city', op: 'eq', value: 'Oslo' },
            { field: 'id', op: 'gt', value: 7 },
          ],
        },
      ],
    });
  });

  it('follows the NULL rule: after NULL ascending is any value, nothing is after a value descending but NULL', () => {
    expect(keysetAfter([{ dir: 'asc', column: 'c' }], [null], true)).toEqual({ field: 'c', op: 'notNull' });
    expect(keysetAfter([{ dir: 'desc', column: 'c' }], [5], true)).toEqual({
      or: [
        { field: 'c', op: 'lt', value: 5 },
        { field: 'c', op: 'isNull' },
      ],
    });
    expect(keysetAfter([{ dir: 'desc', column: 'c' }], [null], true)).toBe(false);
  });

  it('decides terms that are NULL throughout the stream without a condition', () => {
    // The stream's value is NULL: ascending it sorts before any value, so nothing of it is after 5.
    expect(keysetAfter([{ dir: 'asc', column: null }], [5], true)).toBe(false);
    expect(keysetAfter([{ dir: 'desc', column: null }], [5], true)).toBe(true);
    // At or after NULL, on the tie: the rest of the stream.
    expect(keysetAfter([{ dir: 'asc', column: null }], [null], false)).toBe(true);
    expect(
      keysetAfter(
        [
          { dir: 'asc', column: null },
          { dir: 'asc', column: 'id' },
        ],
        [null, 3],
        true,
      ),
    ).toEqual({
      field: 'id',
      op: 'gt',
      value: 3,
    });
  });
});
