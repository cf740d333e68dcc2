import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { SourcesService } from '../../src/services/sources-service.js';
import { SyncEngine } from '../../src/sync/engine/index.js';
import { parseSyncRule } from '../../src/sync/sync-rule.js';
import { META_ENGINES, type MetaFixture } from '../meta/meta-engines.js';
import { uniqueName } from '../support/servers.js';
import { openUseCaseDatabases } from './use-case-databases.js';

export { leftovers, waitFor } from './use-case-databases.js';

export interface UseCase {
  engine: SyncEngine;
  meta: MetaFixture;
  my: mysql.Connection;
  pg: pg.Client;
  crmSource: string;
  invSource: string;
  /** Creates a sync rule over the two tables and answers its id. */
  createSync(options: {
    capture: string;
    policy?: string;
    inserts?: string;
    deletes?: string;
    /** Per member, its own `capture` (overriding the rule's); undefined leaves a member without. */
    memberCapture?: (string | undefined)[];
  }): Promise<string>;
  /** A second engine over the same store, as a restarted process would have. */
  newEngine(): SyncEngine;
  crm(id: number): Promise<Record<string, unknown>>;
  inv(id: number): Promise<Record<string, unknown>>;
  /**
   * Removes the given syncs' capture objects from the servers (a slot left behind keeps WAL), then
   * closes everything and drops the databases; a failed removal is thrown after that.
   */
  close(...syncIds: (string | undefined)[]): Promise<void>;
}

/**
 * The use case on the real servers, each run in its own MariaDB database and PostgreSQL schema:
 * the CRM (phone VARCHAR) and invoicing (phone BIGINT), written through plain driver connections
 * as the two tools would, synced by a SyncEngine over a fresh metadata store.
 */
export async function openUseCase(prefix: string): Promise<UseCase> {
  const dbs = await openUseCaseDatabases(prefix);
  const meta = await META_ENGINES[0]!.open();
  const crmSource = (
    await meta.store.sources.create({
      name: uniqueName('crm'),
      kind: 'mysql',
      config: { url: dbs.mariadbUrl },
    })
  ).id;
  const invSource = (
    await meta.store.sources.create({
      name: uniqueName('inv'),
      kind: 'postgres',
      config: dbs.postgresConfig,
    })
  ).id;
  const sources = new SourcesService(meta.store.sources, meta.dataDir);
  const sandbox: Sandbox = createSandbox();
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const engine = new SyncEngine({
    store: meta.store,
    sources,
    sandbox,
    logger: quiet,
    pollingDir: meta.dataDir,
  });

  return {
    engine,
    meta,
    my: dbs.my,
    pg: dbs.pg,
    crmSource,
    invSource,
    async createSync({
      capture,
      policy = 'priority',
      inserts = 'ignore',
      deletes = 'ignore',
      memberCapture = [],
    }) {
      const own = (i: number) => (memberCapture[i] === undefined ? {} : { capture: memberCapture[i] });
      const match = { column: 'business_name', normalize: ['trim', 'lower', 'collapse_spaces'] };
      const rule = parseSyncRule({
        name: uniqueName('contacts'),
        members: [
          {
            source: crmSource,
            table: 'crm_business_information',
            ...own(0),
            match,
            fields: {
              email: 'email',
              // Digits without the country code 1, as the invoicing tool stores them.
              phone: {
                column: 'phone',
                read: "value.replace(/\\D/g, '').replace(/^1(?=\\d{10}$)/, '')",
                write: 'value',
              },
            },
          },
          {
            source: invSource,
            table: 'invoice_customers',
            ...own(1),
            match,
            fields: {
              email: 'email',
              phone: { column: 'phone', read: 'String(value)', write: 'Number(value)' },
            },
          },
        ],
        conflict: policy === 'priority' ? { policy, order: [crmSource, invSource] } : { policy },
        capture,
        inserts,
        deletes,
      });
      return (await meta.store.syncs.create({ name: rule.name, definition: rule, status: 'active' })).id;
    },
    newEngine: () => new SyncEngine({ store: meta.store, sources, sandbox, logger: quiet }),
    crm: dbs.crm,
    inv: dbs.inv,
    async close(...syncIds) {
      // Every removal is tried and the databases dropped whatever fails: nothing is left behind.
      const removed = await Promise.allSettled(syncIds.filter(Boolean).map((id) => engine.remove(id!)));
      await closeAll();
      for (const r of removed) if (r.status === 'rejected') throw r.reason;
    },
  };

  async function closeAll(): Promise<void> {
    await engine.stopAll();
    await sources.closeAll();
    await sandbox.close();
    await meta.cleanup();
    await dbs.close();
  }
}
