import { afterEach, describe, expect, it } from 'vitest';
import { TriggerCapture, probeTriggerCapture } from '../../src/capture/triggers/index.js';
import type { ChangeEvent } from '../../src/model/change-event.js';
import { qualifiedName, type TableDefinition } from '../../src/model/schema.js';
import { engines } from '../conformance/engines.js';
import { collect, useCaptureDb, type CaptureDb, type Collector } from './triggers-fixture.js';

const items: TableDefinition = {
  name: 'items',
  columns: [
    { name: 'id', type: 'bigint', nullable: false },
    { name: 'label', type: 'string', maxLength: 200 },
    { name: 'amount', type: 'decimal', precision: 20, scale: 4 },
    { name: 'at', type: 'datetime' },
    { name: 'seen', type: 'datetimetz' },
    { name: 'flag', type: 'boolean' },
    { name: 'doc', type: 'json' },
    { name: 'n', type: 'integer' },
  ],
  primaryKey: ['id'],
};
const notes: TableDefinition = {
  name: 'notes',
  columns: [
    { name: 'id', type: 'integer', nullable: false },
    { name: 'body', type: 'text' },
  ],
  primaryKey: ['id'],
};

const BIG = '9007199254740993'; // 2^53 + 1: a JS number would round it
const UNICODE = 'Zoë 🚀 日本語 "quoted" \\ back';

/** Inserts one item row as another tool would (the same SQL text on every engine). */
async function insertItem(db: CaptureDb, id: string, label: string, exec = db.exec.bind(db)): Promise<void> {
  await exec(
    `insert into items (id, label, amount, at, flag, doc, n) values (${id}, ?, '12345678901234.5678', '2024-02-29 13:45:10.123456', true, ?, 42)`,
    [label, JSON.stringify({ a: [1, 2, { b: 'ü' }], big: 1.5 })],
  );
}

