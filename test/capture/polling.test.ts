import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  SnapshotDiffCapture,
  UpdatedAtCapture,
  probePollingCapture,
} from '../../src/capture/polling/index.js';
import type { ChangeEvent } from '../../src/model/change-event.js';
import type { TableDefinition } from '../../src/model/schema.js';
import { engines } from '../conformance/engines.js';
import { collect, useCaptureDb, type CaptureDb, type Collector } from './triggers-fixture.js';

const people: TableDefinition = {
  name: 'people',
  columns: [
    { name: 'id', type: 'bigint', nullable: false },
    { name: 'name', type: 'string', maxLength: 200 },
    { name: 'amount', type: 'decimal', precision: 20, scale: 4 },
    { name: 'active', type: 'boolean' },
    { name: 'doc', type: 'json' },
    { name: 'updated_at', type: 'datetime' },
  ],
  primaryKey: ['id'],
};

const BIG = '9007199254740993';
const UNICODE = 'Zoë 🚀 日本語';

async function insertPerson(
  db: CaptureDb,
  id: string,
  name: string,
  updatedAt: string,
  exec = db.exec.bind(db),
) {
  await exec(
    `insert into people (id, name, amount, active, doc, updated_at) values (${id}, ?, '12345678901234.5678', true, ?, ?)`,
    [name, JSON.stringify({ tags: ['a', 'ü'] }), updatedAt],
  );
}

