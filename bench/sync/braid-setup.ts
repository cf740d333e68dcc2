import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { openMetaStore, type MetaStore } from '../../src/meta/index.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { SourcesService } from '../../src/services/sources-service.js';
import { SyncEngine } from '../../src/sync/engine/index.js';
import { captureName } from '../../src/sync/engine/capture-choice.js';
import { parseSyncRule } from '../../src/sync/sync-rule.js';
import { POSTGRES_URL, log, registerCleanup, uniqueName } from '../support.js';
import type { UseCaseDatabases } from './databases.js';

/**
 * Braid's side of a run: a temporary data dir and secret key (what the worker process is given
 * too), the two sources and the sync rule in the metadata store, and an in-process SyncEngine for
 * the initial reconciliation and for removing the capture objects at the end.
 */

export type CaptureChoice = 'auto' | 'triggers' | 'polling';

export interface BraidSetup {
  dataDir: string;
  secretKey: string;
  store: MetaStore;
  engine: SyncEngine;
  syncId: string;
  crmSource: string;
  invSource: string;
  /** Environment for a Braid process over the same store. */
  env: Record<string, string>;
  reconcile: { seconds: number; linked: number; rowsWritten: number; entities: number };
  /** Stops nothing running elsewhere: call after the worker process is gone. */
  close(): Promise<void>;
}

const QUIET = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function setUpBraid(dbs: UseCaseDatabases, capture: CaptureChoice): Promise<BraidSetup> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-bench-sync-'));
  const secretKey = randomBytes(32).toString('hex');
  let store: MetaStore | undefined;
  let sandbox: Sandbox | undefined;
  let sources: SourcesService | undefined;
  let engine: SyncEngine | undefined;
  let syncId: string | undefined;
  const close = registerCleanup(`Braid data dir ${dataDir}`, async () => {
    if (engine && syncId) {
      // Drops the slot, publication, triggers and changelogs of every member (any strategy).
      await engine
        .remove(syncId)
        .catch((err: unknown) => log(`removing the sync's capture failed: ${String(err)}`));
    }
    await sources?.closeAll();
    await sandbox?.close();
    await store?.close();
    if (syncId) await dropLeftoverSlots(syncId);
    await fs.rm(dataDir, { recursive: true, force: true });
  });
  try {
    store = await openMetaStore({ dataDir, secretKey });
    const crmSource = (await store.sources.create({ name: 'crm', kind: 'mysql', config: dbs.mysqlConfig }))
      .id;
    const invSource = (
      await store.sources.create({ name: 'invoicing', kind: 'postgres', config: dbs.postgresConfig })
    ).id;
    const match = { column: 'business_name', normalize: ['trim', 'lower', 'collapse_spaces'] };
    const rule = parseSyncRule({
      name: uniqueName('contacts'),
      members: [
        {
          source: crmSource,
          table: 'crm_business_information',
          match,
          fields: {
            email: 'email',
            phone: { column: 'phone', read: "value.replace(/\\D/g, '')", write: 'value' },
          },
        },
        {
          source: invSource,
          table: 'invoice_customers',
          match,
          fields: {
            email: 'email',
            phone: { column: 'phone', read: 'String(value)', write: 'Number(value)' },
          },
        },
      ],
      conflict: { policy: 'priority', order: [crmSource, invSource] },
      capture,
    });
    syncId = (await store.syncs.create({ name: rule.name, definition: rule, status: 'active' })).id;
    sources = new SourcesService(store.sources, dataDir);
    sandbox = createSandbox();
    engine = new SyncEngine({ store, sources, sandbox, logger: QUIET, pollingDir: dataDir });
    const started = performance.now();
    const report = await engine.reconcile(syncId, { mode: 'apply' });
    const seconds = (performance.now() - started) / 1000;
    log(
      `reconcile (apply, in process): ${seconds.toFixed(1)} s, linked ${report.applied.linked}, wrote ${report.applied.rowsWritten}`,
    );
    return {
      dataDir,
      secretKey,
      store,
      engine,
      syncId,
      crmSource,
      invSource,
      env: { BRAID_DATA_DIR: dataDir, BRAID_SECRET_KEY: secretKey, BRAID_DEMO: '0' },
      reconcile: {
        seconds,
        linked: report.applied.linked,
        rowsWritten: report.applied.rowsWritten,
        entities: report.plan.entities.length,
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * A worker killed with SIGKILL leaves its walsender behind for a moment; SyncEngine.remove
 * terminates it and drops the slot, and this is the check that nothing of the sync is left.
 */
async function dropLeftoverSlots(syncId: string): Promise<void> {
  const fragment = captureName(syncId, 0).slice(0, -3);
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ slot_name: string; active_pid: number | null }>(
      'select slot_name, active_pid from pg_replication_slots where slot_name like $1',
      [`%${fragment}%`],
    );
    for (const slot of rows) {
      log(`dropping the leftover replication slot ${slot.slot_name}`);
      if (slot.active_pid) await client.query('select pg_terminate_backend($1)', [slot.active_pid]);
      await client.query('select pg_drop_replication_slot($1)', [slot.slot_name]).catch((err: unknown) => {
        log(`dropping slot ${slot.slot_name} failed: ${String(err)}`);
      });
    }
    await client.query(
      `do $$ declare p text; begin
         for p in select pubname from pg_publication where pubname like '%${fragment}%' loop
           execute format('drop publication %I', p);
         end loop; end $$`,
    );
  } finally {
    await client.end();
  }
}