describe.each(engines)('trigger capture on $kind', (engine) => {
  const db = useCaptureDb(engine.kind, [items, notes]);
  const runs: Collector[] = [];
  let counter = 0;

  /** A strategy with a fresh consumer name, installed on `items` (and `notes`). */
  async function installed(tables = ['items', 'notes']): Promise<TriggerCapture> {
    const capture = new TriggerCapture({
      source: 'src1',
      name: `c${++counter}`,
      connector: db.connector,
      ...(db.schema ? { schema: db.schema } : {}),
      pollIntervalMs: 50,
    });
    await capture.install(tables.map((t) => db.table(t)));
    return capture;
  }

  async function started(
    capture: TriggerCapture,
    from: string | null = null,
    handler?: (e: ChangeEvent[]) => Promise<void>,
  ) {
    const c = await collect(capture, from, handler);
    runs.push(c);
    return c;
  }

  afterEach(async () => {
    for (const c of runs.splice(0)) await c.run.stop();
  });

  const itemsName = (): string => qualifiedName(db.table('items'), db.connector.defaultSchema);

  it('delivers inserts, updates and deletes made by another tool in order, with wire values', async () => {
    const capture = await installed();
    const c = await started(capture);
    await insertItem(db, BIG, UNICODE);
    await db.exec(`update items set label = ?, flag = false where id = ${BIG}`, ['second']);
    await db.exec(`delete from items where id = ${BIG}`);
    const events = await c.waitFor(3);
    expect(events.map((e) => e.op)).toEqual(['insert', 'update', 'delete']);
    expect(events.map((e) => e.table)).toEqual([itemsName(), itemsName(), itemsName()]);
    const positions = events.map((e) => e.position);
    expect([...positions].sort()).toEqual(positions);
    expect(new Set(positions).size).toBe(3);
    const [ins, upd, del] = events as [ChangeEvent, ChangeEvent, ChangeEvent];
    expect(ins.key).toEqual({ id: BIG });
    expect(ins.after).toEqual({
      id: BIG,
      label: UNICODE,
      amount: '12345678901234.5678',
      at: '2024-02-29T13:45:10.123456',
      seen: null,
      flag: true,
      doc: { a: [1, 2, { b: 'ü' }], big: 1.5 },
      n: 42,
    });
    expect(ins.before).toBeUndefined();
    expect(ins.origin).toBeUndefined();
    expect(ins.commitTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(Math.abs(Date.parse(ins.commitTime) - Date.now())).toBeLessThan(60_000);
    expect(upd.before).toEqual(ins.after);
    expect(upd.after).toEqual({ ...ins.after, label: 'second', flag: false });
    expect(del.key).toEqual({ id: BIG });
    expect(del.before).toEqual(upd.after);
    expect(del.after).toBeUndefined();
    await capture.uninstall();
  });

  it('answers the same wire values as select does', async () => {
    const capture = await installed();
    const c = await started(capture);
    await insertItem(db, '7', 'same');
    const [event] = await c.waitFor(1);
    expect(event!.after).toEqual(await db.connector.getByKey(db.table('items'), { id: '7' }));
    await db.exec('delete from items where id = 7');
    await capture.uninstall();
  });

  it('never delivers a rolled-back transaction', async () => {
    const capture = await installed();
    const c = await started(capture);
    const s = await db.session();
    try {
      await s.exec('begin');
      await insertItem(db, '100', 'rolled back', s.exec);
      await s.exec('rollback');
    } finally {
      await s.close();
    }
    await insertItem(db, '101', 'kept');
    const events = await c.waitFor(1);
    await c.settle();
    expect(events.map((e) => e.key)).toEqual([{ id: '101' }]);
    await db.exec('delete from items where id = 101');
    await capture.uninstall();
  });

  it('withOrigin marks exactly its own changes', async () => {
    const capture = await installed();
    const c = await started(capture);
    const table = db.table('items');
    await capture.withOrigin(db.connector, 'sync-7', async (tx) => {
      await tx.insert(table, [{ id: '200', label: 'from braid', seen: '2024-05-01T08:00:00Z' }]);
      await tx.update(table, { id: '200' }, { n: 5 });
    });
    await insertItem(db, '201', 'from another tool');
    // The same pooled connection must not carry the tag into Braid's next, untagged write.
    await db.connector.update(table, { id: '200' }, { n: 6 });
    await expect(
      capture.withOrigin(db.connector, 'sync-8', async (tx) => {
        await tx.update(table, { id: '200' }, { n: 7 });
        throw new Error('consumer failed');
      }),
    ).rejects.toThrow('consumer failed');
    await db.connector.update(table, { id: '201' }, { n: 8 });
    const events = await c.waitFor(5);
    await c.settle();
    expect(events.map((e) => [e.op, e.key.id, e.origin ?? null])).toEqual([
      ['insert', '200', 'sync-7'],
      ['update', '200', 'sync-7'],
      ['insert', '201', null],
      ['update', '200', null],
      ['update', '201', null],
    ]);
    expect(events[0]!.after!.seen).toBe('2024-05-01T08:00:00Z');
    await db.exec('delete from items where id in (200, 201)');
    await capture.uninstall();
  });

  it('restarts from the last acknowledged position without loss or redelivery', async () => {
    const capture = await installed();
    // Written after install, before the first start: a start without position still delivers it.
    await insertItem(db, '299', 'before start');
    const first = await started(capture);
    await insertItem(db, '300', 'a');
    await insertItem(db, '301', 'b');
    await first.waitFor(3);
    await first.run.stop();
    expect(first.events.map((e) => e.key.id)).toEqual(['299', '300', '301']);
    const acknowledged = first.run.lastPosition;
    expect(acknowledged).toBe(first.events[2]!.position);
    await insertItem(db, '302', 'c'); // written while nobody listens
    const second = await started(capture, acknowledged);
    await insertItem(db, '303', 'd');
    const events = await second.waitFor(2);
    await second.settle();
    expect(events.map((e) => e.key.id)).toEqual(['302', '303']);
    expect(events[0]!.position > acknowledged!).toBe(true);
    await db.exec('delete from items where id >= 299 and id < 400');
    await capture.uninstall();
  });

  it('gives a handler that throws the same events again', async () => {
    const capture = await installed();
    let failures = 0;
    const seen: string[][] = [];
    const c = await started(capture, null, async (batch) => {
      seen.push(batch.map((e) => e.position));
      if (failures++ < 2) throw new Error('not now');
    });
    await insertItem(db, '400', 'x');
    await insertItem(db, '401', 'y');
    const events = await c.waitFor(2);
    expect(events.map((e) => e.key.id)).toEqual(['400', '401']);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen[0]![0]).toBe(events[0]!.position);
    expect(seen[1]![0]).toBe(events[0]!.position);
    expect(c.run.lastPosition).toBe(events[1]!.position);
    await db.exec('delete from items where id in (400, 401)');
    await capture.uninstall();
  });

  it.skipIf(engine.kind === 'sqlite')(
    'waits for a transaction that drew a lower id and commits later',
    async () => {
      const capture = await installed();
      const c = await started(capture);
      const slow = await db.session();
      try {
        await slow.exec('begin');
        await insertItem(db, '500', 'slow, lower id', slow.exec);
        await insertItem(db, '501', 'fast, higher id');
        const early = await c.settle();
        expect(early).toEqual([]); // 501 must not be delivered past the open 500
        await slow.exec('commit');
      } finally {
        await slow.close();
      }
      const events = await c.waitFor(2);
      expect(events.map((e) => e.key.id)).toEqual(['500', '501']);
      await db.exec('delete from items where id in (500, 501)');
      await capture.uninstall();
    },
  );

  it('re-install replaces triggers and drops those of tables left out; uninstall removes everything', async () => {
    const capture = await installed(['items', 'notes']);
    expect((await capture.listTriggers()).sort()).toHaveLength(6);
    await capture.install([db.table('items')]);
    const names = (await catalogTriggers(db)).filter((n) => n.startsWith(`braid_${capture.name}_`));
    expect(names.sort()).toEqual([
      `braid_${capture.name}_items_del`,
      `braid_${capture.name}_items_ins`,
      `braid_${capture.name}_items_upd`,
    ]);
    const c = await started(capture);
    await db.exec('insert into notes (id, body) values (1, ?)', ['not captured']);
    await insertItem(db, '600', 'captured');
    const events = await c.waitFor(1);
    await c.settle();
    expect(events.map((e) => e.table)).toEqual([itemsName()]);
    await c.run.stop();
    await capture.uninstall();
    expect((await catalogTriggers(db)).filter((n) => n.startsWith(`braid_${capture.name}_`))).toEqual([]);
    const tables = await catalogTables(db);
    expect(tables).toContain('items');
    expect(tables.filter((t) => t.endsWith(`_${capture.name}`))).toEqual([]);
    expect(await capture.changelogExists()).toBe(false);
    // Writes go on working without the triggers.
    await db.exec('delete from items where id = 600');
    await db.exec('delete from notes where id = 1');
  });

  it.skipIf(engine.kind === 'sqlite')(
    'reads zone-aware values written from a session in another time zone',
    async () => {
      // MySQL's TIMESTAMP (unlike the DATETIME Braid creates for datetimetz) is shown in the session zone.
      const ddl = {
        postgres: 'create table stamps (id integer primary key, ts timestamptz)',
        mysql: 'create table stamps (id integer primary key, ts timestamp(6) null)',
        sqlite: '',
      }[engine.kind];
      await db.exec(ddl);
      await db.refresh();
      const capture = await installed(['stamps']);
      const c = await started(capture);
      const s = await db.session();
      try {
        await s.exec(
          engine.kind === 'postgres' ? "set time zone 'Asia/Kolkata'" : "set time_zone = '+05:30'",
        );
        await s.exec("insert into stamps (id, ts) values (1, '2024-05-01 13:30:00.250000')");
      } finally {
        await s.close();
      }
      const [event] = await c.waitFor(1);
      expect(event!.after).toEqual({ id: 1, ts: '2024-05-01T08:00:00.25Z' });
      expect(event!.after).toEqual(await db.connector.getByKey(db.table('stamps'), { id: 1 }));
      await capture.uninstall();
    },
  );

  it.runIf(engine.kind === 'postgres')(
    'lets a user without any privilege on the changelog keep writing (and captures it)',
    async () => {
      const capture = await installed(['notes']);
      const c = await started(capture);
      const role = `braid_writer_${Date.now().toString(36)}`;
      await db.exec(`create role ${role} nologin`);
      try {
        await db.exec(`grant usage on schema "${db.schema}" to ${role}`);
        await db.exec(`grant insert, select on notes to ${role}`);
        const s = await db.session();
        try {
          await s.exec(`set role ${role}`);
          await s.exec('insert into notes (id, body) values (900, ?)', ['by another user']);
        } finally {
          await s.close();
        }
        const [event] = await c.waitFor(1);
        expect(event!.after).toEqual({ id: 900, body: 'by another user' });
      } finally {
        await db.exec(`drop owned by ${role}`);
        await db.exec(`drop role ${role}`);
        await db.exec('delete from notes where id = 900');
      }
      await capture.uninstall();
    },
  );

  it('keeps every committed change of concurrent writers, in order per row, and none rolled back', async () => {
    const capture = await installed(['notes']);
    const c = await started(capture);
    const keys = [1, 2, 3, 4, 5];
    for (const k of keys) await db.exec('insert into notes (id, body) values (?, ?)', [k, '0']);
    await c.waitFor(keys.length);
    // Each committed update raises the row's counter by one, so per row the captured counters must
    // be exactly 1, 2, 3... in delivery order: a lost, repeated or reordered change breaks the run.
    const bump = 'update notes set body = cast(cast(body as integer) + 1 as varchar(20)) where id = ?';
    const bumpSql =
      engine.kind === 'mysql' ? bump.replace('as integer', 'as signed').replace('varchar(20)', 'char') : bump;
    let committed = 0;
    const writer = async (seed: number): Promise<void> => {
      const s = await db.session();
      try {
        for (let i = 0; i < 12; i++) {
          const key = keys[(seed * 7 + i * 3) % keys.length]!;
          const commit = (seed + i) % 5 !== 0;
          if (engine.kind === 'sqlite') await s.transaction([[bumpSql, [key]]], commit);
          else {
            // Held open for a while so that transactions overlap and commit out of id order.
            await s.exec('begin');
            await s.exec(bumpSql, [key]);
            await new Promise((resolve) => setTimeout(resolve, (seed * 13 + i * 7) % 25));
            await s.exec(commit ? 'commit' : 'rollback');
          }
          if (commit) committed++;
        }
      } finally {
        await s.close();
      }
    };
    await Promise.all([0, 1, 2, 3].map((seed) => writer(seed)));
    const events = (await c.waitFor(keys.length + committed, 20_000)).slice(keys.length);
    await c.settle();
    expect(c.events).toHaveLength(keys.length + committed);
    for (const k of keys) {
      const counters = events.filter((e) => e.key.id === k).map((e) => Number(e.after!.body));
      expect(counters).toEqual(counters.map((_, i) => i + 1));
      const stored = await db.connector.getByKey(db.table('notes'), { id: k });
      expect(Number(stored!.body)).toBe(counters.length);
    }
    await db.exec('delete from notes where id <= 5');
    await capture.uninstall();
  });

  it('probe says trigger capture is available', async () => {
    const probe = await probeTriggerCapture(db.connector, [db.table('items')]);
    expect(probe).toMatchObject({ kind: 'triggers', available: true });
    expect(probe.reason).not.toBe('');
  });
});

/** Trigger names on the isolated database, straight from the engine's catalog. */
async function catalogTriggers(db: CaptureDb): Promise<string[]> {
  const sqlText = {
    postgres: `select t.tgname as name from pg_trigger t join pg_class c on c.oid = t.tgrelid
               join pg_namespace n on n.oid = c.relnamespace where not t.tgisinternal and n.nspname = current_schema()`,
    mysql: 'select trigger_name as name from information_schema.triggers where trigger_schema = database()',
    sqlite: "select name from sqlite_schema where type = 'trigger'",
  }[db.kind];
  return (await db.query(sqlText)).map((r) => String(r.name ?? r.NAME));
}

async function catalogTables(db: CaptureDb): Promise<string[]> {
  const sqlText = {
    postgres: 'select tablename as name from pg_tables where schemaname = current_schema()',
    mysql: 'select table_name as name from information_schema.tables where table_schema = database()',
    sqlite: "select name from sqlite_schema where type = 'table'",
  }[db.kind];
  return (await db.query(sqlText)).map((r) => String(r.name ?? r.NAME));
}
