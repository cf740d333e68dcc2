import { describe, expect, it } from 'vitest';
import { parseFilterJson, type Filter } from '../../src/model/filter.js';
import type { RowQuery } from '../../src/model/query.js';
import type { TableDefinition } from '../../src/model/schema.js';
import { coerceRow } from '../../src/model/values.js';
import { engines, useDatabase } from './engines.js';
import { expectBraidError, insertRows } from './helpers.js';

/**
 * Bad input is a 400 BraidError with a stable code that names the problem, the same on every
 * engine, and it never reaches the database half-done.
 */
const things: TableDefinition = {
  name: 'things',
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'name', type: 'string', maxLength: 20, nullable: true },
    { name: 'n', type: 'integer', nullable: true },
    { name: 'doc', type: 'json', nullable: true },
    { name: 'day', type: 'date', nullable: true },
  ],
  primaryKey: ['id'],
};

type Bad = [label: string, query: RowQuery, code: string, mentions: string[]];

const BAD_QUERIES: Bad[] = [
  ['unknown field in a filter', { filter: { field: 'nope', op: 'eq', value: 1 } }, 'unknown_field', ['nope']],
  [
    'unknown field nested in a filter',
    { filter: { and: [{ field: 'n', op: 'eq', value: 1 }, { not: { field: 'ghost"; --', op: 'isNull' } }] } },
    'unknown_field',
    ['ghost"; --'],
  ],
  ['unknown field in sort', { sort: [{ field: 'missing', dir: 'asc' }] }, 'unknown_field', ['missing']],
  ['unknown field in fields', { fields: ['name', 'absent'] }, 'unknown_field', ['absent']],
  ['text for an integer', { filter: { field: 'n', op: 'eq', value: 'abc' } }, 'invalid_value', ['n', 'abc']],
  [
    'text in an integer list',
    { filter: { field: 'n', op: 'in', value: [1, 'abc'] } },
    'invalid_value',
    ['n', 'abc'],
  ],
  [
    'an impossible date',
    { filter: { field: 'day', op: 'gt', value: '2023-02-29' } },
    'invalid_value',
    ['day', '2023-02-29'],
  ],
  [
    'a fraction for an integer',
    { filter: { field: 'n', op: 'lt', value: 1.5 } },
    'invalid_value',
    ['n', '1.5'],
  ],
  [
    'contains on an integer',
    { filter: { field: 'n', op: 'contains', value: '1' } },
    'unsupported_filter',
    ['n'],
  ],
  [
    'caseInsensitive on an integer',
    { filter: { field: 'n', op: 'eq', value: 1, caseInsensitive: true } },
    'unsupported_filter',
    ['n'],
  ],
  ['comparison on json', { filter: { field: 'doc', op: 'eq', value: 1 } }, 'unsupported_filter', ['doc']],
  [
    'a list that is not an array',
    { filter: { field: 'n', op: 'in', value: 1 } },
    'invalid_filter',
    ['array'],
  ],
  ['null inside in', { filter: { field: 'n', op: 'in', value: [1, null] } }, 'invalid_filter', ['isNull']],
  ['a missing value', { filter: { field: 'n', op: 'lt' } }, 'invalid_filter', ['value']],
  [
    'contains with a number',
    { filter: { field: 'name', op: 'contains', value: 1 } },
    'invalid_filter',
    ['string'],
  ],
  ['sort by json', { sort: [{ field: 'doc', dir: 'asc' }] }, 'invalid_sort', ['doc']],
];

/** JSON text as it arrives in `?filter=`, and what the error must name. */
const BAD_JSON: [text: string, mentions: string[]][] = [
  ['{"field":"n","op":"eq",', ['not valid JSON']],
  ['[]', ['filter must be an object']],
  ['{"field":"n","op":"like","value":1}', ['filter.op', 'eq, ne']],
  ['{"field":"","op":"eq","value":1}', ['filter.field']],
  ['{"and":{"field":"n","op":"eq"}}', ['filter.and must be an array']],
  ['{"or":[{"field":"n","op":"eq","value":1},42]}', ['filter.or[1]']],
  ['{"field":"name","op":"eq","value":"x","caseInsensitive":"yes"}', ['caseInsensitive']],
  [`${'{"not":'.repeat(40)}{"field":"n","op":"isNull"}${'}'.repeat(40)}`, ['nested deeper']],
];

