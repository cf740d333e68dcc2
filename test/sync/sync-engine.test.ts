import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureName } from '../../src/sync/engine/index.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import { leftovers, openUseCase, waitFor, type UseCase } from './sync-engine-fixture.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());

/**
 * The use case with log-based capture: `capture: "auto"` picks logical replication for the
 * PostgreSQL member and the row binlog for the MariaDB member. Changes are made through plain
 * driver connections, as the CRM and the invoicing tool would.
 */
describe.skipIf(!ready)('sync engine: logical (PostgreSQL) + binlog (MariaDB)', () => {
  let uc: UseCase;
  let syncId: string;
  let untouched: unknown[];

  const snapshotUntouched = async () => [
    (
      await uc.my.query(
        'select id, category, description, contact_name from crm_business_information order by id',
      )
    )[0],
    (await uc.pg.query('select id, billing_cycle, business_name from invoice_customers order by id')).rows,
  ];
  const stats = async (member: number) => (await uc.engine.status(syncId)).members[member]!;

  beforeAll(async () => {
    uc = await openUseCase('sync_log');
    syncId = await uc.createSync({ capture: 'auto' });
    const report = await uc.engine.reconcile(syncId, { mode: 'apply' });
    expect(report.summary.matched).toBe(3);
    untouched = await snapshotUntouched();
    await uc.engine.start(syncId);
  }, 60_000);

  afterAll(async () => {
    await uc?.close(syncId);
  }, 60_000);

  it('picks logical for PostgreSQL and binlog for MariaDB, and says why', async () => {
    const status = await uc.engine.status(syncId);
    expect(status.members.map((m) => m.strategy)).toEqual(['binlog', 'logical']);
    expect(status.members[0]!.reason).toMatch(/logical: .*PostgreSQL.*using binlog/);
    expect(status.members[1]!.reason).toMatch(/wal_level is logical.*using logical/);
  });

  it('a phone updated in MariaDB appears in PostgreSQL as a number', async () => {
    const started = Date.now();
    await uc.my.query("update crm_business_information set phone = '+1 555 777 0001' where id = 1");
    await waitFor('the phone in PostgreSQL', async () => String((await uc.inv(1)).phone) === '5557770001');
    console.log(`logical+binlog: MariaDB -> PostgreSQL visible after ${Date.now() - started} ms`);
    const types = await uc.pg.query('select pg_typeof(phone)::text as t from invoice_customers where id = 1');
    expect(types.rows[0].t).toBe('bigint');
    expect((await uc.crm(1)).phone).toBe('+1 555 777 0001');
  });

  it('an email updated in PostgreSQL appears in MariaDB', async () => {
    const started = Date.now();
    await uc.pg.query("update invoice_customers set email = 'billing@acme.example' where id = 2");
    await waitFor('the email in MariaDB', async () => (await uc.crm(2)).email === 'billing@acme.example');
    console.log(`logical+binlog: PostgreSQL -> MariaDB visible after ${Date.now() - started} ms`);
    expect((await uc.inv(2)).email).toBe('billing@acme.example');
  });

  it('100 updates on one side give exactly 100 writes on the other and none come back', async () => {
    const crm0 = await stats(0);
    const inv0 = await stats(1);
    for (let i = 0; i < 100; i++) {
      await uc.my.query('update crm_business_information set email = ? where id = 3', [
        `cy${i}@cedar.example`,
      ]);
    }
    await waitFor(
      'the last email in PostgreSQL',
      async () => (await uc.inv(3)).email === 'cy99@cedar.example',
      30_000,
    );
    // Every write comes back through logical replication tagged with the sync's origin.
    await waitFor(
      'the 100 echoes',
      async () => (await stats(1)).echoesSkipped - inv0.echoesSkipped >= 100,
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const crm1 = await stats(0);
    const inv1 = await stats(1);
    expect(crm1.eventsApplied - crm0.eventsApplied).toBe(100);
    expect(inv1.writes - inv0.writes).toBe(100);
    expect(inv1.echoesSkipped - inv0.echoesSkipped).toBe(100);
    expect(inv1.eventsApplied - inv0.eventsApplied).toBe(0);
    expect(crm1.writes - crm0.writes).toBe(0);
    expect((await uc.crm(3)).email).toBe('cy99@cedar.example');
  }, 60_000);

  it('an event that cannot be applied goes to dead letters, the stream goes on, and it can be retried', async () => {
    await uc.my.query("update crm_business_information set email = 'not-an-email' where id = 1");
    await uc.my.query("update crm_business_information set phone = '555 010 9999' where id = 2");
    await waitFor(
      'the next change in PostgreSQL',
      async () => String((await uc.inv(2)).phone) === '5550109999',
    );
    const [letter] = await uc.meta.store.syncDeadLetters.list(syncId);
    expect(letter?.reason).toMatch(/check constraint/);
    expect((await uc.engine.status(syncId)).deadLetters).toBe(1);
    expect((await uc.inv(1)).email).toBe('ada@blue.example');

    await uc.pg.query('alter table invoice_customers drop constraint invoice_customers_email_check');
    await uc.engine.retryDeadLetter(letter!.id);
    expect((await uc.inv(1)).email).toBe('not-an-email');
    expect(await uc.meta.store.syncDeadLetters.list(syncId)).toEqual([]);
  });

  it('never touches category, description, billing_cycle or the names', async () => {
    expect(await snapshotUntouched()).toEqual(untouched);
  });

  it('a target that fails with a 5xx is retried until it is back: nothing lost, nothing dead-lettered', async () => {
    // A real failure on the real server: while `outage` has a row, every update of the table fails
    // with lock_not_available (55P03), which Braid reports as a 504 (transient).
    await uc.pg.query(`create table outage (since timestamptz);
      create function refuse() returns trigger language plpgsql set search_path from current as $$ begin
        if exists (select 1 from outage) then raise exception 'target down' using errcode = '55P03'; end if;
        return new; end $$;
      create trigger refuse_updates before update on invoice_customers for each row execute function refuse();
      insert into outage values (now());`);
    const before = await stats(0);
    const writes = (await stats(1)).writes;
    await uc.my.query("update crm_business_information set phone = '555 010 6666' where id = 2");
    await waitFor('a failed attempt', async () => (await stats(0)).errors > before.errors, 20_000);
    expect(String((await uc.inv(2)).phone)).not.toBe('5550106666');
    expect((await stats(0)).lastPosition).toBe(before.lastPosition);
    await uc.pg.query('delete from outage');
    await waitFor(
      'the phone after the outage',
      async () => String((await uc.inv(2)).phone) === '5550106666',
      30_000,
    );
    expect((await stats(1)).writes).toBe(writes + 1);
    expect((await uc.engine.status(syncId)).deadLetters).toBe(0);
    await uc.pg.query(
      'drop trigger refuse_updates on invoice_customers; drop function refuse(); drop table outage',
    );
  }, 60_000);

  it('a new engine (a restarted process) resumes from the stored positions and writes each change once', async () => {
    await uc.engine.stop(syncId);
    await uc.my.query("update crm_business_information set phone = '555 010 4444' where id = 3");
    await uc.pg.query("update invoice_customers set email = 'after-restart@blue.example' where id = 1");
    const engine = uc.newEngine();
    await engine.start(syncId);
    try {
      await waitFor('the phone in PostgreSQL', async () => String((await uc.inv(3)).phone) === '5550104444');
      await waitFor(
        'the email in MariaDB',
        async () => (await uc.crm(1)).email === 'after-restart@blue.example',
      );
      await waitFor('both echoes', async () =>
        (await engine.status(syncId)).members.every((m) => m.echoesSkipped >= 1),
      );
      // A redelivered batch may be applied again, but finds the members agreeing: no second write.
      const status = await engine.status(syncId);
      expect(status.members.map((m) => m.writes)).toEqual([1, 1]);
      expect(status.members.every((m) => m.eventsApplied >= 1 && m.lagMs !== null)).toBe(true);
    } finally {
      await engine.stop(syncId);
    }
  });

  it('remove leaves no slot, publication, trigger or changelog behind', async () => {
    const fragment = captureName(syncId, 0).slice(0, -3);
    expect((await leftovers(uc, fragment)).length).toBeGreaterThan(0);
    await uc.engine.remove(syncId);
    expect(await leftovers(uc, fragment)).toEqual([]);
    expect((await uc.engine.status(syncId)).running).toBe(false);
  });
});
