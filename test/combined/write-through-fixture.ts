import type { CombinedTable } from '../../src/combined/combined-table.js';
import { openUseCaseDatabases, type UseCaseDatabases } from '../sync/use-case-databases.js';
import { CombinedFixture } from './combined-fixture.js';
import { phoneColumn, useCaseCombined } from './use-case-combined.js';

/**
 * The use case's customers as one combined table: the CRM on MariaDB and invoicing on PostgreSQL,
 * matched by business name, phone stored as text in the CRM and as BIGINT in invoicing.
 */
export const CUSTOMERS = useCaseCombined('customers', [
  phoneColumn('crm.phone', { read: 'String(value)', write: "Number(value.replace(/\\D/g, ''))" }),
  { name: 'contact_name', owners: ['crm.contact_name'] },
  { name: 'billing_cycle', owners: ['invoicing.billing_cycle'] },
]);

export interface WriteThroughFixture {
  dbs: UseCaseDatabases;
  /** The customers table, with the definition's top-level properties replaced by `overrides`. */
  table(overrides?: Record<string, unknown>): Promise<CombinedTable>;
  /** The CRM rows of a business name, read with plain SQL. */
  crmByName(name: string): Promise<Record<string, unknown>[]>;
  invByName(name: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** The use case's databases (fresh, each test file its own) under the customers combined table. */
export async function openWriteThrough(prefix: string): Promise<WriteThroughFixture> {
  const dbs = await openUseCaseDatabases(prefix);
  const sources = new CombinedFixture();
  sources.add('crm', 'mysql', { url: dbs.mariadbUrl });
  sources.add('invoicing', 'postgres', dbs.postgresConfig);
  let tables = 0;
  return {
    dbs,
    table: (overrides = {}) => sources.table({ ...CUSTOMERS, ...overrides }, `c${++tables}`),
    async crmByName(name) {
      const [rows] = await dbs.my.query('select * from crm_business_information where business_name = ?', [
        name,
      ]);
      return rows as Record<string, unknown>[];
    },
    async invByName(name) {
      return (await dbs.pg.query('select * from invoice_customers where business_name = $1', [name])).rows;
    },
    async close() {
      await sources.close();
      await dbs.close();
    },
  };
}