describe.each(engines)('errors on $kind', (engine) => {
  const db = useDatabase(engine, [things], async (d) => {
    await insertRows(d, 'things', [
      { id: 1, name: 'one', n: 1 },
      { id: 2, name: 'two', n: 2 },
    ]);
  });

  it.each(BAD_QUERIES)('%s -> 400', async (_label, query, code, mentions) => {
    await expectBraidError(() => db.connector.select(db.table('things'), query), {
      status: 400,
      code,
      mentions,
    });
  });

  it.each(BAD_QUERIES.filter(([, q]) => q.filter))(
    '%s -> 400 from count() too',
    async (_label, query, code) => {
      await expectBraidError(() => db.connector.count(db.table('things'), query.filter), {
        status: 400,
        code,
      });
    },
  );

  it.each(BAD_QUERIES.filter(([, q]) => q.filter))(
    '%s -> 400 from stream() too',
    async (_label, query, code) => {
      await expectBraidError(
        async () => {
          for await (const _batch of db.connector.stream(db.table('things'), { filter: query.filter! })) {
            // consuming is what runs the query
          }
        },
        { status: 400, code },
      );
    },
  );

  it.each(BAD_JSON)('malformed filter JSON %s -> 400 invalid_filter', async (text, mentions) => {
    await expectBraidError(() => parseFilterJson(text), { status: 400, code: 'invalid_filter', mentions });
  });

  it('a filter with an unknown op that skipped JSON validation is still a 400', async () => {
    const filter = { field: 'n', op: 'like', value: 1 } as unknown as Filter;
    await expectBraidError(() => db.connector.select(db.table('things'), { filter }), {
      status: 400,
      code: 'invalid_filter',
      mentions: ['op'],
    });
  });

  it('a valid filter from JSON runs the same as the object form', async () => {
    const filter = parseFilterJson(
      '{"or":[{"field":"n","op":"eq","value":"2"},{"field":"name","op":"eq","value":"ONE","caseInsensitive":true}]}',
    );
    const page = await db.connector.select(db.table('things'), { filter });
    expect(page.rows.map((r) => r.id)).toEqual([1, 2]);
  });

  it('a wrong-type value in an update is refused naming field and value; the row is unchanged', async () => {
    const table = db.table('things');
    await expectBraidError(
      async () =>
        db.connector.update(
          table,
          { id: 1 },
          coerceRow(table, { name: 'changed', n: 'abc' }, { partial: true }),
        ),
      { status: 400, code: 'invalid_value', mentions: ['n', 'abc'] },
    );
    expect(await db.connector.getByKey(table, { id: 1 })).toMatchObject({ name: 'one', n: 1 });
  });

  it('unknown columns and over-long strings in a row are refused before anything is written', async () => {
    const table = db.table('things');
    await expectBraidError(() => insertRows(db, 'things', [{ id: 3 }, { id: 4, colour: 'red' }]), {
      status: 400,
      code: 'unknown_field',
      mentions: ['colour'],
    });
    await expectBraidError(() => insertRows(db, 'things', [{ id: 3, name: 'x'.repeat(21) }]), {
      status: 400,
      code: 'invalid_value',
      mentions: ['name'],
    });
    expect(await db.connector.count(table)).toBe(2);
  });

  it('a string longer than the column is refused by the connector too, not truncated', async () => {
    const table = db.table('things');
    const err = await db.connector.insert(table, [{ id: 5, name: 'y'.repeat(21) }]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, 'the insert succeeded: the value was stored or truncated').not.toBeNull();
    expect(await db.connector.getByKey(table, { id: 5 })).toBeNull();
  });
});
