import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { createConnector } from '../../src/connectors/create-connector.js';
import type { EntityLink } from '../../src/meta/entity-links-repository.js';
import type { TableSchema } from '../../src/model/schema.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { demoCustomers } from '../../src/services/demo-data.js';
import { planReconciliation } from '../../src/sync/reconcile-plan.js';
import { parseSyncRule, type SyncRule } from '../../src/sync/sync-rule.js';
import { validateSyncRule } from '../../src/sync/sync-rule-validation.js';
import { META_ENGINES, type MetaFixture } from '../meta/meta-engines.js';
import {
  createMysqlDatabase,
  createPostgresSchema,
  mysqlAvailable,
  postgresAvailable,
} from '../support/servers.js';
import { ISSUE_EXAMPLE } from './use-case-tables.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());
const nameKey = (name: string) => name.trim().toLowerCase().split(/\s+/).join(' ');

/**
 * The use case on the real servers: the CRM on MariaDB (phone VARCHAR), invoicing on PostgreSQL
 * (phone BIGINT, a string on the wire), filled through plain driver connections as the two tools
 * would, read back through Braid's connectors and introspection.
 */
describe.skipIf(!ready)('reconciliation plan over MariaDB and PostgreSQL', () => {
  const { crm, invoicing } = demoCustomers(250, 11);
  let mariadb: Awaited<ReturnType<typeof createMysqlDatabase>>;
  let postgres: Awaited<ReturnType<typeof createPostgresSchema>>;
  let crmConnector: Connector;
  let invConnector: Connector;
  let tables: [TableSchema, TableSchema];
  let sandbox: Sandbox;
  let meta: MetaFixture;
  let rule: SyncRule;

  beforeAll(async () => {
    mariadb = await createMysqlDatabase('sync');
    postgres = await createPostgresSchema('sync');
    const my = await mysql.createConnection({ uri: mariadb.url });
    await my.query(`create table crm_business_information (
      id int auto_increment primary key, business_name varchar(200), contact_name varchar(200),
      email varchar(200), phone varchar(40), category varchar(40), description text)`);
    await my.query(
      'insert into crm_business_information (business_name, contact_name, email, phone, category, description) values ?',
      [crm.map((r) => [r.business_name, r.contact_name, r.email, r.phone, r.category, r.description])],
    );
    await my.end();
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query(`set search_path to "${postgres.schema}"`);
    await client.query(`create table invoice_customers (
      id serial primary key, business_name text, email text, phone bigint, billing_cycle text)`);
    for (const r of invoicing) {
      await client.query(
        'insert into invoice_customers (business_name, email, phone, billing_cycle) values ($1, $2, $3, $4)',
        [r.business_name, r.email, r.phone, r.billing_cycle],
      );
    }
    await client.end();

    crmConnector = createConnector('mysql', { url: mariadb.url });
    invConnector = createConnector('postgres', { url: postgres.url, schemas: [postgres.schema] });
    tables = [
      (await crmConnector.introspect()).tables.find((t) => t.name === 'crm_business_information')!,
      (await invConnector.introspect()).tables.find((t) => t.name === 'invoice_customers')!,
    ];
    sandbox = createSandbox();
    meta = await META_ENGINES[0]!.open();
    const body = JSON.parse(ISSUE_EXAMPLE) as Record<string, any>;
    body.members[0].fields.phone.read = "value.replace(/\\D/g, '').replace(/^1(?=\\d{10}$)/, '')";
    rule = parseSyncRule(body);
  });

  afterAll(async () => {
    await sandbox?.close();
    await crmConnector?.close();
    await invConnector?.close();
    await meta?.cleanup();
    await mariadb?.drop();
    await postgres?.drop();
  });

  const plan = (links?: AsyncIterable<EntityLink>) =>
    planReconciliation({
      rule,
      tables,
      rows: [
        crmConnector.stream(tables[0], { batchSize: 64 }),
        invConnector.stream(tables[1], { batchSize: 64 }),
      ],
      links,
      sandbox,
    });

  it('validates against the introspected tables and matches as computed by hand', async () => {
    await validateSyncRule(rule, tables, sandbox);
    expect(tables[1].columns.find((c) => c.name === 'phone')?.type).toBe('bigint');
    const invNames = new Set(invoicing.map((r) => nameKey(r.business_name)));
    const crmNames = new Set(crm.map((r) => nameKey(r.business_name)));
    const matched = crm.filter((r) => invNames.has(nameKey(r.business_name))).length;
    const invByName = new Map(invoicing.map((r) => [nameKey(r.business_name), r]));
    const phoneDiffs = crm.filter((r) => {
      const inv = invByName.get(nameKey(r.business_name));
      const digits = r.phone.replace(/[^0-9]/g, '');
      return inv && (digits.length === 11 ? digits.slice(1) : digits) !== String(inv.phone);
    }).length;

    const result = await plan();
    expect(result.summary).toMatchObject({
      rows: [crm.length, invoicing.length],
      matched,
      unmatched: [
        crm.length - matched,
        invoicing.filter((r) => !crmNames.has(nameKey(r.business_name))).length,
      ],
      duplicateGroups: 0,
      rowErrors: 0,
    });
    const phones = result.entities.flatMap((e) => e.discrepancies.filter((d) => d.field === 'phone'));
    expect(phones.length).toBe(phoneDiffs);
    expect(phoneDiffs).toBeGreaterThan(0);
  });

  it('keeps a stored match after the business is renamed in the CRM', async () => {
    const first = await plan();
    const sync = await meta.store.syncs.create({
      name: 'customer contacts',
      definition: rule,
      status: 'active',
    });
    for (const entity of first.entities) {
      let entityId: string | undefined;
      for (const row of entity.rows) {
        entityId = await meta.store.entityLinks.link({
          syncId: sync.id,
          entityId,
          member: row.member,
          key: row.key,
          matchKey: entity.matchKey,
        });
      }
    }
    const renamed = first.entities[0]!;
    const crmKey = renamed.rows.find((r) => r.member === 0)!.key;
    await crmConnector.update(tables[0], crmKey, { business_name: 'Renamed By The CRM Team' });

    const second = await plan(meta.store.entityLinks.allOf(sync.id));
    expect(second.summary.matched).toBe(first.summary.matched);
    expect(second.summary.matchedByLink).toBe(first.summary.matched);
    expect(second.summary.unmatched).toEqual(first.summary.unmatched);
    const again = second.entities.find((e) => e.rows.some((r) => r.member === 0 && r.key.id === crmKey.id))!;
    expect(again.rows.map((r) => [r.member, r.key, r.linked])).toEqual(
      renamed.rows.map((r) => [r.member, r.key, true]),
    );
  });
});
