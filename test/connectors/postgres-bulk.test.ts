import { describe, expect, it } from 'vitest';
import type { TableSchema } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { postgresAvailable, POSTGRES_URL, uniqueName } from '../support/servers.js';
import { usePostgresSchema } from './postgres-fixture.js';

const available = await postgresAvailable();

const SCHEMA = `
  create table events (
    id int primary key,
    kind text not null default 'plain',
    payload jsonb,
    note text,
    amount numeric(14, 4),
    at timestamptz
  );
`;

const ROWS = 50_000;

/** An async source that also records how far ahead of the database it was allowed to run. */
async function* generate(total: number, batch: number, produced: { count: number }): AsyncGenerator<Row[]> {
  for (let start = 0; start < total; start += batch) {
    const rows: Row[] = [];
    for (let id = start; id < Math.min(total, start + batch); id++) {
      rows.push({
        id,
        payload: { id, tags: ['a', 'b'], text: 'tab\there' },
        note: id % 7 === 0 ? null : `line ${id}\nwith \\ backslash`,
        amount: `${id}.1234`,
        at: '2024-05-01T08:00:00.000001Z',
      });
    }
    produced.count += rows.length;
    yield rows;
  }
}

describe.skipIf(!available)('PostgreSQL bulk load and streaming', () => {
  const pg = usePostgresSchema('bpg_bulk', SCHEMA);
  let events: TableSchema;

  it(`loads ${ROWS} rows with COPY in one transaction`, async () => {
    events = await pg.table('events');
    const produced = { count: 0 };
    const started = performance.now();
    const result = await pg.connector.bulkLoad(events, generate(ROWS, 2000, produced));
    console.info(`COPY of ${ROWS} rows took ${(performance.now() - started).toFixed(0)} ms`);
    expect(result).toEqual({ rows: ROWS });
    expect(produced.count).toBe(ROWS);
    expect(await pg.connector.count(events)).toBe(ROWS);
    expect(await pg.connector.getByKey(events, { id: 12_345 })).toEqual({
      id: 12_345,
      kind: 'plain',
      payload: { id: 12_345, tags: ['a', 'b'], text: 'tab\there' },
      note: 'line 12345\nwith \\ backslash',
      amount: '12345.1234',
      at: '2024-05-01T08:00:00.000001Z',
    });
    expect(await pg.connector.count(events, { field: 'note', op: 'isNull' })).toBe(Math.ceil(ROWS / 7));
  });

  it('applies back-pressure: the source never runs far ahead of what the server has read', async () => {
    const watcher = pg.open();
    const note = 'x'.repeat(20_000);
    const batches = 80;
    let produced = 0;
    let maxAhead = 0;
    async function* rows(): AsyncGenerator<Row[]> {
      for (let batch = 0; batch < batches; batch++) {
        // Sampled every 8th batch, so without back-pressure nothing would slow the source down.
        if (batch % 8 === 7) {
          const { rows: progress } = await watcher.rawQuery(
            `select coalesce(sum(tuples_processed), 0)::int as n from pg_stat_progress_copy p
               join pg_class c on c.oid = p.relid where c.relname = 'events' and c.relnamespace = :schema::regnamespace`,
            { schema: pg.schema },
          );
          maxAhead = Math.max(maxAhead, produced - Number(progress[0]!.n));
        }
        produced += 100;
        yield Array.from({ length: 100 }, (_, i) => ({ id: 1_000_000 + batch * 100 + i, note }));
      }
    }
    expect(await pg.connector.bulkLoad(events, rows())).toEqual({ rows: batches * 100 });
    // 160 MB of rows. Without waiting for the socket the source runs through nearly all of them
    // before the server has read much; with it, only what the socket buffers hold (at most tens of
    // MB, about 1 800 rows here) and one batch are in flight.
    console.info(`COPY source was at most ${maxAhead} rows ahead of the server`);
    expect(maxAhead).toBeLessThan((batches * 100) / 2);
    await pg.exec('delete from events where id >= 1000000');
  });

  it('is not cut off by the statement timeout when the source is slower than it', async () => {
    const impatient = pg.open({ timeoutMs: 300 });
    async function* slow(): AsyncGenerator<Row[]> {
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        yield [{ id: 2_000_000 + i }];
      }
    }
    const inside = await impatient.transaction(async (tx) => {
      expect(await tx.bulkLoad(events, slow())).toEqual({ rows: 5 });
      // The caller's own statements in the same transaction get their timeout back.
      return (await tx.rawQuery(`select current_setting('statement_timeout') as t`)).rows[0]!.t;
    });
    expect(inside).toBe('300ms');
    await pg.exec('delete from events where id >= 2000000');
    expect(await impatient.bulkLoad(events, slow())).toEqual({ rows: 5 });
    expect(await impatient.count(events, { field: 'id', op: 'gte', value: 2_000_000 })).toBe(5);
    await pg.exec('delete from events where id >= 2000000');
  });

  it('loads nothing when a row fails, and says which key', async () => {
    const rows = [{ id: ROWS + 1 }, { id: ROWS + 2 }, { id: 5 }];
    await expect(pg.connector.bulkLoad(events, [rows])).rejects.toMatchObject({
      status: 409,
      code: 'unique_violation',
      message: expect.stringContaining('id = 5'),
    });
    expect(await pg.connector.getByKey(events, { id: ROWS + 1 })).toBeNull();
  });

  it('rolls back when the source fails mid-COPY, and the connector keeps working', async () => {
    async function* failing(): AsyncGenerator<Row[]> {
      yield [{ id: ROWS + 10 }, { id: ROWS + 11 }];
      throw new Error('source broke');
    }
    await expect(pg.connector.bulkLoad(events, failing())).rejects.toThrow('source broke');
    expect(await pg.connector.getByKey(events, { id: ROWS + 10 })).toBeNull();
    expect(await pg.connector.count(events)).toBe(ROWS);
  });

  it('starts a new COPY when the column set changes, so absent columns get their defaults', async () => {
    const result = await pg.connector.bulkLoad(events, [
      [{ id: ROWS + 20, kind: 'special' }, { id: ROWS + 21 }],
      [{ id: ROWS + 22, kind: 'special' }],
    ]);
    expect(result).toEqual({ rows: 3 });
    const page = await pg.connector.select(events, { filter: { field: 'id', op: 'gte', value: ROWS + 20 } });
    expect(page.rows.map((r) => [r.id, r.kind])).toEqual([
      [ROWS + 20, 'special'],
      [ROWS + 21, 'plain'],
      [ROWS + 22, 'special'],
    ]);
    await pg.exec(`delete from events where id >= ${ROWS}`);
  });

  it('streams every matching row in batches of batchSize, in sort order', async () => {
    const sizes: number[] = [];
    let previous = Infinity;
    let ordered = true;
    let total = 0;
    for await (const batch of pg.connector.stream(events, {
      filter: { field: 'note', op: 'notNull' },
      sort: [{ field: 'amount', dir: 'desc' }],
      batchSize: 4096,
    })) {
      sizes.push(batch.length);
      for (const row of batch) {
        if (Number(row.amount) >= previous) ordered = false;
        previous = Number(row.amount);
      }
      total += batch.length;
    }
    const expected = ROWS - Math.ceil(ROWS / 7);
    expect(total).toBe(expected);
    expect(ordered).toBe(true);
    expect(sizes.slice(0, -1).every((n) => n === 4096)).toBe(true);
    expect(sizes.length).toBe(Math.ceil(expected / 4096));
  });

  it('releases its connection when the consumer stops early', async () => {
    const appName = uniqueName('braid_stream');
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('application_name', appName);
    const small = pg.open({ url: url.toString() });
    for (let i = 0; i < 15; i++) {
      for await (const batch of small.stream(events, { batchSize: 10 })) {
        expect(batch).toHaveLength(10);
        break;
      }
    }
    // With leaked cursor transactions the pool (10 connections) would be exhausted by now.
    expect(await small.count(events)).toBe(ROWS);
    const { rows } = await small.rawQuery(
      `select count(*)::int as n from pg_stat_activity where application_name = :app and state = 'idle in transaction'`,
      { app: appName },
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('streams inside a transaction and sees its uncommitted rows', async () => {
    const seen = await pg.connector.transaction(async (tx) => {
      await tx.insert(events, [{ id: -1, note: 'uncommitted' }]);
      const ids: unknown[] = [];
      for await (const batch of tx.stream(events, {
        filter: { field: 'id', op: 'lt', value: 2 },
        batchSize: 1,
      })) {
        ids.push(...batch.map((r) => r.id));
      }
      return ids;
    });
    expect(seen).toEqual([-1, 0, 1]);
  });

  it('refuses a batch size out of range', async () => {
    const iterate = async () => {
      for await (const _ of pg.connector.stream(events, { batchSize: 0 })) break;
    };
    await expect(iterate()).rejects.toMatchObject({ status: 400, code: 'invalid_limit' });
  });
});
