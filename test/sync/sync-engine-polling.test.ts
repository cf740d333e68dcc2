import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import { openUseCase, waitFor, type UseCase } from './sync-engine-fixture.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());

/**
 * The use case with `capture: "polling"` (keyed snapshot diff every second, for read-only access).
 * Polling cannot tag Braid's writes, so they come back as changes; the engine's comparison finds
 * every member agreeing and writes nothing, which is what stops the echo.
 */
describe.skipIf(!ready)('sync engine: polling on MariaDB and PostgreSQL', () => {
  let uc: UseCase;
  let syncId: string;

  beforeAll(async () => {
    uc = await openUseCase('sync_poll');
    syncId = await uc.createSync({ capture: 'polling' });
    await uc.engine.reconcile(syncId, { mode: 'apply' });
    await uc.engine.start(syncId);
  }, 60_000);

  afterAll(async () => {
    try {
      if (syncId) await uc?.engine.remove(syncId);
    } finally {
      await uc?.close();
    }
  }, 60_000);

  it('propagates both ways and an echo writes nothing', async () => {
    expect((await uc.engine.status(syncId)).members.map((m) => m.strategy)).toEqual(['polling', 'polling']);
    await uc.my.query("update crm_business_information set phone = '555 999 0001' where id = 1");
    await waitFor('the phone in PostgreSQL', async () => String((await uc.inv(1)).phone) === '5559990001');
    await uc.pg.query("update invoice_customers set email = 'billing@acme.example' where id = 2");
    await waitFor('the email in MariaDB', async () => (await uc.crm(2)).email === 'billing@acme.example');
    // Each write is seen by the other side's next poll; give both echoes time to arrive.
    await waitFor('the echoes', async () => {
      const s = await uc.engine.status(syncId);
      return s.members.every((m) => m.eventsApplied === 2);
    });
    const status = await uc.engine.status(syncId);
    expect(status.members.map((m) => m.writes)).toEqual([1, 1]);
    expect((await uc.crm(1)).phone).toBe('555 999 0001');
  }, 30_000);
});
