import { describe, expect, it } from 'vitest';
import { MysqlConnector } from '../../src/connectors/mysql/mysql-connector.js';
import type { TableSchema } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { expectFailure, MYSQL_AVAILABLE, useMysqlDatabase } from './mysql-fixture.js';

const DDL = `
create table loaded (
  id bigint primary key, name varchar(100) not null, note text, amount decimal(38,9),
  at datetime(6), stamp timestamp(6) null, flag tinyint(1), bit1 bit(1),
  bin longblob, doc json, size enum('s','m','l') default 's', ref uuid
);
create table numbers (id int primary key, n int not null, label varchar(20));
`;

const TRICKY = 'tab\there\nnewline\r\\N back\\slash \\t \0nul ü🎉';
const BYTES = Buffer.from([0, 9, 10, 13, 92, 78, 255, 39, 34]).toString('base64');

function row(i: number): Row {
  return {
    id: String(i),
    name: `name ${i}`,
    note: i % 7 === 0 ? null : i === 3 ? TRICKY : `note ${i}`,
    amount: `${i}.123456789`,
    at: '2024-01-02T03:04:05.123456',
    stamp: '2024-01-02T03:04:05.654321Z',
    flag: i % 2 === 0,
    bit1: i % 3 === 0,
    bin: i % 5 === 0 ? null : BYTES,
    doc: i === 3 ? { s: TRICKY, n: [1, null, true] } : { i },
    size: ['s', 'm', 'l'][i % 3],
    ref: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
  };
}

function* batches(count: number, size: number, from = 1): Generator<Row[]> {
  for (let start = from; start < from + count; start += size) {
    const batch: Row[] = [];
    for (let i = start; i < Math.min(start + size, from + count); i++) batch.push(row(i));
    yield batch;
  }
}

async function globalLoads(connector: MysqlConnector): Promise<number> {
  const { rows } = await connector.rawQuery("show global status like 'Com_load'");
  return Number(rows[0]!.Value);
}

