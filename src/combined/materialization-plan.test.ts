import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  businessNameColumn,
  phoneColumn,
  USE_CASE_MATCH,
  useCaseMembers,
} from '../../test/combined/use-case-combined.js';
import { CRM_TABLE, INVOICING_TABLE } from '../../test/sync/use-case-tables.js';
import type { Connector } from '../connectors/connector.js';
import { BraidError } from '../model/errors.js';
import { createSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { parseSyncRule, receivesInsertsFrom } from '../sync/sync-rule.js';
import { parseCombinedDefinition } from './combined-definition.js';
import type { CombinedTable } from './combined-table.js';
import { materializationRule, materializedTableDefinition } from './materialization-plan.js';
import { resolveCombinedTable } from './resolve-combined-table.js';

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox();
});
afterAll(async () => {
  await sandbox.close();
});

const TARGET = { sourceId: 'warehouse', tableName: 'customers' };

function customers(edit: (d: any) => void = () => undefined): Record<string, unknown> {
  // No email here: the plan's tests name every column of the table it defines.
  const definition = {
    name: 'customers',
    members: useCaseMembers(),
    columns: [
      businessNameColumn(),
      phoneColumn('crm.phone', { read: 'String(value)', write: 'Number(value)' }),
      { name: 'category', owners: ['crm.category'] },
      { name: 'billing_cycle', owners: ['invoicing.billing_cycle'] },
    ],
    inserts: { members: ['crm'] },
  };
  edit(definition);
  return definition;
}

/** The definition resolved against the use case's table schemas (no database is reached). */
function resolve(definition: Record<string, unknown>): Promise<CombinedTable> {
  return resolveCombinedTable('c1', parseCombinedDefinition(definition), {
    sandbox,
    resolveSourceId: (ref) => Promise.resolve(ref),
    resolveTable: (source) =>
      Promise.resolve({
        connector: { defaultSchema: 'public' } as Connector,
        table: source === 'crm' ? CRM_TABLE : INVOICING_TABLE,
      }),
  });
}

async function refusal(definition: Record<string, unknown>): Promise<string[]> {
  try {
    materializationRule(await resolve(definition), TARGET, 'mat');
  } catch (err) {
    expect(err).toBeInstanceOf(BraidError);
    expect((err as BraidError).code).toBe('cannot_materialize');
    return ((err as BraidError).details!['problems'] as { message: string }[]).map((p) => p.message);
  }
  throw new Error('the definition was accepted');
}

describe('materialization plan', () => {
  it('generates a sync rule: the members with their transforms, then the table, matched by the key column', async () => {
    const rule = materializationRule(await resolve(customers()), TARGET, 'mat');
    expect(parseSyncRule(rule)).toEqual(rule);
    expect(rule).toMatchObject({
      conflict: { policy: 'priority', order: [0, 1, 2] },
      reconcile: 'apply',
      inserts: 'create',
      deletes: 'propagate',
      createMissing: true,
    });
    expect(rule.members).toEqual([
      {
        source: 'crm',
        table: 'crm_business_information',
        match: USE_CASE_MATCH,
        fields: {
          business_name: { column: 'business_name' },
          phone: { column: 'phone' },
          category: { column: 'category' },
        },
        receivesInserts: [2],
        receivesDeletes: [2],
      },
      {
        source: 'invoicing',
        table: 'invoice_customers',
        match: USE_CASE_MATCH,
        fields: {
          business_name: { column: 'business_name' },
          phone: { column: 'phone', read: 'String(value)', write: 'Number(value)' },
          billing_cycle: { column: 'billing_cycle' },
        },
        receivesInserts: false,
        receivesDeletes: [2],
      },
      {
        source: 'warehouse',
        table: 'customers',
        match: USE_CASE_MATCH,
        fields: {
          business_name: { column: 'business_name' },
          phone: { column: 'phone' },
          category: { column: 'category' },
          billing_cycle: { column: 'billing_cycle' },
        },
        receivesInserts: true,
        receivesDeletes: 'last',
      },
    ]);
    // A row inserted in the CRM goes to the table only; one inserted in the table to the CRM only.
    const receivers = (from: number) =>
      rule.members.flatMap((m, i) => (i !== from && receivesInsertsFrom(m, from) ? [i] : []));
    expect([receivers(0), receivers(1), receivers(2)]).toEqual([[2], [2], [0]]);
  });

  it('defines the table: its own key, then every exposed column typed as it and nullable', async () => {
    const definition = materializedTableDefinition(await resolve(customers()), {
      schema: 'public',
      name: 'customers',
    });
    expect(definition).toMatchObject({ schema: 'public', name: 'customers', primaryKey: ['id'] });
    expect(definition.columns).toEqual([
      { name: 'id', type: 'bigint', autoIncrement: true, nullable: false },
      { name: 'business_name', type: 'string', nullable: true },
      { name: 'phone', type: 'string', nullable: true },
      { name: 'category', type: 'string', nullable: true },
      { name: 'billing_cycle', type: 'string', nullable: true },
    ]);
  });

  it('refuses a definition without a key column, naming the columns it needs', async () => {
    const noKey = await refusal(customers((d) => d.columns.shift()));
    expect(noKey).toEqual([
      expect.stringContaining('crm.business_name, invoicing.business_name (without read transforms)'),
    ]);
    const readKey = await refusal(
      customers(
        (d) => (d.columns[0].owners[1] = { member: 'invoicing', column: 'business_name', read: 'value' }),
      ),
    );
    expect(readKey).toEqual([expect.stringContaining("no exposed column is the members' match key")]);
  });

  it('refuses unequal normalize steps, links, unwritable columns and a column named id', async () => {
    const steps = await refusal(
      customers((d) => (d.members[1].match = { column: 'business_name', normalize: [] })),
    );
    expect(steps).toEqual([expect.stringContaining('different normalize steps')]);
    expect(
      await refusal(customers((d) => d.columns.push({ name: 'upper', owners: ['crm.name_upper'] }))),
    ).toEqual([expect.stringContaining('"crm.name_upper" (exposed as "upper") is computed')]);
    expect(await refusal(customers((d) => d.columns.push({ name: 'id', owners: ['crm.id'] })))).toEqual([
      expect.stringContaining("materialized table's own key"),
      expect.stringContaining('primary key'),
    ]);
    expect(
      await refusal(customers((d) => d.columns.push({ name: 'segment', owners: ['crm.category'] }))),
    ).toEqual([expect.stringContaining('is exposed as "category" too')]);
    const links = customers((d) => {
      d.links = { sync: 's1' };
      for (const member of d.members) delete member.match;
    });
    const linked = { ...(await resolve(customers())), definition: parseCombinedDefinition(links) };
    expect(() => materializationRule(linked, TARGET, 'mat')).toThrow(/needs match keys/);
  });
});
