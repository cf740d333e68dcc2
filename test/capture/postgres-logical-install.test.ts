import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PostgresLogicalCapture,
  logicalAvailability,
  probePostgresLogical,
  type LogicalCaptureFacts,
  type TruncateNotice,
} from '../../src/capture/postgres-logical/index.js';
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
  withClient,
} from './postgres-logical-helpers.js';

const available = await postgresAvailable();

const slotAndPublication = (name: string) =>
  withClient(async (client) => ({
    slots: (await client.query('select 1 from pg_replication_slots where slot_name = $1', [name])).rowCount,
    publications: (await client.query('select 1 from pg_publication where pubname = $1', [name])).rowCount,
    tables: (
      await client.query<{ tablename: string }>(
        'select tablename from pg_publication_tables where pubname = $1 order by tablename',
        [name],
      )
    ).rows.map((r) => r.tablename),
  }));

describe.skipIf(!available)('PostgreSQL logical capture: install, uninstall, probe', () => {
  let db: Awaited<ReturnType<typeof createPostgresSchema>>;
  let connector: Connector;
  const tables: Record<string, TableSchema> = {};
  const captures: PostgresLogicalCapture[] = [];
  const newCapture = (options: Partial<ConstructorParameters<typeof PostgresLogicalCapture>[0]> = {}) => {
    const capture = new PostgresLogicalCapture({
      source: 'src2',
      name: testCaptureName(),
      config: { url: POSTGRES_URL },
      ...options,
    });
    captures.push(capture);
    return capture;
  };
  const refresh = async () => {
    for (const t of (await connector.introspect()).tables) tables[t.name] = t;
  };

  beforeAll(async () => {
    await dropStaleTestSlots();
    db = await createPostgresSchema('plt');
    await postgresExec(
      db.schema,
      `create table keyed (id int primary key, v text);
       create table other_keyed (id int primary key, v text);
       create table keyless (a int, b text);
       create table parted (id int, region text, primary key (id, region)) partition by list (region);
       create table parted_eu partition of parted for values in ('eu');`,
    );
    connector = createPostgresConnector({ url: POSTGRES_URL, schemas: [db.schema] });
    await refresh();
  });

  afterAll(async () => {
    for (const capture of captures) {
      await capture.uninstall().catch(() => {});
      await forceDropCapture(capture.objectName);
    }
    await connector?.close();
    await db?.drop();
  });

  it('refuses a table without primary key and REPLICA IDENTITY DEFAULT, naming the fix', async () => {
    const capture = newCapture();
    const refused = capture.install([tables.keyless!]);
    await expect(refused).rejects.toMatchObject({ status: 400, code: 'replica_identity_missing' });
    await expect(refused).rejects.toThrow(/no primary key and REPLICA IDENTITY DEFAULT/);
    await expect(refused).rejects.toThrow(`ALTER TABLE "${db.schema}"."keyless" REPLICA IDENTITY FULL`);
    // Nothing was created: the publication would have broken UPDATE/DELETE on the table.
    expect(await slotAndPublication(capture.objectName)).toMatchObject({ slots: 0, publications: 0 });
  });

  it('accepts it with REPLICA IDENTITY FULL and reports the whole old row', async () => {
    await postgresExec(db.schema, 'alter table keyless replica identity full');
    const capture = newCapture();
    await capture.install([tables.keyless!]);
    const rec = recorder();
    const run = await capture.start(null, rec.handler);
    await postgresExec(
      db.schema,
      `insert into keyless values (1, 'x'); update keyless set b = 'y' where a = 1; delete from keyless;`,
    );
    const deleted = await rec.waitForEvent('the delete', (e) => e.op === 'delete');
    const updated = rec.events().find((e) => e.op === 'update')!;
    expect(updated).toMatchObject({
      key: { a: 1, b: 'y' },
      before: { a: 1, b: 'x' },
      after: { a: 1, b: 'y' },
    });
    expect(deleted).toMatchObject({ key: { a: 1, b: 'y' }, before: { a: 1, b: 'y' } });
    // An unchanged TOASTed value is not in the new tuple; the full old row supplies it.
    const big = Array.from({ length: 2500 }, () => Math.random().toString(16).slice(2, 18)).join('');
    await withClient(async (c) => {
      await c.query(`insert into "${db.schema}".keyless values (2, $1)`, [big]);
      await c.query(`update "${db.schema}".keyless set a = 3 where a = 2`);
    });
    const toasted = await rec.waitForEvent(
      'the update of the TOASTed row',
      (e) => e.op === 'update' && e.after!.a === 3,
    );
    expect(toasted.before!.b).toBe(big);
    expect(toasted.after!.b).toBe(big);
    await run.stop();
  });

  it('installs idempotently and alters the publication when the table list changes', async () => {
    const capture = newCapture();
    await capture.install([tables.keyed!]);
    await capture.install([tables.keyed!]);
    expect(await slotAndPublication(capture.objectName)).toEqual({
      slots: 1,
      publications: 1,
      tables: ['keyed'],
    });
    await capture.install([tables.other_keyed!]);
    expect((await slotAndPublication(capture.objectName)).tables).toEqual(['other_keyed']);
    const rec = recorder();
    const run = await capture.start(null, rec.handler);
    await postgresExec(
      db.schema,
      `insert into keyed values (1, 'dropped'); insert into other_keyed values (2, 'kept');`,
    );
    await rec.waitForEvent('the insert into the new table', (e) => e.key.id === 2);
    expect(rec.events().map((e) => e.table)).toEqual([`${db.schema}.other_keyed`]);
    await run.stop();
  });

  it('names the partitioned table, not the partition, in events', async () => {
    const capture = newCapture();
    await capture.install([tables.parted!]);
    const rec = recorder();
    const run = await capture.start(null, rec.handler);
    await postgresExec(db.schema, `insert into parted values (1, 'eu')`);
    const event = await rec.waitForEvent('the insert', (e) => e.op === 'insert');
    expect(event).toMatchObject({ table: `${db.schema}.parted`, key: { id: 1, region: 'eu' } });
    await run.stop();
  });

  it('uninstall leaves no slot and no publication, even while another process streams the slot', async () => {
    const streaming = newCapture();
    await streaming.install([tables.keyed!]);
    const run = await streaming.start(null, async () => {});
    // A second instance, as after a crash: it must take the slot away from the live walsender.
    const cleaner = new PostgresLogicalCapture({
      source: 'src2',
      name: streaming.name,
      config: { url: POSTGRES_URL },
    });
    await cleaner.uninstall();
    expect(await slotAndPublication(streaming.objectName)).toEqual({ slots: 0, publications: 0, tables: [] });
    await expect(run.done).rejects.toThrow();
    await cleaner.uninstall(); // nothing left: still fine
    await expect(streaming.start(null, async () => {})).rejects.toMatchObject({
      code: 'capture_not_installed',
    });
  });

  it('fails the run at a TRUNCATE unless onTruncate handles it, and never skips it', async () => {
    const notices: TruncateNotice[] = [];
    const capture = newCapture({ onTruncate: async (n) => void notices.push(n) });
    await capture.install([tables.other_keyed!]);
    const unhandled = new PostgresLogicalCapture({
      source: 'src2',
      name: capture.name,
      config: { url: POSTGRES_URL },
    });
    const first = await unhandled.start(null, async () => {});
    await postgresExec(db.schema, 'truncate other_keyed');
    await expect(first.done).rejects.toMatchObject({ code: 'capture_truncate' });
    // Not acknowledged: the next run (with a handler) still sees it.
    const rec = recorder();
    const run = await capture.start(null, rec.handler);
    const notice = await waitFor('the truncate notice', () => notices[0]);
    expect(notice.tables).toEqual([`${db.schema}.other_keyed`]);
    expect(notice.position).toMatch(/^[0-9A-F]{8}\/[0-9A-F]{8}:\d{10}$/);
    await run.stop();
    expect(run.lastPosition).toBe(notice.position);
  });

  it('withOrigin works for a role without REPLICATION or superuser', async () => {
    const role = `plt_plain_${Date.now().toString(36)}`;
    await postgresExec(
      db.schema,
      `create role ${role} login; grant usage on schema "${db.schema}" to ${role}; grant all on keyed to ${role};`,
    );
    const url = new URL(POSTGRES_URL);
    url.username = role;
    const plain = createPostgresConnector({ url: url.toString(), schemas: [db.schema] });
    const capture = newCapture();
    try {
      await capture.install([tables.keyed!]);
      const rec = recorder();
      const run = await capture.start(null, rec.handler);
      await capture.withOrigin(plain, 'sync-plain', (tx) => tx.insert(tables.keyed!, [{ id: 77, v: 'x' }]));
      const event = await rec.waitForEvent('the tagged insert', (e) => e.key.id === 77);
      expect(event.origin).toBe('sync-plain');
      await run.stop();
    } finally {
      await plain.close();
      await postgresExec(db.schema, `drop owned by ${role}; drop role ${role};`);
    }
  });

  it('probe: available here, and a reason people can act on when not', async () => {
    expect(await probePostgresLogical(connector)).toMatchObject({ kind: 'logical', available: true });
    const facts: LogicalCaptureFacts = {
      walLevel: 'logical',
      canReplicate: true,
      user: 'app',
      maxSlots: 10,
      usedSlots: 2,
      maxWalSenders: 10,
      usedWalSenders: 1,
      serverVersion: 150020,
    };
    expect(logicalAvailability(facts)).toEqual({
      kind: 'logical',
      available: true,
      reason: 'wal_level is logical, 8 of 10 replication slots free',
    });
    expect(logicalAvailability({ ...facts, walLevel: 'replica' })).toEqual({
      kind: 'logical',
      available: false,
      reason: 'wal_level is replica: ask for wal_level=logical (takes a server restart) or use triggers',
    });
    expect(logicalAvailability({ ...facts, canReplicate: false }).reason).toMatch(/user "app" .*REPLICATION/);
    expect(logicalAvailability({ ...facts, usedSlots: 10 }).reason).toMatch(
      /all 10 replication slots are in use/,
    );
    expect(logicalAvailability({ ...facts, serverVersion: 130000 })).toMatchObject({ available: true });
    expect(logicalAvailability({ ...facts, serverVersion: 90600 }).available).toBe(false);
  });
});
