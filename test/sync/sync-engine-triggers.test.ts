import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureName } from '../../src/sync/engine/index.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import { leftovers, openUseCase, waitFor, type UseCase } from './sync-engine-fixture.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());

/**
 * The use case with `capture: "triggers"` on both members (changelog tables and triggers that
 * Braid creates), then a manual-policy rule whose concurrent conflicting updates open a conflict.
 */
describe.skipIf(!ready)('sync engine: triggers on MariaDB and PostgreSQL', () => {
  let uc: UseCase;
  let syncId: string;
  let manualId: string | undefined;

  beforeAll(async () => {
    uc = await openUseCase('sync_trg');
    syncId = await uc.createSync({ capture: 'triggers', inserts: 'create', deletes: 'propagate' });
    expect((await uc.engine.reconcile(syncId, { mode: 'apply' })).summary.matched).toBe(3);
    await uc.engine.start(syncId);
  }, 60_000);

  afterAll(async () => uc?.close(syncId, manualId), 60_000);

  it('uses triggers on both members, as the rule says', async () => {
    const status = await uc.engine.status(syncId);
    expect(status.members.map((m) => m.strategy)).toEqual(['triggers', 'triggers']);
    expect(status.members[0]!.reason).toMatch(/using triggers \(chosen by the rule\)/);
  });

  it('propagates a phone from MariaDB as a number and an email from PostgreSQL, without echoes', async () => {
    let started = Date.now();
    await uc.my.query("update crm_business_information set phone = '+1 555 888 0001' where id = 1");
    await waitFor('the phone in PostgreSQL', async () => String((await uc.inv(1)).phone) === '5558880001');
    console.log(`triggers: MariaDB -> PostgreSQL visible after ${Date.now() - started} ms`);
    started = Date.now();
    await uc.pg.query("update invoice_customers set email = 'billing@acme.example' where id = 2");
    await waitFor('the email in MariaDB', async () => (await uc.crm(2)).email === 'billing@acme.example');
    console.log(`triggers: PostgreSQL -> MariaDB visible after ${Date.now() - started} ms`);
    const types = await uc.pg.query('select pg_typeof(phone)::text as t from invoice_customers where id = 1');
    expect(types.rows[0].t).toBe('bigint');
    // Each write comes back tagged (the triggers copy the origin), never as a change to apply.
    await waitFor('the echoes', async () => {
      const s = await uc.engine.status(syncId);
      return s.members[0]!.echoesSkipped === 1 && s.members[1]!.echoesSkipped === 1;
    });
    const status = await uc.engine.status(syncId);
    expect(status.members.map((m) => [m.eventsApplied, m.writes])).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect((await uc.crm(1)).category).toBe('food');
    expect((await uc.inv(2)).billing_cycle).toBe('yearly');
  });

  it('creates an inserted customer in the other member and propagates its delete', async () => {
    await uc.pg.query(
      "insert into invoice_customers (business_name, email, phone, billing_cycle) values ('New  Shop', 'new@shop.example', 5550100077, 'monthly')",
    );
    let created: Record<string, unknown> | undefined;
    await waitFor('the row in MariaDB', async () => {
      const [rows] = await uc.my.query(
        "select * from crm_business_information where business_name = 'New  Shop'",
      );
      created = (rows as Record<string, unknown>[])[0];
      return created !== undefined;
    });
    expect(created).toMatchObject({ email: 'new@shop.example', phone: '5550100077', category: null });
    await uc.pg.query("delete from invoice_customers where business_name = 'New  Shop'");
    await waitFor('the delete in MariaDB', async () => {
      const [rows] = await uc.my.query('select id from crm_business_information where id = ?', [created!.id]);
      return (rows as unknown[]).length === 0;
    });
  });

  it('remove leaves no trigger or changelog behind', async () => {
    const fragment = captureName(syncId, 0).slice(0, -3);
    expect((await leftovers(uc, fragment)).length).toBeGreaterThan(0);
    await uc.engine.remove(syncId);
    expect(await leftovers(uc, fragment)).toEqual([]);
  });

  it('a manual-policy rule opens a conflict for concurrent conflicting updates and writes nothing', async () => {
    manualId = await uc.createSync({ capture: 'triggers', policy: 'manual' });
    await uc.engine.reconcile(manualId, { mode: 'apply' });
    // Installed but stopped: both updates happen before the engine sees either, as concurrent edits.
    await uc.engine.start(manualId);
    await uc.engine.stop(manualId);
    await uc.my.query("update crm_business_information set email = 'crm@cedar.example' where id = 3");
    await uc.pg.query("update invoice_customers set email = 'inv@cedar.example' where id = 3");
    await uc.engine.start(manualId);
    await waitFor('the conflict', async () => (await uc.meta.store.syncConflicts.list(manualId!)).length > 0);
    await waitFor('both events', async () => {
      const s = await uc.engine.status(manualId!);
      return s.members.every((m) => m.eventsApplied === 1);
    });
    const conflicts = await uc.meta.store.syncConflicts.list(manualId);
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]!.field).toBe('email');
    expect(conflicts[0]!.sides.map((s) => s.value).sort()).toEqual([
      'crm@cedar.example',
      'inv@cedar.example',
    ]);
    expect((await uc.crm(3)).email).toBe('crm@cedar.example');
    expect((await uc.inv(3)).email).toBe('inv@cedar.example');
  });
});
