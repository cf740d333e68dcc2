import mysql from 'mysql2/promise';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CaptureRun } from '../../src/capture/capture-strategy.js';
import {
  MysqlBinlogCapture,
  fileNumber,
  formatPosition,
  parsePosition,
} from '../../src/capture/mysql-binlog/index.js';
import { mysqlAvailable } from '../support/servers.js';
import { binlogFixture, ids, recorder, startFreezableProxy, waitFor } from './mysql-binlog-helpers.js';

const available = await mysqlAvailable();

describe.skipIf(!available)('MySQL/MariaDB binlog capture: positions and failures', () => {
  let fx: Awaited<ReturnType<typeof binlogFixture>>;
  let run: CaptureRun | undefined;

  beforeEach(async () => {
    fx = await binlogFixture([`create table items (id int primary key, label varchar(50))`], ['items']);
  });

  afterEach(async () => {
    await run?.stop().catch(() => {});
    await fx?.close();
  });

  const insert = (id: number) => fx.other.query(`insert into items values (${id}, 'row ${id}')`);

  it('restarts from the last position without losing or repeating events', async () => {
    const first = recorder();
    run = await fx.capture.start(null, first.handler);
    await insert(1);
    await insert(2);
    await waitFor('two events', () => (first.events().length === 2 ? true : undefined));
    await run.stop();
    const from = run.lastPosition!;
    expect(from).toBe(first.events()[1]!.position);
    // Written while nobody reads.
    await insert(3);
    await fx.other.query('begin');
    await insert(4);
    await insert(5);
    await fx.other.query('commit');
    const second = recorder();
    run = await fx.capture.start(from, second.handler);
    await insert(6);
    await waitFor('the insert after restart', () => second.events().find((e) => e.key.id === 6));
    expect(ids(second.events())).toEqual(['insert:3', 'insert:4', 'insert:5', 'insert:6']);
    expect(second.events()[0]!.position > from).toBe(true);
  });

  it('resumes inside a transaction after a position stored mid-way', async () => {
    const first = recorder();
    run = await fx.capture.start(null, first.handler);
    await fx.other.query('begin');
    for (const id of [1, 2, 3]) await insert(id);
    await fx.other.query('commit');
    await waitFor('three events', () => (first.events().length === 3 ? true : undefined));
    await run.stop();
    const second = recorder();
    run = await fx.capture.start(first.events()[0]!.position, second.handler);
    await insert(4);
    await waitFor('the next insert', () => second.events().find((e) => e.key.id === 4));
    expect(ids(second.events())).toEqual(['insert:2', 'insert:3', 'insert:4']);
    expect(
      second
        .events()
        .slice(0, 2)
        .map((e) => e.position),
    ).toEqual(
      first
        .events()
        .slice(1)
        .map((e) => e.position),
    );
  });

  it('follows a rotation to the next binlog file and resumes across it', async () => {
    const first = recorder();
    run = await fx.capture.start(null, first.handler);
    await insert(1);
    await fx.other.query('flush binary logs');
    await insert(2);
    await waitFor('both events', () => (first.events().length === 2 ? true : undefined));
    const [p1, p2] = first.events().map((e) => parsePosition(e.position));
    expect(fileNumber(p2!.file)).toBe(fileNumber(p1!.file) + 1);
    expect(first.events()[0]!.position < first.events()[1]!.position).toBe(true);
    await run.stop();
    const second = recorder();
    run = await fx.capture.start(first.events()[0]!.position, second.handler);
    await insert(3);
    await waitFor('the insert after restart', () => second.events().find((e) => e.key.id === 3));
    expect(ids(second.events())).toEqual(['insert:2', 'insert:3']);
  });

  it('a slow handler pauses the stream without losing or reordering transactions', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const rec = recorder();
    run = await fx.capture.start(null, async (events) => {
      await gate;
      await rec.handler(events);
    });
    // More committed transactions than the run buffers (1 000) before it pauses the socket.
    for (let id = 1; id <= 1_200; id++) await insert(id);
    // Paused for longer than three heartbeat periods: not a lost stream.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    release();
    await waitFor('all transactions', () => (rec.events().length === 1_200 ? true : undefined), 20_000);
    expect(rec.events().map((e) => e.key.id)).toEqual(Array.from({ length: 1_200 }, (_, i) => i + 1));
    // Transactions that waited for the slow handler came to it together, at most 500 events a batch.
    expect(rec.batches.length).toBeLessThan(1_200);
    expect(Math.max(...rec.batches.map((b) => b.events.length))).toBeLessThanOrEqual(500);
  }, 40_000);

  it('a handler that throws ends the run; the same events come again after restart', async () => {
    const first = recorder();
    run = await fx.capture.start(null, first.handler);
    await insert(1);
    await waitFor('the first event', () => first.events().find((e) => e.key.id === 1));
    await run.stop();
    const stored = run.lastPosition!;

    let calls = 0;
    run = await fx.capture.start(stored, async () => {
      calls++;
      throw new Error('consumer failed');
    });
    await fx.other.query('begin');
    await insert(2);
    await insert(3);
    await fx.other.query('commit');
    await expect(run.done).rejects.toThrow('consumer failed');
    expect(calls).toBe(1);
    // Nothing was acknowledged: the run still reports the position it started from.
    expect(run.lastPosition).toBe(stored);

    const retry = recorder();
    run = await fx.capture.start(run.lastPosition, retry.handler);
    await waitFor('the redelivered transaction', () => retry.events().find((e) => e.key.id === 3));
    expect(retry.batches.map((b) => ids(b.events))).toEqual([['insert:2', 'insert:3']]);
  });

  it('fails with capture_position_lost when the binlog file of the position is gone', async () => {
    const [[status]] = (await fx.other.query('show master status')) as unknown as [[{ File: string }]];
    // A file number far beyond the current one: what a stored position looks like after PURGE.
    const gone = formatPosition({ file: status.File.replace(/\d+$/, '999998'), offset: 4, index: 0 });
    await expect(fx.capture.start(gone, async () => {})).rejects.toMatchObject({
      code: 'capture_position_lost',
      message: expect.stringMatching(/reconcile/),
    });
  });

  it('a silent server (no heartbeat) fails the run with capture_stream_lost', async () => {
    const proxy = await startFreezableProxy(fx.db.url);
    try {
      const capture = new MysqlBinlogCapture({
        source: 'src1',
        name: 'test',
        config: { url: proxy.url },
        heartbeatMs: 200,
      });
      await capture.install([fx.table('items')]);
      run = await capture.start(null, async () => {});
      // Heartbeats keep an idle stream alive well past three periods.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      let settled = false;
      void run.done.catch(() => {}).finally(() => (settled = true));
      expect(settled).toBe(false);
      proxy.freeze();
      await expect(run.done).rejects.toMatchObject({ code: 'capture_stream_lost' });
    } finally {
      await proxy.close();
    }
  });

  it('two readers run side by side (distinct server ids) and stop() closes the dump', async () => {
    const a = recorder();
    const b = recorder();
    const runA = await fx.capture.start(null, a.handler);
    const runB = await fx.capture.start(null, b.handler);
    try {
      await insert(1);
      await waitFor('both readers', () => (a.events().length && b.events().length ? true : undefined));
      expect(ids(a.events())).toEqual(ids(b.events()));
    } finally {
      await runA.stop();
      await runB.stop();
    }
    await expect(runA.done).resolves.toBeUndefined();
    const threads = [runA.threadId, runB.threadId];
    expect(threads.every((id) => typeof id === 'number')).toBe(true);
    const root = await mysql.createConnection({ uri: fx.db.url });
    try {
      // The server ends a dump thread once it notices the closed socket.
      await waitFor('dump threads gone', async () => {
        const [rows] = (await root.query('select id from information_schema.processlist where id in (?)', [
          threads,
        ])) as unknown as [unknown[]];
        return rows.length === 0 ? true : undefined;
      });
    } finally {
      await root.end();
    }
  });
});