describe.each(engines)('polling capture on $kind', (engine) => {
  const db = useCaptureDb(engine.kind, [people]);
  const runs: Collector[] = [];
  let directory = '';
  let counter = 0;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'braid-snapshots-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const c of runs.splice(0)) await c.run.stop();
    await db.exec('delete from people');
  });

  async function started(
    strategy: UpdatedAtCapture | SnapshotDiffCapture,
    from: string | null = null,
    handler?: (e: ChangeEvent[]) => Promise<void>,
  ) {
    const c = await collect(strategy, from, handler);
    runs.push(c);
    return c;
  }

  async function updatedAt(batchSize = 500): Promise<UpdatedAtCapture> {
    const capture = new UpdatedAtCapture({
      source: 's',
      name: `u${++counter}`,
      connector: db.connector,
      batchSize,
      pollIntervalMs: 50,
    });
    await capture.install([db.table('people')]);
    return capture;
  }

  async function snapshotDiff(name = `d${++counter}`): Promise<SnapshotDiffCapture> {
    const capture = new SnapshotDiffCapture({
      source: 's',
      name,
      connector: db.connector,
      directory,
      pollIntervalMs: 50,
      batchSize: 2,
    });
    await capture.install([db.table('people')]);
    return capture;
  }

  describe('updated-at cursor', () => {
    it('delivers inserts and updates of another tool in (updated_at, key) order with wire values', async () => {
      await insertPerson(db, '1', 'before start', '2024-01-01 09:00:00');
      const c = await started(await updatedAt());
      await insertPerson(db, BIG, UNICODE, '2024-01-01 10:00:00');
      await db.exec('update people set name = ?, active = false, updated_at = ? where id = 1', [
        'renamed',
        '2024-01-01 11:00:00',
      ]);
      const events = await c.waitFor(2);
      await c.settle();
      expect(events.map((e) => [e.op, e.key.id])).toEqual([
        ['update', BIG],
        ['update', '1'],
      ]);
      expect(events[0]!.after).toEqual({
        id: BIG,
        name: UNICODE,
        amount: '12345678901234.5678',
        active: true,
        doc: { tags: ['a', 'ü'] },
        updated_at: '2024-01-01T10:00:00',
      });
      expect(events[0]!.commitTime).toBe('2024-01-01T10:00:00Z');
      expect(events[1]!.after).toMatchObject({ name: 'renamed', active: false });
      expect(events[0]!.position < events[1]!.position).toBe(true);
    });

    it('does not lose rows that share one timestamp, whatever order they become visible in', async () => {
      const c = await started(await updatedAt(2));
      await insertPerson(db, '15', 'p15', '2024-02-01 00:00:00');
      await c.waitFor(1);
      // Same timestamp, lower keys, visible only after 15 was delivered; more than one batch of them.
      // One transaction, so they become visible together whenever the poller looks.
      const s = await db.session();
      try {
        await s.exec('begin');
        for (const id of ['11', '14', '12', '13'])
          await insertPerson(db, id, `p${id}`, '2024-02-01 00:00:00', s.exec);
        await s.exec('commit');
      } finally {
        await s.close();
      }
      await c.waitFor(5);
      // The same row changed again within the same timestamp: a new state, delivered again.
      await db.exec("update people set name = 'p12 again' where id = 12");
      const events = await c.waitFor(6);
      await c.settle();
      expect(events.map((e) => e.key.id)).toEqual(['15', '11', '12', '13', '14', '12']);
      expect(events[5]!.after!.name).toBe('p12 again');
    });

    it('restarts from the acknowledged position; a throwing handler gets the same events; rollbacks never arrive', async () => {
      const capture = await updatedAt();
      let failures = 0;
      const first = await started(capture, null, async () => {
        if (failures++ === 0) throw new Error('not yet');
      });
      await insertPerson(db, '21', 'a', '2024-03-01 00:00:01');
      await first.waitFor(1);
      expect(failures).toBe(2);
      await first.run.stop();
      const acknowledged = first.run.lastPosition!;
      expect(acknowledged).toBe(first.events[0]!.position);
      const s = await db.session();
      try {
        await s.exec('begin');
        await insertPerson(db, '22', 'rolled back', '2024-03-01 00:00:02', s.exec);
        await s.exec('rollback');
      } finally {
        await s.close();
      }
      await insertPerson(db, '23', 'b', '2024-03-01 00:00:03');
      const second = await started(capture, acknowledged);
      const events = await second.waitFor(1);
      await second.settle();
      expect(events.map((e) => e.key.id)).toEqual(['23']);
    });

    it('cannot see deletes, and withOrigin marks nothing', async () => {
      const capture = await updatedAt();
      const c = await started(capture);
      await insertPerson(db, '31', 'doomed', '2024-04-01 00:00:00');
      await c.waitFor(1);
      await db.exec('delete from people where id = 31');
      await capture.withOrigin(db.connector, 'me', (tx) =>
        tx.insert(db.table('people'), [{ id: '32', name: 'braid', updated_at: '2024-04-01T00:00:01' }]),
      );
      const events = await c.waitFor(2);
      await c.settle();
      expect(events.map((e) => [e.op, e.key.id, e.origin ?? null])).toEqual([
        ['update', '31', null],
        ['update', '32', null],
      ]);
    });
  });

  describe('snapshot diff', () => {
    it('finds inserts, updates and deletes with before images and wire values', async () => {
      await insertPerson(db, '1', 'kept', '2024-01-01 00:00:00');
      await insertPerson(db, '2', 'changed', '2024-01-01 00:00:00');
      await insertPerson(db, '3', 'deleted', '2024-01-01 00:00:00');
      const c = await started(await snapshotDiff());
      await insertPerson(db, BIG, UNICODE, '2024-01-02 00:00:00');
      await db.exec('update people set name = ?, active = false where id = 2', ['changed!']);
      await db.exec('delete from people where id = 3');
      const events = await c.waitFor(3);
      await c.settle();
      const byOp = Object.fromEntries(events.map((e) => [e.op, e]));
      expect(events).toHaveLength(3);
      expect(byOp.insert!.key).toEqual({ id: BIG });
      expect(byOp.insert!.after).toEqual(await db.connector.getByKey(db.table('people'), { id: BIG }));
      expect(byOp.insert!.after).toMatchObject({
        name: UNICODE,
        amount: '12345678901234.5678',
        doc: { tags: ['a', 'ü'] },
      });
      expect(byOp.update!.before).toMatchObject({ id: '2', name: 'changed', active: true });
      expect(byOp.update!.after).toMatchObject({ id: '2', name: 'changed!', active: false });
      expect(byOp.delete!.key).toEqual({ id: '3' });
      expect(byOp.delete!.before).toMatchObject({ id: '3', name: 'deleted' });
      expect(byOp.delete!.after).toBeUndefined();
      const positions = events.map((e) => e.position);
      expect([...positions].sort()).toEqual(positions);
    });

    it('restarts from the acknowledged position (also mid-diff) without loss or redelivery', async () => {
      const capture = await snapshotDiff();
      let batches = 0;
      // Only the first batch is acknowledged: the run then stands mid-diff.
      const first = await started(capture, null, async () => {
        if (++batches > 1) throw new Error('stop here');
      });
      for (const id of ['41', '42', '43']) await insertPerson(db, id, `p${id}`, '2024-05-01 00:00:00');
      // batchSize 2: the first batch of the diff is two events; stop right after it.
      await first.waitFor(2);
      await first.run.stop();
      const acknowledged = first.run.lastPosition!;
      expect(first.events).toHaveLength(2);
      await db.exec('delete from people where id = 41');
      const second = await started(capture, acknowledged);
      const events = await second.waitFor(2);
      await second.settle();
      expect([...first.events, ...events].map((e) => [e.op, e.key.id])).toEqual([
        ['insert', '41'],
        ['insert', '42'],
        ['insert', '43'],
        ['delete', '41'],
      ]);
    });
  });

  it('probe says polling is available; install creates nothing on the source', async () => {
    const before = (await db.connector.introspect()).tables.length;
    await (await updatedAt()).install([db.table('people')]);
    await (await snapshotDiff()).install([db.table('people')]);
    expect((await db.connector.introspect()).tables.length).toBe(before);
    expect(await probePollingCapture(db.connector)).toMatchObject({ kind: 'polling', available: true });
  });
});
