import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BraidError } from '../../src/model/errors.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import { openUseCase, waitFor, type UseCase } from './sync-engine-fixture.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());

async function rejection(promise: Promise<unknown>): Promise<BraidError> {
  const err = await promise.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BraidError);
  return err as BraidError;
}

/**
 * The manual policy's review queue, settled through SyncEngine.resolveConflict on the use case with
 * log-based capture (binlog on MariaDB, logical on PostgreSQL), running and stopped.
 */
describe.skipIf(!ready)('sync engine: resolving conflicts', () => {
  let uc: UseCase;
  let syncId: string;

  const untouched = async () => [
    (
      await uc.my.query(
        'select id, category, description, contact_name from crm_business_information order by id',
      )
    )[0],
    (await uc.pg.query('select id, billing_cycle, business_name from invoice_customers order by id')).rows,
  ];

  beforeAll(async () => {
    uc = await openUseCase('sync_cfl');
    syncId = await uc.createSync({ capture: 'auto', policy: 'manual' });
    await uc.engine.reconcile(syncId, { mode: 'apply' });
    await uc.engine.start(syncId);
    // One change first, so the binlog member has a stored position to resume from.
    await uc.my.query("update crm_business_information set phone = '555 010 2222' where id = 2");
    await waitFor('the warm-up phone', async () => String((await uc.inv(2)).phone) === '5550102222');
    await waitFor(
      'the stored position',
      async () => (await uc.meta.store.syncPositions.get(syncId, 0)) !== null,
    );
  }, 60_000);

  afterAll(async () => {
    await uc?.close(syncId);
  }, 60_000);

  it('resolves a conflict with the PostgreSQL side: both databases hold it, nothing else changes', async () => {
    await uc.engine.stop(syncId);
    await uc.my.query("update crm_business_information set email = 'crm@cedar.example' where id = 3");
    await uc.pg.query("update invoice_customers set email = 'inv@cedar.example' where id = 3");
    const before = await untouched();
    await uc.engine.start(syncId);
    await waitFor('the conflict', async () => (await uc.meta.store.syncConflicts.list(syncId)).length > 0);
    const [conflict] = await uc.meta.store.syncConflicts.list(syncId);
    expect(conflict!.field).toBe('email');
    expect((await uc.crm(3)).email).toBe('crm@cedar.example');
    expect((await uc.inv(3)).email).toBe('inv@cedar.example');

    const notASide = await rejection(uc.engine.resolveConflict(conflict!.id, { member: 5 }));
    expect([notASide.status, notASide.code]).toEqual([400, 'invalid_choice']);
    const writes = (await uc.engine.status(syncId)).members.map((m) => m.writes);

    const resolved = await uc.engine.resolveConflict(conflict!.id, { member: 1 }, 'ada@example.com');
    expect(resolved.status).toBe('resolved');
    expect(resolved.resolution).toEqual({
      value: 'inv@cedar.example',
      winner: 1,
      losers: [{ member: 0, value: 'crm@cedar.example' }],
      by: 'ada@example.com',
    });
    const [crm] = (await uc.my.query('select email from crm_business_information where id = 3'))[0] as {
      email: string;
    }[];
    const inv = (await uc.pg.query('select email from invoice_customers where id = 3')).rows[0] as {
      email: string;
    };
    expect([crm!.email, inv.email]).toEqual(['inv@cedar.example', 'inv@cedar.example']);
    expect(await untouched()).toEqual(before);
    // One write, into MariaDB only; its echo is skipped, not applied back.
    expect((await uc.engine.status(syncId)).members.map((m) => m.writes)).toEqual([
      writes[0]! + 1,
      writes[1],
    ]);
    await waitFor('the echo', async () => (await uc.engine.status(syncId)).members[0]!.echoesSkipped >= 1);
    const entityId = conflict!.entityId;
    expect((await uc.meta.store.syncEntityState.get(syncId, entityId))?.converged).toMatchObject({
      email: 'inv@cedar.example',
    });

    const again = await rejection(uc.engine.resolveConflict(conflict!.id, { member: 0 }));
    expect([again.status, again.code]).toEqual([409, 'conflict_already_resolved']);
    expect((await rejection(uc.engine.resolveConflict('no-such-conflict', { member: 0 }))).status).toBe(404);
  }, 60_000);

  it('resolves with a value of its own on an engine that is not running it, through the write transforms', async () => {
    await uc.engine.stop(syncId);
    const entityId = (await uc.meta.store.entityLinks.linkFor(syncId, 0, { id: 1 }))!.entityId;
    const conflict = await uc.meta.store.syncConflicts.open({
      syncId,
      entityId,
      field: 'phone',
      sides: [
        { member: 0, value: '5550100001', commitTime: null },
        { member: 1, value: '5550100009', commitTime: null },
      ],
    });
    const resolved = await uc.newEngine().resolveConflict(conflict.id, { value: '5550101234' });
    expect(resolved.resolution).toEqual({
      value: '5550101234',
      winner: 'custom',
      losers: [
        { member: 0, value: '5550100001' },
        { member: 1, value: '5550100001' },
      ],
      by: null,
    });
    expect((await uc.crm(1)).phone).toBe('5550101234');
    const types = await uc.pg.query(
      'select phone, pg_typeof(phone)::text as t from invoice_customers where id = 1',
    );
    expect([String(types.rows[0].phone), types.rows[0].t]).toEqual(['5550101234', 'bigint']);
  }, 60_000);
});
