import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import { openUseCase, waitFor, type UseCase } from './sync-engine-fixture.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());

/**
 * The use case with `capture: "polling"` (keyed snapshot diff every second, for read-only access).
 * Polling cannot tag Braid's writes, so the poll of the member Braid wrote into sees them as
 * changes: the engine recognises them by content (the values it wrote there) and skips them.
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
    await uc?.close(syncId);
  }, 60_000);

  it("propagates both ways; the polls that see Braid's writes are recognised as echoes", async () => {
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
    expect(status.members.map((m) => m.echoesSkipped)).toEqual([1, 1]);
    expect((await uc.crm(1)).phone).toBe('555 999 0001');
  }, 30_000);

  it('an echo seen after a newer edit does not write the older value back over it', async () => {
    const before = await uc.engine.status(syncId);
    const writesTo = (s: typeof before, member: number) => s.members[member]!.writes;
    await uc.my.query("update crm_business_information set phone = '555 999 0002' where id = 3");
    await waitFor(
      'the first phone in PostgreSQL',
      async () => String((await uc.inv(3)).phone) === '5559990002',
    );
    // A person edits the CRM again before PostgreSQL's next poll has seen Braid's write there.
    await uc.my.query("update crm_business_information set phone = '555 999 0003' where id = 3");
    await waitFor(
      'the second phone in PostgreSQL',
      async () => String((await uc.inv(3)).phone) === '5559990003',
    );
    await waitFor('both echoes', async () => {
      const s = await uc.engine.status(syncId);
      return (
        s.members[1]!.echoesSkipped - before.members[1]!.echoesSkipped >= 1 &&
        s.members[1]!.eventsApplied > before.members[1]!.eventsApplied
      );
    });
    // Two more polls of each side: nothing may move any more.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const after = await uc.engine.status(syncId);
    expect((await uc.crm(3)).phone).toBe('555 999 0003');
    expect(String((await uc.inv(3)).phone)).toBe('5559990003');
    expect(writesTo(after, 0) - writesTo(before, 0)).toBe(0);
    expect(writesTo(after, 1) - writesTo(before, 1)).toBe(2);
  }, 30_000);
});
