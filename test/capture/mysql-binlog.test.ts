import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CaptureRun } from '../../src/capture/capture-strategy.js';
import { createMysqlDatabase, mysqlAvailable } from '../support/servers.js';
import { binlogFixture, ids, recorder, selectById, waitFor } from './mysql-binlog-helpers.js';

const available = await mysqlAvailable();

const SCHEMA = [
  `create table items (id bigint primary key, u bigint unsigned, amount decimal(38,9), at datetime(6),
     ts timestamp(6) null, flag tinyint(1), doc json, data varbinary(64), fixed binary(4), label varchar(100),
     body text, mood enum('calm','busy'), tags set('a','b','c'), n int unsigned, s smallint, m mediumint,
     t tinyint, f double, day date, clock time(3), y year, c char(5), neg decimal(10,2), ti tinyint unsigned, fl float)`,
  `create table other (id int primary key, v varchar(20))`,
];

describe.skipIf(!available)('MySQL/MariaDB binlog capture: streaming', () => {
  let fx: Awaited<ReturnType<typeof binlogFixture>>;
  let run: CaptureRun | undefined;
  const rec = recorder();

  beforeEach(async () => {
    rec.batches.length = 0;
    fx = await binlogFixture(SCHEMA, ['items']);
    run = await fx.capture.start(null, rec.handler);
  });

  afterEach(async () => {
    await run?.stop().catch(() => {});
    await fx?.close();
  });

  it('delivers inserts, updates and deletes of another tool in commit order, with select() values', async () => {
    const started = Date.now();
    await fx.other.query(
      `insert into items values (9223372036854775807, 18446744073709551615, 12345678901234567890123456789.123456789,
         '2024-02-29 23:59:59.123456', '2024-03-01 12:00:00.5', 1, '{"a": [1, "x"], "b": null}', x'00ff10',
         x'01020304', 'héllo wörld 🎉', 'body', 'busy', 'a,c', 4294967295, -32768, -8388608, -128, 1.5,
         '2024-01-02', '12:34:56.789', 2024, 'ab', -12.34, 255, 123456.7)`,
    );
    await fx.other.query(
      `insert into items (id, u, amount, at, ts, neg, s, t, f, clock, fl) values (-2, 0,
         -98765432109876543210987654321.000000001, '1000-01-01 00:00:00', '1970-01-01 00:00:01', -0.01,
         32767, 127, -0.000001, '-12:00:00', 3.14159265)`,
    );
    await fx.other.query(`insert into items (id, label) values (1, 'one')`);
    await fx.other.query(`update items set label = 'uno', flag = 0 where id = 1`);
    await fx.other.query(`delete from items where id = 1`);
    const events = await waitFor('five events', () => (rec.events().length >= 5 ? rec.events() : undefined));
    const latency = rec.batches[0]!.at - started;
    expect(latency).toBeLessThan(5_000);

    expect(ids(events)).toEqual([
      'insert:9223372036854775807',
      'insert:-2',
      'insert:1',
      'update:1',
      'delete:1',
    ]);
    const selected = await selectById(fx.connector, fx.table('items'));
    // Exactly what select() answers for the row that still exists.
    expect(events[0]!.after).toEqual(selected.get('9223372036854775807'));
    expect(events[0]!.after).toMatchObject({
      id: '9223372036854775807',
      u: '18446744073709551615',
      amount: '12345678901234567890123456789.123456789',
      at: '2024-02-29T23:59:59.123456',
      ts: '2024-03-01T12:00:00.5Z',
      flag: true,
      doc: { a: [1, 'x'], b: null },
      data: Buffer.from([0, 255, 16]).toString('base64'),
      fixed: Buffer.from([1, 2, 3, 4]).toString('base64'),
      label: 'héllo wörld 🎉',
      mood: 'busy',
      tags: 'a,c',
      n: '4294967295', // INT UNSIGNED is portable bigint: a string, like select()
      s: -32768,
      m: -8388608,
      t: -128,
      f: 1.5,
      day: '2024-01-02',
      clock: '12:34:56.789',
      y: 2024,
      c: 'ab',
      neg: '-12.34',
      ti: 255,
    });
    expect(events[0]!.key).toEqual({ id: '9223372036854775807' });
    expect(events[1]!.after).toEqual(selected.get('-2'));
    expect(events[1]!.after).toMatchObject({
      amount: '-98765432109876543210987654321.000000001',
      at: '1000-01-01T00:00:00',
      ts: '1970-01-01T00:00:01Z',
      neg: '-0.01',
      clock: '-12:00:00',
    });
    events.splice(1, 1);
    expect(events[1]!.after).toMatchObject({ id: '1', label: 'one', amount: null, doc: null, mood: null });
    expect(events[2]).toMatchObject({
      op: 'update',
      key: { id: '1' },
      before: { label: 'one', flag: null },
      after: { label: 'uno', flag: false },
    });
    expect(events[3]).toMatchObject({ op: 'delete', key: { id: '1' }, before: { label: 'uno' } });
    expect(events[3]!.after).toBeUndefined();
    for (const e of events) {
      expect(e).toMatchObject({ source: 'src1', table: 'items' });
      expect(e.origin).toBeUndefined();
      expect(Math.abs(Date.parse(e.commitTime) - started)).toBeLessThan(10_000);
    }
    const positions = events.map((e) => e.position);
    expect([...positions].sort()).toEqual(positions);
    expect(new Set(positions).size).toBe(positions.length);
    expect(run!.lastPosition).toBe(positions.at(-1));
  });

  it('delivers a multi-statement transaction as one batch; a rolled-back one never', async () => {
    await fx.other.query('begin');
    await fx.other.query(`insert into items (id, label) values (10, 'rolled back')`);
    await fx.other.query('rollback');
    await fx.other.query('begin');
    await fx.other.query(`insert into items (id, label) values (11, 'a'), (12, 'b')`);
    await fx.other.query(`update items set label = 'c' where id = 11`);
    await fx.other.query(`delete from items where id = 12`);
    await fx.other.query('commit');
    await fx.other.query(`insert into items (id, label) values (13, 'after')`);
    await waitFor('the last insert', () => rec.events().find((e) => e.key.id === '13'));
    expect(rec.batches.map((b) => ids(b.events))).toEqual([
      ['insert:11', 'insert:12', 'update:11', 'delete:12'],
      ['insert:13'],
    ]);
    const [first] = rec.batches[0]!.events;
    expect(rec.batches[0]!.events.every((e) => e.commitTime === first!.commitTime)).toBe(true);
  });

  it('does not deliver changes of other tables or other databases', async () => {
    const elsewhere = await createMysqlDatabase('binlog_other');
    try {
      await fx.other.query(
        `create table \`${elsewhere.database}\`.items (id bigint primary key, label text)`,
      );
      await fx.other.query(`insert into \`${elsewhere.database}\`.items values (21, 'other database')`);
      await fx.other.query(`insert into other values (22, 'other table')`);
      await fx.other.query(`insert into items (id, label) values (23, 'captured')`);
      await waitFor('the captured insert', () => rec.events().find((e) => e.key.id === '23'));
      expect(ids(rec.events())).toEqual(['insert:23']);
    } finally {
      await elsewhere.drop();
    }
  });

  it('withOrigin tags exactly the events of its own transaction', async () => {
    const items = fx.table('items');
    await fx.other.query(`insert into items (id, label) values (30, 'before')`);
    await fx.capture.withOrigin(fx.connector, 'sync_a', async (tx) => {
      await tx.insert(items, [{ id: '31', label: 'tagged' }]);
      await tx.update(items, { id: '30' }, { label: 'tagged too' });
    });
    await expect(
      fx.capture.withOrigin(fx.connector, 'sync_b', async (tx) => {
        await tx.insert(items, [{ id: '32', label: 'rolled back' }]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await fx.other.query(`insert into items (id, label) values (33, 'after')`);
    await waitFor('the last insert', () => rec.events().find((e) => e.key.id === '33'));
    expect(rec.events().map((e) => [`${e.op}:${String(e.key.id)}`, e.origin])).toEqual([
      ['insert:30', undefined],
      ['insert:31', 'sync_a'],
      ['update:30', 'sync_a'],
      ['insert:33', undefined],
    ]);
  });
});
