import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishedStatus } from '../../src/services/sync-supervisor.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import { openUseCase, waitFor, type UseCase } from './sync-engine-fixture.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());

/**
 * Node itself, not bin/braid.mjs: the launcher runs Braid in a child process, and a SIGKILL of the
 * launcher would leave that child running.
 */
function startWorker(dataDir: string): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--no-node-snapshot', '--import', 'tsx', path.resolve('src/cli/main.ts'), 'worker', '--lease', '2'],
    { env: { ...process.env, BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  (child as ChildProcess & { output: () => string }).output = () => output;
  return child;
}

/**
 * The use case run by a separate `braid worker` process that is killed with SIGKILL in the middle
 * of a stream of changes on both databases, then started again: it must resume from the durable
 * positions, lose nothing, and apply nothing twice. Each audit table records every write the
 * target received, in order, so a value applied twice or an old value written after a newer one
 * (a replay regressing the row) shows up.
 */
describe.skipIf(!ready)('braid worker killed with SIGKILL mid-stream', () => {
  let uc: UseCase;
  let syncId: string;
  let worker: ChildProcess | null = null;

  beforeAll(async () => {
    uc = await openUseCase('sync_kill');
    syncId = await uc.createSync({ capture: 'auto' });
    expect((await uc.engine.reconcile(syncId, { mode: 'apply' })).summary.matched).toBe(3);
    // Every write each tool's table receives, in commit order.
    await uc.pg.query('create table phone_audit (n serial primary key, id int, phone bigint)');
    // `set search_path from current`: Braid's own connection has another search path.
    await uc.pg
      .query(`create function audit_phone() returns trigger language plpgsql set search_path from current as $$
      begin insert into phone_audit (id, phone) values (new.id, new.phone); return new; end $$`);
    await uc.pg.query(`create trigger audit_phone after update of phone on invoice_customers
      for each row when (old.phone is distinct from new.phone) execute function audit_phone()`);
    await uc.my.query(
      'create table email_audit (n int auto_increment primary key, id int, email varchar(200))',
    );
    await uc.my.query(`create trigger audit_email after update on crm_business_information for each row
      begin if not (old.email <=> new.email) then insert into email_audit (id, email) values (new.id, new.email); end if; end`);
  }, 60_000);

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await uc?.close(syncId);
  }, 60_000);

  const published = async () => (await uc.meta.store.syncLeases.get<PublishedStatus>(syncId))?.status ?? null;
  const runningIn = async (child: ChildProcess) => {
    const status = await published();
    return status?.owner.includes(`:${child.pid}:`) === true && status.engine?.running === true;
  };

  it('resumes from the stored positions: every change arrives once, in order, and none comes back', async () => {
    worker = startWorker(uc.meta.dataDir);
    await waitFor('the worker to run the sync', () => runningIn(worker!), 60_000);

    // CRM rows 1 and 2 get new phones, invoicing row 3 new emails, interleaved, 150 changes each side.
    let n = 0;
    const change = async () => {
      n++;
      await uc.my.query('update crm_business_information set phone = ? where id = ?', [
        `555-03${String(n).padStart(5, '0')}`,
        1 + (n % 2),
      ]);
      await uc.pg.query('update invoice_customers set email = $1 where id = 3', [`cy+${n}@cedar.example`]);
    };
    for (let i = 0; i < 25; i++) await change();
    const store = uc.meta.store;
    const applied = async (member: number) =>
      (await published())?.engine?.members.find((m) => m.member === member)?.eventsApplied ?? 0;
    await waitFor(
      'the first 25 changes applied',
      async () => (await applied(0)) >= 25 && (await applied(1)) >= 25,
    );
    const early = [await store.syncPositions.get(syncId, 0), await store.syncPositions.get(syncId, 1)];
    for (let i = 0; i < 25; i++) await change();
    await waitFor('50 CRM changes applied', async () => (await applied(0)) >= 50);
    for (let i = 0; i < 10; i++) await change();
    // Killed while changes keep coming: some applied, some in flight, some not read yet.
    const killed = worker;
    killed.kill('SIGKILL');
    await once(killed, 'exit');
    // As if it had died before storing any position after the first 25 changes: the binlog is
    // read again from there, so the restarted worker gets at least 25 CRM changes it already applied.
    // (A replication slot cannot go back: it was confirmed only after the changes were applied, and
    // PostgreSQL resends from there.)
    await store.syncPositions.save(syncId, 0, early[0]!);
    await store.syncPositions.save(syncId, 1, early[1]!);
    for (let i = 0; i < 40; i++) await change();
    worker = startWorker(uc.meta.dataDir);
    // Its lease must expire first (2 s): the dead process cannot release it.
    await waitFor('the restarted worker to run the sync', () => runningIn(worker!), 60_000).catch(
      (err: Error) => {
        throw new Error(
          `${err.message}\nworker output:\n${(worker as ChildProcess & { output: () => string }).output()}`,
        );
      },
    );
    for (let i = 0; i < 50; i++) await change();

    const lastPhone = (id: number) => Number(`55503${String(n - ((n + id + 1) % 2)).padStart(5, '0')}`);
    await waitFor(
      'both databases to converge',
      async () => {
        const inv1 = await uc.inv(1);
        const inv2 = await uc.inv(2);
        const crm3 = await uc.crm(3);
        return (
          Number(inv1.phone) === lastPhone(1) &&
          Number(inv2.phone) === lastPhone(2) &&
          crm3.email === `cy+${n}@cedar.example`
        );
      },
      60_000,
    ).catch(async (err: Error) => {
      const seen = [await uc.inv(1), await uc.inv(2), await uc.crm(3)];
      throw new Error(
        `${err.message}: expected phones ${lastPhone(1)}, ${lastPhone(2)} and email #${n}, found ${JSON.stringify(seen)}\n${JSON.stringify(await published())}\n` +
          (worker as ChildProcess & { output: () => string }).output(),
      );
    });

    // Every change reached the other side exactly once and in order: nothing lost, nothing applied
    // twice, no replay writing an older value after a newer one.
    const phones = (
      await uc.pg.query<{ id: number; phone: string }>('select id, phone from phone_audit order by n')
    ).rows;
    const changes = Array.from({ length: n }, (_, i) => i + 1);
    for (const id of [1, 2]) {
      expect(phones.filter((p) => p.id === id).map((p) => Number(p.phone))).toEqual(
        changes.filter((i) => 1 + (i % 2) === id).map((i) => Number(`55503${String(i).padStart(5, '0')}`)),
      );
    }
    const [emailRows] = await uc.my.query('select email from email_audit where id = 3 order by n');
    expect((emailRows as { email: string }[]).map((r) => r.email)).toEqual(
      changes.map((i) => `cy+${i}@cedar.example`),
    );

    // No echo: the CRM phones and the invoicing email were only ever written by the test.
    const [crm] = await uc.my.query(
      'select id, phone from crm_business_information where id in (1, 2) order by id',
    );
    expect((crm as { phone: string }[]).map((r) => Number(r.phone.replace(/\D/g, '')))).toEqual([
      lastPhone(1),
      lastPhone(2),
    ]);
    const status = await published();
    expect(status?.engine?.members.map((m) => m.strategy).sort()).toEqual(['binlog', 'logical']);
    // The replayed CRM changes were recognised by their positions: applied as no-ops.
    expect(status!.engine!.members.find((m) => m.strategy === 'binlog')!.noopEvents).toBeGreaterThanOrEqual(
      25,
    );
    expect(status?.engine?.deadLetters).toBe(0);
  }, 180_000);
});
