import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../src/model/change-event.js';
import type { SyncEngine } from '../../src/sync/engine/index.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import { openUseCase, waitFor, type UseCase } from './sync-engine-fixture.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());

/**
 * Decisions that must survive a restart and at-least-once redelivery: stored converged values
 * (PostgreSQL logical capture without a before-image), replays of applied updates and inserts from
 * an older position, and a per-member capture override. Each case has its own databases.
 */
describe.skipIf(!ready)('sync engine: restarts and replays', () => {
  let uc: UseCase;
  let syncId: string | undefined;

  beforeEach(async () => {
    uc = await openUseCase('sync_rst');
    syncId = undefined;
  }, 60_000);

  afterEach(async () => {
    await uc.close(syncId);
  }, 60_000);

  const store = () => uc.meta.store;

  /** Reconciles and starts a sync, then applies one change so the binlog member has a stored position. */
  async function started(options: Parameters<UseCase['createSync']>[0]): Promise<string> {
    const id = await uc.createSync(options);
    syncId = id;
    await uc.engine.reconcile(id, { mode: 'apply' });
    await uc.engine.start(id);
    await uc.my.query("update crm_business_information set contact_name = 'Bo' where id = 2");
    await uc.my.query("update crm_business_information set phone = '555 010 2222' where id = 2");
    await waitFor('the warm-up phone', async () => String((await uc.inv(2)).phone) === '5550102222');
    // Both warm-up events applied and their position stored: the replays below start after them.
    await waitFor('the stored position', async () => {
      const member = (await uc.engine.status(id)).members[0]!;
      const stored = await store().syncPositions.get(id, 0);
      return member.eventsApplied >= 2 && stored !== null && stored === member.lastPosition;
    });
    return id;
  }

  /** Starts a second engine on the sync and stops it at the end, as a restarted process would. */
  async function withNewEngine(id: string, fn: (engine: SyncEngine) => Promise<void>): Promise<void> {
    const engine = uc.newEngine();
    await engine.start(id);
    try {
      await fn(engine);
    } finally {
      await engine.stop(id);
    }
  }

  it('a restarted engine settles a conflict by priority without a before-image (stored converged values)', async () => {
    const id = await started({ capture: 'auto' });
    const identity = await uc.pg.query(
      "select relreplident as r from pg_class where oid = 'invoice_customers'::regclass",
    );
    expect(identity.rows[0].r).toBe('d');
    const entityId = (await store().entityLinks.linkFor(id, 1, { id: 1 }))!.entityId;
    expect((await store().syncEntityState.get(id, entityId))?.converged).toEqual({
      email: 'ada@blue.example',
      phone: '5550100001',
    });
    await uc.engine.stop(id);
    // Concurrent edits of one field: neither side has seen the other's. The rule's order puts the
    // CRM first, so the CRM's value must win.
    await uc.my.query("update crm_business_information set email = 'crm@blue.example' where id = 1");
    await uc.pg.query("update invoice_customers set email = 'inv@blue.example' where id = 1");
    // The PostgreSQL event first, applied alone by a fresh engine (nothing in memory): the capture's
    // event as logical replication delivers it without REPLICA IDENTITY FULL, with no `before`.
    // retryDeadLetter is the one public path that applies a single event. Without the stored
    // converged email, nothing would show that the CRM changed too, and its value would be lost.
    const letter = await store().syncDeadLetters.add<ChangeEvent>({
      syncId: id,
      member: 1,
      reason: 'applied first, alone',
      event: {
        source: uc.invSource,
        table: 'invoice_customers',
        op: 'update',
        key: { id: 1 },
        after: await uc.inv(1),
        commitTime: new Date().toISOString(),
        position: 'applied-first',
      },
    });
    await uc.newEngine().retryDeadLetter(letter.id);
    expect((await uc.inv(1)).email).toBe('crm@blue.example');
    expect((await uc.crm(1)).email).toBe('crm@blue.example');
    // Then both events as capture delivers them, to another new engine: nothing changes any more.
    await withNewEngine(id, async (engine) => {
      await waitFor('both events', async () =>
        (await engine.status(id)).members.every((m) => m.eventsApplied >= 1),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await uc.crm(1)).email).toBe('crm@blue.example');
      expect((await uc.inv(1)).email).toBe('crm@blue.example');
      expect((await engine.status(id)).members.map((m) => m.writes)).toEqual([0, 0]);
    });
    expect((await store().syncEntityState.get(id, entityId))?.converged).toMatchObject({
      email: 'crm@blue.example',
    });
    // The policy's decision is on record with its winner (the CRM) and loser (invoicing).
    const decided = (await store().syncConflicts.list(id, 'resolved')).filter((c) => c.field === 'email');
    expect(decided.length).toBeGreaterThan(0);
    expect(decided[0]!.resolution).toMatchObject({
      value: 'crm@blue.example',
      winner: 0,
      losers: [{ member: 1 }],
      by: 'policy:priority',
    });
  }, 60_000);

  it('updates replayed from an older position write nothing and regress nothing', async () => {
    const id = await started({ capture: 'auto' });
    const from = (await store().syncPositions.get(id, 0))!;
    // Every row update on the target, Braid's included, lands in the audit table.
    await uc.pg.query(`create table audit (at timestamptz default now(), row_id int);
      create function audit_update() returns trigger language plpgsql set search_path from current as $$
        begin insert into audit (row_id) values (new.id); return new; end $$;
      create trigger audit_updates after update on invoice_customers for each row execute function audit_update();`);
    const updates: [string, string, number][] = [];
    for (let i = 0; i < 5; i++) {
      updates.push(['email', `ada${i}@blue.example`, 1]);
      updates.push(['phone', `555 010 ${1000 + i}`, 1]);
      updates.push(['email', `cy${i}@cedar.example`, 3]);
    }
    updates.push(['phone', '555 010 7777', 2], ['email', 'last@acme.example', 2]);
    for (const [column, value, row] of updates) {
      await uc.my.query(`update crm_business_information set ${column} = ? where id = ?`, [value, row]);
    }
    const final = async () => [await uc.inv(1), await uc.inv(2), await uc.inv(3)];
    await waitFor(
      'the last update in PostgreSQL',
      async () => (await uc.inv(2)).email === 'last@acme.example',
    );
    await waitFor(
      'every event applied',
      async () => (await uc.engine.status(id)).members[0]!.eventsApplied >= updates.length + 2,
    );
    await uc.engine.stop(id);
    const expected = await final();
    expect(expected.map((r) => [r.email, String(r.phone)])).toEqual([
      ['ada4@blue.example', '5550101004'],
      ['last@acme.example', '5550107777'],
      ['cy4@cedar.example', '5550100003'],
    ]);
    const audited = Number((await uc.pg.query('select count(*) as n from audit')).rows[0].n);
    expect(audited).toBeGreaterThan(0);

    // A crash before the position was saved: the whole run is delivered again.
    await store().syncPositions.save(id, 0, from);
    await withNewEngine(id, async (engine) => {
      await waitFor(
        'the replayed events',
        async () => (await engine.status(id)).members[0]!.eventsApplied >= updates.length,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      const status = await engine.status(id);
      expect(status.members[0]!.noopEvents).toBe(status.members[0]!.eventsApplied);
      expect(status.members.map((m) => m.writes)).toEqual([0, 0]);
    });
    expect(Number((await uc.pg.query('select count(*) as n from audit')).rows[0].n)).toBe(audited);
    expect(await final()).toEqual(expected);
  }, 60_000);

  it('a replayed insert links the row it created before the crash instead of creating a second', async () => {
    const id = await started({ capture: 'auto', inserts: 'create' });
    const from = (await store().syncPositions.get(id, 0))!;
    const [result] = await uc.my.query(
      "insert into crm_business_information (business_name, email, phone) values ('Replay  Shop', 'r@shop.example', '555 010 0099')",
    );
    const crmId = (result as { insertId: number }).insertId;
    const created = async () =>
      (await uc.pg.query("select id from invoice_customers where business_name = 'Replay  Shop'")).rows as {
        id: number;
      }[];
    await waitFor('the row in PostgreSQL', async () => (await created()).length === 1);
    const invId = (await created())[0]!.id;
    await waitFor('its link', async () => (await store().entityLinks.linkFor(id, 1, { id: invId })) !== null);
    await uc.engine.stop(id);
    // The crash came after the row was created and before its link (and the entity's state, written
    // last) were stored.
    const entityId = (await store().entityLinks.linkFor(id, 0, { id: crmId }))!.entityId;
    expect(await store().entityLinks.unlink(id, 1, { id: invId })).toBe(true);
    expect(await store().syncEntityState.delete(id, entityId)).toBe(true);
    await store().syncPositions.save(id, 0, from);

    await withNewEngine(id, async (engine) => {
      await waitFor(
        'the replayed insert',
        async () => (await engine.status(id)).members[0]!.eventsApplied >= 1,
      );
      expect((await engine.status(id)).members[1]!.writes).toBe(0);
    });
    expect(await created()).toEqual([{ id: invId }]);
    const crmLink = await store().entityLinks.linkFor(id, 0, { id: crmId });
    const invLink = await store().entityLinks.linkFor(id, 1, { id: invId });
    expect(invLink?.entityId).toBe(crmLink?.entityId);
  }, 60_000);

  it("a member's own capture wins over the rule's", async () => {
    const id = await uc.createSync({ capture: 'auto', memberCapture: [undefined, 'triggers'] });
    syncId = id;
    await uc.engine.reconcile(id, { mode: 'apply' });
    await uc.engine.start(id);
    const status = await uc.engine.status(id);
    expect(status.members.map((m) => m.strategy)).toEqual(['binlog', 'triggers']);
    expect(status.members[1]!.reason).toMatch(/using triggers \(chosen by the rule\)/);
    expect(status.members[0]!.reason).not.toMatch(/chosen by the rule/);
    await uc.pg.query("update invoice_customers set email = 'trg@acme.example' where id = 2");
    await waitFor('the email in MariaDB', async () => (await uc.crm(2)).email === 'trg@acme.example');
  }, 60_000);
});
