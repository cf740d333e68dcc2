import { describe, expect, it } from 'vitest';
import { combinedQuery } from './combined-service.js';

describe('combinedQuery', () => {
  it('turns query-string text into a combined query', () => {
    expect(
      combinedQuery({
        filter: '{"field":"email","op":"endsWith","value":"@acme.com"}',
        sort: 'a,-b',
        limit: '20',
        offset: '40',
        fields: 'a,b',
        count: 'true',
      }),
    ).toEqual({
      filter: { field: 'email', op: 'endsWith', value: '@acme.com' },
      sort: [
        { field: 'a', dir: 'asc' },
        { field: 'b', dir: 'desc' },
      ],
      limit: 20,
      offset: 40,
      fields: ['a', 'b'],
      count: true,
    });
    expect(combinedQuery({ count: 'estimate', cursor: 'c' })).toEqual({ count: 'estimate', cursor: 'c' });
    expect(combinedQuery({ count: 'false' })).toEqual({});
    expect(combinedQuery({ count: true, limit: 5 })).toEqual({ count: true, limit: 5 });
  });

  it('names what is wrong', () => {
    expect(() => combinedQuery({ count: 'maybe' })).toThrow(
      expect.objectContaining({ code: 'invalid_count' }),
    );
    expect(() => combinedQuery({ limit: 'ten' })).toThrow(expect.objectContaining({ code: 'invalid_limit' }));
    expect(() => combinedQuery({ filter: '{' })).toThrow(expect.objectContaining({ code: 'invalid_filter' }));
    expect(() => combinedQuery({ sort: 'a,,b' })).toThrow(expect.objectContaining({ code: 'invalid_sort' }));
  });
});