describe.skipIf(!MYSQL_AVAILABLE)('MySQL bulkLoad and stream', () => {
  const db = useMysqlDatabase('bulk', DDL);
  let loaded: TableSchema;
  let numbers: TableSchema;

  it(
    'bulkLoad streams 50 000 rows through LOAD DATA and answers the count',
    { timeout: 60_000 },
    async () => {
      loaded = await db.table('loaded');
      numbers = await db.table('numbers');
      const connector = db.connector as MysqlConnector;
      const loadsBefore = await globalLoads(connector);
      const result = await connector.bulkLoad(loaded, batches(50_000, 2_000));
      expect(result).toEqual({ rows: 50_000 });
      expect(await connector.count(loaded)).toBe(50_000);
      expect(await globalLoads(connector)).toBeGreaterThan(loadsBefore);
    },
  );

  it('every escaped value comes back exactly: tabs, newlines, backslashes, \\N, NUL, binary, JSON, NULL', async () => {
    for (const id of [3, 7, 10, 49_999]) {
      expect(await db.connector.getByKey(loaded, { id: String(id) })).toEqual(row(id));
    }
  });

  it('rows with different column sets in one load each keep their defaults', async () => {
    const result = await db.connector.bulkLoad(loaded, [
      [
        { id: '60001', name: 'a' },
        { id: '60002', name: 'b', size: 'l' },
      ],
      [{ id: '60003', name: 'c' }],
    ]);
    expect(result).toEqual({ rows: 3 });
    const page = await db.connector.select(loaded, {
      filter: { field: 'id', op: 'gte', value: '60001' },
      fields: ['id', 'size', 'note'],
    });
    expect(page.rows).toEqual([
      { id: '60001', size: 's', note: null },
      { id: '60002', size: 'l', note: null },
      { id: '60003', size: 's', note: null },
    ]);
  });

  it('a duplicate key fails the whole load (LOAD DATA LOCAL would only warn) and nothing is kept', async () => {
    await expectFailure(
      () =>
        db.connector.bulkLoad(numbers, [
          [
            { id: 1, n: 1 },
            { id: 2, n: 2 },
          ],
          [{ id: 1, n: 3 }],
        ]),
      409,
      'unique_violation',
      ['primary key', '"1"'],
    );
    expect(await db.connector.count(numbers)).toBe(0);
  });

  it('a bad value or a missing required value fails the load instead of being stored as 0', async () => {
    await expectFailure(() => db.connector.bulkLoad(numbers, [[{ id: 1, n: 'abc' }]]), 400, 'invalid_value', [
      'abc',
      'n',
    ]);
    await expectFailure(() => db.connector.bulkLoad(numbers, [[{ id: 1, n: null }]]), 400, 'missing_value');
    await expectFailure(
      () => db.connector.bulkLoad(numbers, [[{ id: 1, n: 1, label: 'x'.repeat(21) }]]),
      400,
      'invalid_value',
      ['label'],
    );
    expect(await db.connector.count(numbers)).toBe(0);
  });

  it('an error thrown by the source of the batches rolls the load back', async () => {
    async function* failing(): AsyncGenerator<Row[]> {
      yield [{ id: 1, n: 1 }];
      throw new Error('source broke');
    }
    await expect(db.connector.bulkLoad(numbers, failing())).rejects.toThrow(/source broke/);
    expect(await db.connector.count(numbers)).toBe(0);
  });

  it('the multi-row INSERT path loads the same rows (used when the server refuses LOAD DATA)', async () => {
    const connector = db.connector as MysqlConnector;
    expect(
      await connector.insertBulk(numbers, [
        [
          { id: 1, n: 1, label: 'a\tb\\c' },
          { id: 2, n: 2 },
        ],
      ]),
    ).toEqual({ rows: 2 });
    expect((await connector.select(numbers, {})).rows).toEqual([
      { id: 1, n: 1, label: 'a\tb\\c' },
      { id: 2, n: 2, label: null },
    ]);
  });

  it('stream yields every row once, in order, in batches of the requested size', async () => {
    const sizes: number[] = [];
    let expected = 1;
    let ordered = true;
    for await (const batch of db.connector.stream(loaded, { batchSize: 4_000 })) {
      sizes.push(batch.length);
      for (const r of batch)
        ordered &&= Number(r.id) === expected++ || (expected > 50_001 && Number(r.id) > 60_000);
    }
    expect(sizes.slice(0, 12)).toEqual(Array(12).fill(4_000));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(50_003);
    expect(ordered).toBe(true);
  });

  it('stream applies filter and sort, and a stream left early frees its connection', async () => {
    const seen: unknown[] = [];
    for await (const batch of db.connector.stream(loaded, {
      filter: { field: 'name', op: 'startsWith', value: 'name 4999' },
      sort: [{ field: 'id', dir: 'desc' }],
      batchSize: 3,
    })) {
      seen.push(...batch.map((r) => r.id));
    }
    expect(seen).toEqual([
      '49999',
      '49998',
      '49997',
      '49996',
      '49995',
      '49994',
      '49993',
      '49992',
      '49991',
      '49990',
      '4999',
    ]);

    for (let i = 0; i < 15; i++) {
      // More early exits than the pool has connections: each must be given back or destroyed.
      for await (const batch of db.connector.stream(loaded, { batchSize: 10 })) {
        expect(batch).toHaveLength(10);
        break;
      }
    }
    expect(await db.connector.count(loaded)).toBe(50_003);
  });

  it('close() ends the pool of a connector that only streamed (no query through Kysely)', async () => {
    // An export from a cached schema never runs a query through Kysely: its raw connections must
    // still be closed, or the process (a `braid export`) would not exit.
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    const fresh = db.open();
    let streamed = 0;
    for await (const rows of fresh.stream(numbers, { batchSize: 10 })) streamed += rows.length;
    expect(streamed).toBeGreaterThan(0);
    expect(sockets()).toBeGreaterThan(before);
    await fresh.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sockets()).toBe(before);
  });

  it("inside a transaction, stream sees the transaction's own writes", async () => {
    await db.connector.transaction(async (tx) => {
      await tx.insert(numbers, [{ id: 100, n: 100 }]);
      const ids: unknown[] = [];
      for await (const batch of tx.stream(numbers, { filter: { field: 'n', op: 'gte', value: 100 } })) {
        ids.push(...batch.map((r) => r.id));
      }
      expect(ids).toEqual([100]);
    });
  });
});
