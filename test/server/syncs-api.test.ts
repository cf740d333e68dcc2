import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openBraidApp } from '../../src/services/braid-app.js';
import { captureName } from '../../src/sync/engine/index.js';
import { mysqlAvailable, postgresAvailable, uniqueName } from '../support/servers.js';
import {
  leftovers,
  openUseCaseDatabases,
  waitFor,
  type UseCaseDatabases,
} from '../sync/use-case-databases.js';
import { ISSUE_EXAMPLE } from '../sync/use-case-tables.js';
import { ADMIN, startHarness } from './harness.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The use case's two databases, a server running syncs, and a source over each database. */
async function openServer(prefix: string) {
  const dbs = await openUseCaseDatabases(prefix);
  const h = await startHarness({}, { runSyncs: { tickMs: 200 } });
  const addSource = async (kind: string, config: Record<string, unknown>) => {
    const res = await h.admin({
      method: 'POST',
      url: '/api/sources',
      payload: { name: uniqueName(kind), kind, config },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  };
  const crm = await addSource('mysql', { url: dbs.mariadbUrl });
  const invoicing = await addSource('postgres', dbs.postgresConfig);
  /** The issue's body, as written there, with these sources' ids. */
  const issueBody = (): Record<string, unknown> =>
    JSON.parse(
      ISSUE_EXAMPLE.replaceAll('<crm source id>', crm).replaceAll('<invoicing source id>', invoicing),
    );
  const status = async (id: string) => (await h.admin({ url: `/api/syncs/${id}/status` })).json();
  const syncs: string[] = [];
  return {
    dbs,
    h,
    crm,
    invoicing,
    issueBody,
    status,
    async create(body: Record<string, unknown>): Promise<string> {
      const res = await h.admin({ method: 'POST', url: '/api/syncs', payload: body });
      expect(res.statusCode, res.body).toBe(201);
      syncs.push(res.json().id);
      return res.json().id;
    },
    /** Until the initial reconciliation is done and both members capture. */
    async untilActive(id: string): Promise<void> {
      await waitFor(
        'the sync to be active with both members running',
        async () => {
          const s = await status(id);
          return (
            s.state === 'active' &&
            s.members.length === 2 &&
            s.members.every((m: { running: boolean }) => m.running)
          );
        },
        30_000,
      );
    },
    /** Deletes what a failed test left (a replication slot outlives its schema), then the databases. */
    async close(): Promise<void> {
      try {
        for (const id of syncs) if (await h.app.meta.syncs.get(id)) await h.app.syncs.delete(id);
      } finally {
        await h.close();
        await dbs.close();
      }
    },
  };
}

describe.skipIf(!ready)('syncs API: an initial reconciliation that creates missing rows', () => {
  let s: Awaited<ReturnType<typeof openServer>>;
  beforeAll(async () => {
    s = await openServer('api_create');
  });
  afterAll(async () => s?.close());

  it('creates the unmatched rows where receivesInserts allows, and refuses createMissing without apply', async () => {
    const body = { ...s.issueBody(), inserts: 'create', createMissing: true } as Record<string, any>;
    body.members[0].receivesInserts = false;
    const id = await s.create(body);
    await s.untilActive(id);
    const inv = await s.dbs.pg.query("select * from invoice_customers where business_name = 'Only In CRM'");
    expect(inv.rows).toHaveLength(1);
    expect(inv.rows[0]).toMatchObject({ email: 'dee@crm.example', phone: '5550100004' });
    const [crm] = await s.dbs.my.query(
      "select * from crm_business_information where business_name = 'Only In Invoicing'",
    );
    expect(crm).toEqual([]);
    const refused = await s.h.admin({
      method: 'POST',
      url: '/api/syncs',
      payload: { ...s.issueBody(), name: 'dry', reconcile: 'dry-run', createMissing: true },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.details.problems).toContainEqual({
      path: 'createMissing',
      message: expect.stringContaining('"reconcile": "apply"'),
    });
  });
});

describe.skipIf(!ready)('syncs API: the issue use case on MariaDB and PostgreSQL', () => {
  let s: Awaited<ReturnType<typeof openServer>>;
  let db: UseCaseDatabases;
  let id: string;

  beforeAll(async () => {
    s = await openServer('api_sync');
    db = s.dbs;
  });
  afterAll(async () => s?.close());

  it('refuses bad rules with a 400 naming the path of the problem, and unknown ids with a 404', async () => {
    const post = async (edit: (body: any) => void) => {
      const body = s.issueBody();
      edit(body);
      const res = await s.h.admin({ method: 'POST', url: '/api/syncs', payload: body });
      expect(res.statusCode, res.body).toBe(400);
      return res.json().error;
    };
    const unknownTable = await post((b) => (b.members[1].table = 'no_such_table'));
    expect(unknownTable.code).toBe('invalid_sync_rule');
    expect(unknownTable.message).toMatch(/^members\[1\]/);
    expect(unknownTable.message).toContain('no_such_table');
    const unknownColumn = await post((b) => (b.members[0].fields.email = 'e_mail'));
    expect(unknownColumn.message).toMatch(/^members\[0\]\.fields\.email.*no column "e_mail"/);
    const badTransform = await post((b) => (b.members[1].fields.phone.read = 'String(value'));
    expect(badTransform.message).toMatch(/^members\[1\]\.fields\.phone\.read/);
    const unknownSource = await post((b) => (b.members[0].source = 'ghost'));
    expect(unknownSource.message).toMatch(/^members\[0\].*ghost/);
    const misspelt = await post((b) => (b.reconcile = 'sometimes'));
    expect(misspelt.details.problems).toEqual([{ path: 'reconcile', message: expect.any(String) }]);
    const notObject = await s.h.admin({ method: 'POST', url: '/api/syncs', payload: [1] });
    expect(notObject.statusCode).toBe(400);
    expect(notObject.json().error.message).toMatch(/^body/);

    for (const [method, url] of [
      ['GET', '/api/syncs/nope'],
      ['GET', '/api/syncs/nope/status'],
      ['POST', '/api/syncs/nope/pause'],
      ['DELETE', '/api/syncs/nope'],
      ['GET', '/api/syncs/nope/conflicts'],
      ['GET', '/api/syncs/nope/dead-letters'],
    ] as const) {
      const res = await s.h.admin({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('not_found');
    }
    expect((await s.h.admin({ url: '/api/syncs' })).json().syncs).toEqual([]);
  });

  it("creates the issue's rule, and the server reconciles it and runs both members", async () => {
    id = await s.create(s.issueBody());
    const shown = (await s.h.admin({ url: `/api/syncs/${id}` })).json();
    expect(shown).toMatchObject({ name: 'customer contacts', rule: { capture: 'auto', reconcile: 'apply' } });
    expect((await s.h.admin({ url: '/api/syncs' })).json().syncs.map((x: { id: string }) => x.id)).toEqual([
      id,
    ]);

    await s.untilActive(id);
    const status = await s.status(id);
    expect(status.members.map((m: { strategy: string }) => m.strategy)).toEqual(['binlog', 'logical']);
    expect(status.members.every((m: { reason: string }) => m.reason.length > 0)).toBe(true);
    expect(status.runner.thisProcess).toBe(true);
    expect(status.reconcile).toMatchObject({
      state: 'done',
      report: { mode: 'apply', summary: { matched: 3 } },
    });
    // Priority to the CRM: its digits (with the country code) won in invoicing.
    expect(String((await db.inv(1)).phone)).toBe('15550100001');
  });

  it('carries a phone changed in MariaDB to PostgreSQL as a number, and an email the other way', async () => {
    await db.my.query("update crm_business_information set phone = '(555) 010-7777' where id = 2");
    await db.pg.query("update invoice_customers set email = 'billing@blue.example' where id = 1");
    await waitFor('the phone in PostgreSQL', async () => String((await db.inv(2)).phone) === '5550107777');
    const { rows } = await db.pg.query(
      'select pg_typeof(phone)::text as type from invoice_customers where id = 2',
    );
    expect(rows[0].type).toBe('bigint');
    await waitFor('the email in MariaDB', async () => (await db.crm(1)).email === 'billing@blue.example');
  });

  it('does not carry changes while paused, and carries them once resumed', async () => {
    const paused = await s.h.admin({ method: 'POST', url: `/api/syncs/${id}/pause` });
    expect(paused.statusCode, paused.body).toBe(200);
    expect(paused.json().state).toBe('paused');
    await waitFor('the capture to stop', async () => !(await s.status(id)).running);
    await db.pg.query("update invoice_customers set email = 'paused@cedar.example' where id = 3");
    // Several supervisor ticks: a running sync would long have carried it.
    await sleep(1_500);
    expect((await db.crm(3)).email).toBe('cy@cedar.example');
    expect((await s.status(id)).note).toMatch(/paused/);

    const resumed = await s.h.admin({ method: 'POST', url: `/api/syncs/${id}/resume` });
    expect(resumed.json().state).toBe('active');
    await waitFor('the email in MariaDB', async () => (await db.crm(3)).email === 'paused@cedar.example');
  });

  it('runs a dry-run reconciliation as a job with progress and a summary', async () => {
    const started = await s.h.admin({
      method: 'POST',
      url: `/api/syncs/${id}/reconcile`,
      payload: { mode: 'dry-run' },
    });
    expect(started.statusCode, started.body).toBe(202);
    const job = started.json();
    expect(job).toMatchObject({ syncId: id, mode: 'dry-run', state: 'running' });
    expect(typeof job.progress.phase).toBe('string');
    let done: any;
    await waitFor('the job to end', async () => {
      done = (await s.h.admin({ url: `/api/syncs/${id}/reconcile/${job.id}` })).json();
      return done.state !== 'running';
    });
    expect(done.error).toBeNull();
    expect(done.report).toMatchObject({ mode: 'dry-run', summary: { matched: 3, matchedByLink: 3 } });
    expect(done.report.applied).toMatchObject({ linked: 0, rowsWritten: 0 });
    expect(done.sample.unmatched.length).toBe(2);
    // A durable job: listed with the others, and read back by a process that did not run it.
    const listed = (await s.h.admin({ url: '/api/jobs?kind=sync-reconcile' })).json().jobs;
    expect(listed.map((j: { id: string }) => j.id)).toContain(job.id);
    const other = await openBraidApp(loadConfig({ BRAID_DATA_DIR: s.h.dataDir, BRAID_DEMO: '0' }));
    try {
      expect(await other.syncs.reconcileJob(id, job.id)).toMatchObject({
        state: 'done',
        report: { summary: { matched: 3 } },
      });
    } finally {
      await other.close();
    }

    const waited = await s.h.admin({
      method: 'POST',
      url: `/api/syncs/${id}/reconcile`,
      payload: { wait: true },
    });
    expect(waited.statusCode).toBe(200);
    expect(waited.json()).toMatchObject({ state: 'done', report: { summary: { matched: 3 } } });
    const badMode = await s.h.admin({
      method: 'POST',
      url: `/api/syncs/${id}/reconcile`,
      payload: { mode: 'now' },
    });
    expect(badMode.statusCode).toBe(400);
    expect(badMode.json().error).toMatchObject({ code: 'invalid_mode', details: { field: 'mode' } });
    expect((await s.h.admin({ url: `/api/syncs/${id}/reconcile/nope` })).statusCode).toBe(404);
    // No body at all: a dry run with the defaults.
    const bare = await s.h.admin({ method: 'POST', url: `/api/syncs/${id}/reconcile` });
    expect(bare.statusCode, bare.body).toBe(202);
    expect(bare.json().mode).toBe('dry-run');
    await waitFor('the bare job to end', async () => {
      const job = (await s.h.admin({ url: `/api/syncs/${id}/reconcile/${bare.json().id}` })).json();
      return job.state === 'done';
    });
  });

  it('lists dead letters, drops one, and retries one once its cause is fixed', async () => {
    // invoice_customers refuses emails without "@": these changes can never be applied as they are.
    await db.my.query("update crm_business_information set email = 'not-an-email' where id = 1");
    await db.my.query("update crm_business_information set email = 'also-not-one' where id = 2");
    const letters = async () =>
      (await s.h.admin({ url: `/api/syncs/${id}/dead-letters` })).json().deadLetters;
    await waitFor('two dead letters', async () => (await letters()).length === 2);
    const [first, second] = await letters();
    expect(first.reason).toMatch(/check constraint/);
    expect(first).toMatchObject({ syncId: id, member: 0, attempts: expect.any(Number) });
    expect((await s.status(id)).deadLetters).toBe(2);

    const dropped = await s.h.admin({ method: 'DELETE', url: `/api/syncs/${id}/dead-letters/${second.id}` });
    expect(dropped.statusCode, dropped.body).toBe(204);
    const stillFailing = await s.h.admin({
      method: 'POST',
      url: `/api/syncs/${id}/dead-letters/${first.id}/retry`,
    });
    expect(stillFailing.statusCode).toBeGreaterThanOrEqual(400);
    expect((await letters()).map((l: { id: string }) => l.id)).toEqual([first.id]);

    await db.pg.query('alter table invoice_customers drop constraint invoice_customers_email_check');
    const retried = await s.h.admin({
      method: 'POST',
      url: `/api/syncs/${id}/dead-letters/${first.id}/retry`,
    });
    expect(retried.statusCode, retried.body).toBe(204);
    expect((await db.inv(1)).email).toBe('not-an-email');
    expect(await letters()).toEqual([]);
    const gone = await s.h.admin({ method: 'POST', url: `/api/syncs/${id}/dead-letters/${second.id}/retry` });
    expect(gone.statusCode).toBe(404);
  });

  it('deletes the rule and leaves no replication slot, publication or trigger behind', async () => {
    // Its sources cannot go first: Braid could never remove the slot and triggers afterwards.
    const refused = await s.h.admin({ method: 'DELETE', url: `/api/sources/${s.crm}` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'source_in_use' });
    const fragment = captureName(id, 0).slice(0, -3);
    expect((await leftovers(db, fragment)).length).toBeGreaterThan(0);
    const res = await s.h.admin({ method: 'DELETE', url: `/api/syncs/${id}` });
    expect(res.statusCode, res.body).toBe(204);
    expect((await s.h.admin({ url: `/api/syncs/${id}` })).statusCode).toBe(404);
    expect(await leftovers(db, fragment)).toEqual([]);
    const slots = await db.pg.query(
      "select slot_name from pg_replication_slots where slot_name like 'braid_%'",
    );
    expect(slots.rows.filter((r) => r.slot_name.includes(fragment))).toEqual([]);
  });
});

describe.skipIf(!ready)('syncs API: the manual policy', () => {
  let s: Awaited<ReturnType<typeof openServer>>;

  beforeAll(async () => {
    s = await openServer('api_manual');
  });
  afterAll(async () => s?.close());

  it('opens a conflict for review, which is resolved by the logged-in user through the API', async () => {
    const id = await s.create({
      ...s.issueBody(),
      name: 'contacts, reviewed',
      conflict: { policy: 'manual' },
    });
    await s.untilActive(id);
    const list = async (status: string) =>
      (await s.h.admin({ url: `/api/syncs/${id}/conflicts?status=${status}` })).json().conflicts;
    // The CRM keeps the country code in Blue Bakery's phone; invoicing does not.
    const [conflict] = await list('open');
    expect(conflict).toMatchObject({
      field: 'phone',
      status: 'open',
      sides: [
        { member: 0, value: '15550100001' },
        { member: 1, value: '5550100001' },
      ],
    });
    expect((await s.status(id)).openConflicts).toBe(1);

    const url = `/api/syncs/${id}/conflicts/${conflict.id}/resolve`;
    const notASide = await s.h.admin({ method: 'POST', url, payload: { member: 5 } });
    expect(notASide.statusCode).toBe(400);
    expect(notASide.json().error.code).toBe('invalid_choice');
    const resolved = await s.h.admin({ method: 'POST', url, payload: { member: 1 } });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json()).toMatchObject({
      status: 'resolved',
      resolution: { value: '5550100001', winner: 1, by: ADMIN.email },
    });
    expect((await s.dbs.crm(1)).phone).toBe('5550100001');
    expect(await list('open')).toEqual([]);
    expect((await list('resolved')).map((c: { id: string }) => c.id)).toEqual([conflict.id]);
    expect((await list('all')).length).toBe(1);
    const again = await s.h.admin({ method: 'POST', url, payload: { value: '1' } });
    expect(again.statusCode).toBe(409);
    const badStatus = await s.h.admin({ url: `/api/syncs/${id}/conflicts?status=closed` });
    expect(badStatus.statusCode).toBe(400);
    expect((await s.h.admin({ method: 'DELETE', url: `/api/syncs/${id}` })).statusCode).toBe(204);
  });
});
