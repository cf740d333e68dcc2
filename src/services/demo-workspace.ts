import fs from 'node:fs';
import path from 'node:path';
import { createSqliteConnector } from '../connectors/sqlite/index.js';
import { demoCustomers } from './demo-data.js';
import type { SourcesService } from './sources-service.js';

const CRM_DDL = `create table crm_business_information (
  id integer primary key autoincrement,
  business_name text not null,
  contact_name text,
  email text,
  phone text,
  category text,
  description text
)`;

const INVOICING_DDL = `create table invoice_customers (
  id integer primary key autoincrement,
  business_name text not null,
  email text,
  phone integer,
  billing_cycle text
)`;

/**
 * The demo workspace: two SQLite databases standing in for a CRM and an invoicing tool that
 * know the same customers differently. Created once; later starts find the sources by name.
 */
export async function ensureDemoWorkspace(dataDir: string, sources: SourcesService): Promise<string[]> {
  const existing = new Set((await sources.list()).map((s) => s.name));
  const created: string[] = [];
  const { crm, invoicing } = demoCustomers();
  const specs = [
    { name: 'crm', file: 'demo-crm.db', ddl: CRM_DDL, table: 'crm_business_information', rows: crm },
    {
      name: 'invoicing',
      file: 'demo-invoicing.db',
      ddl: INVOICING_DDL,
      table: 'invoice_customers',
      rows: invoicing,
    },
  ];
  for (const spec of specs) {
    if (existing.has(spec.name)) continue;
    const file = path.join(dataDir, spec.file);
    if (!fs.existsSync(file))
      await seed(file, spec.ddl, spec.table, spec.rows as unknown as Record<string, unknown>[]);
    await sources.create({ name: spec.name, kind: 'sqlite', config: { file } });
    created.push(spec.name);
  }
  return created;
}

async function seed(
  file: string,
  ddl: string,
  tableName: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  const connector = createSqliteConnector({ file, create: true });
  try {
    await connector.rawQuery(ddl);
    const table = (await connector.introspect()).tables.find((t) => t.name === tableName)!;
    await connector.bulkLoad(table, [rows]);
  } finally {
    await connector.close();
  }
}
