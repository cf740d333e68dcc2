import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresLogicalCapture } from '../../src/capture/postgres-logical/index.js';
import type { CaptureRun } from '../../src/capture/capture-strategy.js';
import type { Connector } from '../../src/connectors/connector.js';
import { createPostgresConnector } from '../../src/connectors/postgres/index.js';
import type { TableSchema } from '../../src/model/schema.js';
import { POSTGRES_URL, createPostgresSchema, postgresAvailable, postgresExec } from '../support/servers.js';
import {
  dropStaleTestSlots,
  forceDropCapture,
  recorder,
  testCaptureName,
  waitFor,
} from './postgres-logical-helpers.js';

const available = await postgresAvailable();

describe.skipIf(!available)('PostgreSQL logical capture: streaming', () => {
  let db: Awaited<ReturnType<typeof createPostgresSchema>>;
  let connector: Connector;
  let items: TableSchema;
  let capture: PostgresLogicalCapture;
  let run: CaptureRun | undefined;
  const rec = recorder();
  /** A plain pg client: the "other tool" that writes to the database. */
  let other: pg.Client;
  const table = () => `"${db.schema}".items`;

  beforeAll(async () => {
    await dropStaleTestSlots();
    db = await createPostgresSchema('plt');
    await postgresExec(
      db.schema,
      `create domain positive_big as bigint check (value > 0);
       create type mood as enum ('calm', 'busy');
       create table items (id bigint primary key, amount numeric(30,10), at timestamptz, doc jsonb,
         data bytea, label text, flag boolean, n integer, big text, day date, clock time, wall timestamp,
         u uuid, tags text[], nums int[], dom positive_big, m mood, f float8, ztime timetz, j json)`,
    );
    connector = createPostgresConnector({ url: POSTGRES_URL, schemas: [db.schema] });
    items = (await connector.introspect()).tables.find((t) => t.name === 'items')!;
    capture = new PostgresLogicalCapture({
      source: 'src1',
      name: testCaptureName(),
      config: { url: POSTGRES_URL },
    });
    await capture.install([items]);
    run = await capture.start(null, rec.handler);
    other = new pg.Client({ connectionString: POSTGRES_URL });
    await other.connect();
  });

  afterAll(async () => {
    await other?.end().catch(() => {});
    await run?.stop().catch(() => {});
    try {
      await capture?.uninstall();
    } finally {
      if (capture) await forceDropCapture(capture.objectName);
      await connector?.close();
      await db?.drop();
    }
  });

  it('delivers inserts, updates and deletes of another client in commit order, with the wire values of select()', async () => {
    const insertedAt = Date.now();
    await other.query(
      `insert into ${table()} (id, amount, at, doc, data, label, flag, n, day, clock, wall, u, tags, nums,
                               dom, m, f, ztime, j)
       values (9223372036854775807, 12345678901234567890.0123456789, '2024-05-01 10:00:00.123456+02',
               '{"a":[1,2,{"b":null}],"s":"é"}', '\\x00ff10', 'héllo wörld ✓ 🚀', true, 42, '2024-02-29',
               '23:59:58.5', '2024-02-29 13:45:10.123456', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
               '{"a,b",NULL,"é"}', '{1,-2}', 9007199254740993, 'busy', 0.1, '10:00:00+02', '{"k": 1.50}')`,
    );
    const inserted = await rec.waitForEvent(
      'the insert',
      (e) => e.op === 'insert' && e.key.id === '9223372036854775807',
    );
    const latencyMs = rec.batches.find((b) => b.events.includes(inserted))!.at - insertedAt;
    const page = await connector.select(items, {
      filter: { field: 'id', op: 'eq', value: '9223372036854775807' },
    });
    expect(inserted.after).toEqual(page.rows[0]);
    expect(inserted.after).toMatchObject({
      id: '9223372036854775807',
      amount: '12345678901234567890.0123456789',
      at: '2024-05-01T08:00:00.123456Z',
      doc: { a: [1, 2, { b: null }], s: 'é' },
      data: Buffer.from([0, 255, 16]).toString('base64'),
      label: 'héllo wörld ✓ 🚀',
      flag: true,
      n: 42,
      big: null,
      day: '2024-02-29',
      wall: '2024-02-29T13:45:10.123456',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      tags: ['a,b', null, 'é'],
      nums: [1, -2],
      dom: '9007199254740993',
      m: 'busy',
      f: 0.1,
    });
    expect(inserted).toMatchObject({
      source: 'src1',
      table: `${db.schema}.items`,
      key: { id: '9223372036854775807' },
    });
    expect(inserted.before).toBeUndefined();
    expect(inserted.origin).toBeUndefined();
    expect(inserted.commitTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Math.abs(Date.parse(inserted.commitTime) - insertedAt)).toBeLessThan(5_000);
    console.log(`logical capture: commit -> handler ${latencyMs} ms (one insert, local server)`);

    await other.query(`update ${table()} set flag = false, n = null where id = 9223372036854775807`);
    await other.query(`delete from ${table()} where id = 9223372036854775807`);
    const deleted = await rec.waitForEvent(
      'the delete',
      (e) => e.op === 'delete' && e.key.id === '9223372036854775807',
    );
    const updated = rec.events().find((e) => e.op === 'update' && e.key.id === '9223372036854775807')!;
    expect(updated.after).toEqual({ ...inserted.after, flag: false, n: null });
    // REPLICA IDENTITY DEFAULT with a primary key: the old row is not logged, only the key on delete.
    expect(updated.before).toBeUndefined();
    expect(deleted.before).toEqual({ id: '9223372036854775807' });
    expect(deleted.after).toBeUndefined();
    const order = rec
      .events()
      .filter((e) => e.key.id === '9223372036854775807')
      .map((e) => e.op);
    expect(order).toEqual(['insert', 'update', 'delete']);
    const positions = rec.events().map((e) => e.position);
    expect([...positions].sort()).toEqual(positions);
  });

  it('delivers a multi-statement transaction as one batch sharing its commit LSN', async () => {
    await other.query('begin');
    await other.query(`insert into ${table()} (id, label) values (10, 'a'), (11, 'b')`);
    await other.query(`update ${table()} set label = 'a2' where id = 10`);
    await other.query(`delete from ${table()} where id = 11`);
    await other.query('commit');
    const last = await rec.waitForEvent('the transaction', (e) => e.op === 'delete' && e.key.id === '11');
    const batch = rec.batches.find((b) => b.events.includes(last))!.events;
    expect(batch.map((e) => [e.op, e.key.id])).toEqual([
      ['insert', '10'],
      ['insert', '11'],
      ['update', '10'],
      ['delete', '11'],
    ]);
    const lsns = new Set(batch.map((e) => e.position.split(':')[0]));
    expect(lsns.size).toBe(1);
    expect(batch.map((e) => Number(e.position.split(':')[1]))).toEqual([0, 1, 2, 3]);
    expect(new Set(batch.map((e) => e.commitTime)).size).toBe(1);
  });

  it('never delivers a rolled-back transaction', async () => {
    await other.query('begin');
    await other.query(`insert into ${table()} (id, label) values (20, 'rolled back')`);
    await other.query('rollback');
    await other.query(`insert into ${table()} (id, label) values (21, 'after')`);
    await rec.waitForEvent('the later insert', (e) => e.key.id === '21');
    expect(rec.events().some((e) => e.key.id === '20')).toBe(false);
  });

  it('withOrigin tags the events of its transaction and only those', async () => {
    await capture.withOrigin(connector, 'sync-7', async (tx) => {
      await tx.insert(items, [{ id: '30', label: 'mine' }]);
      // Another tool commits while the tagged transaction is open: it must stay untagged.
      await other.query(`insert into ${table()} (id, label) values (31, 'theirs')`);
      await tx.update(items, { id: '30' }, { label: 'mine too' });
    });
    await other.query(`insert into ${table()} (id, label) values (32, 'theirs, later')`);
    await rec.waitForEvent('the later untagged insert', (e) => e.key.id === '32');
    const tagged = rec.events().filter((e) => e.key.id === '30');
    expect(tagged.map((e) => [e.op, e.origin])).toEqual([
      ['insert', 'sync-7'],
      ['update', 'sync-7'],
    ]);
    for (const id of ['31', '32']) expect(rec.events().find((e) => e.key.id === id)!.origin).toBeUndefined();
  });

  it('reports the old key as before when an update changes the primary key', async () => {
    await other.query(`insert into ${table()} (id, label) values (35, 'k')`);
    await other.query(`update ${table()} set id = 36 where id = 35`);
    const moved = await rec.waitForEvent('the key change', (e) => e.op === 'update' && e.key.id === '36');
    expect(moved.before).toEqual({ id: '35' });
    expect(moved.after).toMatchObject({ id: '36', label: 'k' });
  });

  it('leaves TOASTed values an update did not change out of after, never null', async () => {
    // Random hex does not compress, so 40 kB is stored out of line (TOAST).
    const big = Array.from({ length: 2500 }, () => Math.random().toString(16).slice(2, 18)).join('');
    await other.query(`insert into ${table()} (id, big, n) values (40, $1, 1)`, [big]);
    await other.query(`update ${table()} set n = 2 where id = 40`);
    const updated = await rec.waitForEvent('the update', (e) => e.op === 'update' && e.key.id === '40');
    expect(rec.events().find((e) => e.op === 'insert' && e.key.id === '40')!.after!.big).toBe(big);
    expect(updated.after!.n).toBe(2);
    expect('big' in updated.after!).toBe(false);
  });

  it('restarts from the last acknowledged position without losing or redelivering events', async () => {
    await other.query(`insert into ${table()} (id, label) values (50, 'before stop')`);
    await rec.waitForEvent('the insert before stop', (e) => e.key.id === '50');
    await run!.stop();
    await expect(run!.done).resolves.toBeUndefined();
    const resumeFrom = run!.lastPosition!;
    expect(resumeFrom).toBe(rec.events().at(-1)!.position);
    // Acknowledged on the server, not only filtered on our side: the slot moved past that commit.
    const slot = await other.query<{ past: boolean }>(
      `select confirmed_flush_lsn > $2::pg_lsn as past from pg_replication_slots where slot_name = $1`,
      [capture.objectName, resumeFrom.split(':')[0]],
    );
    expect(slot.rows[0]?.past).toBe(true);

    await other.query(`insert into ${table()} (id, label) values (51, 'while stopped')`);
    await other.query(`update ${table()} set label = 'changed while stopped' where id = 50`);
    const after = recorder();
    run = await capture.start(resumeFrom, after.handler);
    await after.waitForEvent('the update made while stopped', (e) => e.op === 'update' && e.key.id === '50');
    expect(after.events().map((e) => [e.op, e.key.id])).toEqual([
      ['insert', '51'],
      ['update', '50'],
    ]);
    expect(after.events().every((e) => e.position > resumeFrom)).toBe(true);
  });

  it('stop() lets a running handler finish and confirms its transaction to the slot', async () => {
    await run!.stop();
    let entered = false;
    let finished = false;
    const slow = await capture.start(run!.lastPosition, async () => {
      entered = true;
      await new Promise((resolve) => setTimeout(resolve, 300));
      finished = true;
    });
    await other.query(`insert into ${table()} (id, label) values (55, 'slow')`);
    await waitFor('the handler to start', () => (entered ? true : undefined));
    await slow.stop();
    expect(finished).toBe(true);
    // Started without `from`, so only the slot decides: the transaction must not come again.
    const fresh = recorder();
    run = await capture.start(null, fresh.handler);
    await other.query(`insert into ${table()} (id, label) values (56, 'next')`);
    await fresh.waitForEvent('the next insert', (e) => e.key.id === '56');
    expect(fresh.events().map((e) => e.key.id)).toEqual(['56']);
  });

  it('redelivers the events of a transaction whose handler threw, after a restart', async () => {
    await run!.stop();
    const failing = await capture.start(run!.lastPosition, async (events) => {
      if (events.some((e) => e.key.id === '60')) throw new Error('apply failed');
    });
    await other.query(`insert into ${table()} (id, label) values (60, 'fails once')`);
    await expect(failing.done).rejects.toThrow('apply failed');
    const again = recorder();
    run = await capture.start(failing.lastPosition, again.handler);
    const redelivered = await again.waitForEvent('the redelivered insert', (e) => e.key.id === '60');
    expect(redelivered.op).toBe('insert');
  });
});
