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
  startFreezableProxy,
  testCaptureName,
  waitFor,
  withClient,
} from './postgres-logical-helpers.js';

const available = await postgresAvailable();

describe.skipIf(!available)(
  'PostgreSQL logical capture: large transactions, lost sessions, idle slots',
  () => {
    let db: Awaited<ReturnType<typeof createPostgresSchema>>;
    let connector: Connector;
    let rows: TableSchema;
    const captures: PostgresLogicalCapture[] = [];
    const runs: CaptureRun[] = [];
    const newCapture = (options: Partial<ConstructorParameters<typeof PostgresLogicalCapture>[0]> = {}) => {
      const capture = new PostgresLogicalCapture({
        source: 'src3',
        name: testCaptureName(),
        config: { url: POSTGRES_URL },
        ...options,
      });
      captures.push(capture);
      return capture;
    };
    const exec = (statements: string) => postgresExec(db.schema, statements);

    beforeAll(async () => {
      await dropStaleTestSlots();
      db = await createPostgresSchema('plt');
      await exec(
        `create table rows (id int primary key, v text); create table unrelated (id serial, v text);`,
      );
      connector = createPostgresConnector({ url: POSTGRES_URL, schemas: [db.schema] });
      rows = (await connector.introspect()).tables.find((t) => t.name === 'rows')!;
    });

    afterAll(async () => {
      for (const run of runs) await run.stop().catch(() => {});
      for (const capture of captures) {
        await capture.uninstall().catch(() => {});
        await forceDropCapture(capture.objectName);
      }
      await connector?.close();
      await db?.drop();
    });

    it('delivers a transaction larger than maxBatchEvents in consecutive, ordered handler calls', async () => {
      const capture = newCapture({ maxBatchEvents: 100 });
      await capture.install([rows]);
      const rec = recorder();
      runs.push(await capture.start(null, rec.handler));
      await exec(`insert into rows select g, 'v' || g from generate_series(1, 250) g`);
      await waitFor('250 events', () => (rec.events().length >= 250 ? true : undefined));
      expect(rec.batches.map((b) => b.events.length)).toEqual([100, 100, 50]);
      const events = rec.events();
      expect(events.map((e) => e.key.id)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
      expect(new Set(events.map((e) => e.position.split(':')[0])).size).toBe(1);
      expect(events.map((e) => Number(e.position.split(':')[1]))).toEqual(events.map((_, i) => i));
      await exec('delete from rows');
    });

    it('streams a 20 000-row transaction (throughput)', async () => {
      const capture = newCapture();
      await capture.install([rows]);
      const rec = recorder();
      runs.push(await capture.start(null, rec.handler));
      const started = Date.now();
      await exec(`insert into rows select g, repeat('x', 40) from generate_series(1, 20000) g`);
      const committed = Date.now();
      await waitFor('20 000 events', () => (rec.events().length >= 20_000 ? true : undefined), 30_000);
      const done = rec.batches.at(-1)!.at;
      expect(rec.events().length).toBe(20_000);
      console.log(
        `logical capture: 20 000-row transaction: insert ${committed - started} ms, ` +
          `commit -> last event ${done - committed} ms (${Math.round(20_000 / ((done - committed) / 1000))} events/s)`,
      );
      await exec('delete from rows');
    });

    it('keeps commit order across concurrent writers (and measures commit -> handler latency)', async () => {
      const capture = newCapture();
      await capture.install([rows]);
      const arrived = new Map<number, number>();
      const rec = recorder();
      runs.push(
        await capture.start(null, async (events) => {
          const now = performance.now();
          for (const e of events) if (!arrived.has(e.key.id as number)) arrived.set(e.key.id as number, now);
          await rec.handler(events);
        }),
      );
      const committed = new Map<number, number>();
      await Promise.all(
        Array.from({ length: 5 }, (_, writer) =>
          withClient(async (c) => {
            for (let i = 0; i < 20; i++) {
              const id = 5000 + writer * 100 + i;
              await c.query('begin');
              await c.query(`insert into "${db.schema}".rows values ($1, 'a'), ($2, 'b')`, [id, id + 50_000]);
              // From the moment COMMIT is sent: the event often arrives before the writer sees
              // CommandComplete, so timing from its return gives latencies around zero.
              committed.set(id, performance.now());
              await c.query('commit');
            }
          }),
        ),
      );
      await waitFor('200 events', () => (rec.events().length >= 200 ? true : undefined));
      const positions = rec.events().map((e) => e.position);
      expect(new Set(positions).size).toBe(200);
      expect([...positions].sort()).toEqual(positions);
      // Each transaction's two rows arrive together, in one batch, one after the other (a batch may
      // hold several transactions that committed while the handler was busy).
      for (const batch of rec.batches) {
        expect(batch.events.length % 2).toBe(0);
        for (let i = 0; i < batch.events.length; i += 2) {
          expect(batch.events[i + 1]!.key.id).toBe((batch.events[i]!.key.id as number) + 50_000);
        }
      }
      const latencies = [...committed].map(([id, at]) => arrived.get(id)! - at).sort((a, b) => a - b);
      const pct = (p: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
      console.log(
        `logical capture: COMMIT sent -> handler over 100 transactions of 5 concurrent writers: p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms`,
      );
      await exec('delete from rows');
    });

    it('fails the run when its walsender is terminated; a restart from lastPosition loses nothing', async () => {
      const capture = newCapture();
      await capture.install([rows]);
      const rec = recorder();
      const run = await capture.start(null, rec.handler);
      await exec(`insert into rows values (1001, 'a')`);
      await rec.waitForEvent('the first insert', (e) => e.key.id === 1001);
      await withClient((c) =>
        c.query('select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = $1', [
          capture.objectName,
        ]),
      );
      await expect(run.done).rejects.toThrow();
      await exec(`insert into rows values (1002, 'b')`);
      const again = recorder();
      // The terminated walsender may hold the slot a moment longer: start() waits for it.
      const next = await capture.start(run.lastPosition, again.handler);
      runs.push(next);
      await again.waitForEvent('the insert made while down', (e) => e.key.id === 1002);
      expect(again.events().map((e) => e.key.id)).toEqual([1002]);
    });

    it('fails a run whose server went silent (half-open connection) instead of stalling', async () => {
      const proxy = await startFreezableProxy(POSTGRES_URL);
      try {
        const capture = new PostgresLogicalCapture({
          source: 'src3',
          name: testCaptureName(),
          config: { url: proxy.url },
          feedbackIntervalMs: 100,
          silenceTimeoutMs: 1_000,
        });
        // Cleaned up through a direct connection: the proxied one is frozen.
        captures.push(
          new PostgresLogicalCapture({ source: 'src3', name: capture.name, config: { url: POSTGRES_URL } }),
        );
        await capture.install([rows]);
        const rec = recorder();
        const run = await capture.start(null, rec.handler);
        await exec(`insert into rows values (3001, 'through the proxy')`);
        await rec.waitForEvent('the insert', (e) => e.key.id === 3001);
        proxy.freeze();
        const startedAt = Date.now();
        await expect(run.done).rejects.toMatchObject({ code: 'capture_stream_lost' });
        // Detected by the 1 s silence timeout, not by the 30 s test timeout (generous: shared CPUs).
        expect(Date.now() - startedAt).toBeLessThan(15_000);
      } finally {
        await proxy.close();
      }
    });

    it('refuses a second run on the same slot while one streams', async () => {
      const capture = newCapture();
      await capture.install([rows]);
      runs.push(await capture.start(null, async () => {}));
      await expect(capture.start(null, async () => {})).rejects.toMatchObject({ code: 'capture_busy' });
      // Another process (here: another instance) is refused by the server, after a bounded wait.
      const elsewhere = new PostgresLogicalCapture({
        source: 'src3',
        name: capture.name,
        config: { url: POSTGRES_URL },
        busyWaitMs: 300,
      });
      const startedAt = Date.now();
      await expect(elsewhere.start(null, async () => {})).rejects.toMatchObject({ code: 'capture_busy' });
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(300);
    });

    it('decodes a column added after install by its type', async () => {
      const capture = newCapture();
      await capture.install([rows]);
      const rec = recorder();
      runs.push(await capture.start(null, rec.handler));
      await exec(
        `alter table rows add column extra bigint; insert into rows values (2001, 'x', 9007199254740993);`,
      );
      const event = await rec.waitForEvent('the insert', (e) => e.key.id === 2001);
      expect(event.after).toEqual({ id: 2001, v: 'x', extra: '9007199254740993' });
      await exec('alter table rows drop column extra');
    });

    it('moves an idle slot forward past writes to other tables, so it holds no WAL back', async () => {
      const capture = newCapture({ feedbackIntervalMs: 100 });
      await capture.install([rows]);
      runs.push(await capture.start(null, async () => {}));
      await exec(`insert into unrelated (v) select 'w' from generate_series(1, 1000)`);
      const lsn = await withClient(
        async (c) => (await c.query(`select pg_current_wal_lsn()::text as lsn`)).rows[0].lsn,
      );
      const past = await waitFor('confirmed_flush_lsn to pass the unrelated writes', () =>
        withClient(async (c) => {
          const { rows: r } = await c.query(
            'select confirmed_flush_lsn >= $2::pg_lsn as past from pg_replication_slots where slot_name = $1',
            [capture.objectName, lsn],
          );
          return r[0]?.past === true ? true : undefined;
        }),
      );
      expect(past).toBe(true);
    });
  },
);
