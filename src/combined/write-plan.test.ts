import { afterAll, describe, expect, it } from 'vitest';
import type { Connector } from '../connectors/connector.js';
import type { ColumnSchema, PortableType, TableSchema } from '../model/schema.js';
import { createSandbox } from '../sandbox/sandbox.js';
import type { CombinedDefinition } from './combined-definition.js';
import type { CombinedTable, EntityKeying, ResolvedMember, ResolvedOwner } from './combined-table.js';
import { parseColumnValues, planInsert, planUpdate } from './write-plan.js';

function column(name: string, type: PortableType, extra: Partial<ColumnSchema> = {}): ColumnSchema {
  const id = name === 'id';
  const base = { name, type, nativeType: type, nullable: !id, defaultValue: null, autoIncrement: id };
  return { ...base, generated: false, ...extra };
}

function table(name: string, columns: ColumnSchema[]): TableSchema {
  return {
    schema: null,
    name,
    kind: 'table',
    columns,
    primaryKey: ['id'],
    foreignKeys: [],
    uniqueIndexes: [],
  };
}

const crm = table('crm', [
  column('id', 'integer'),
  column('business_name', 'string'),
  column('email', 'string', { maxLength: 200 }),
  column('phone', 'string', { maxLength: 40 }),
  column('contact_name', 'string', { nullable: false }),
]);
const inv = table('inv', [
  column('id', 'integer'),
  column('business_name', 'string'),
  column('email', 'string'),
  column('phone', 'bigint'),
  column('billing_cycle', 'string'),
]);

const sandbox = createSandbox();
afterAll(() => sandbox.close());

function member(index: number, name: string, schema: TableSchema): ResolvedMember {
  const match = { column: 'business_name', normalize: ['trim', 'lower'] as const };
  return {
    index,
    name,
    sourceId: name,
    tableName: schema.name,
    table: schema,
    connector: {} as Connector,
    match: { ...match, normalize: [...match.normalize] },
  };
}

const members = [member(0, 'crm', crm), member(1, 'invoicing', inv)];
function owner(m: number, name: string, transforms: Partial<ResolvedOwner> = {}): ResolvedOwner {
  return { member: m, column: members[m]!.table.columns.find((c) => c.name === name)!, ...transforms };
}
function exposed(name: string, owners: ResolvedOwner[]) {
  return { name, schema: { ...owners[0]!.column, name }, owners };
}

const combined: CombinedTable = {
  id: 't1',
  definition: { name: 'customers' } as CombinedDefinition,
  members,
  columns: [
    exposed('business_name', [owner(0, 'business_name'), owner(1, 'business_name')]),
    exposed('email', [owner(0, 'email'), owner(1, 'email')]),
    exposed('phone', [
      owner(0, 'phone'),
      owner(1, 'phone', { read: 'String(value)', write: "Number(value.replace(/\\D/g, ''))" }),
    ]),
    exposed('contact_name', [owner(0, 'contact_name')]),
    exposed('billing_cycle', [owner(1, 'billing_cycle')]),
  ],
  keying: {} as EntityKeying,
  sandbox,
};

const crmRow = { id: 3, business_name: 'Cedar', email: 'cy@x', phone: '555', contact_name: 'Cy' };
const invRow = { id: 9, business_name: 'cedar', email: 'cy@x', phone: '555', billing_cycle: 'monthly' };

describe('parseColumnValues', () => {
  it('refuses unknown and metadata names, naming them', () => {
    expect(() => parseColumnValues(combined, { nope: 1 }, 'changes')).toThrow(/unknown column "nope"/);
    expect(() => parseColumnValues(combined, { _key: 'x' }, 'changes')).toThrow(/"_key" is row metadata/);
    expect(() => parseColumnValues(combined, [1], 'changes')).toThrow(/must be an object/);
  });

  it('coerces to the exposed type', () => {
    expect(parseColumnValues(combined, { phone: 5551234 }, 'changes')[0]!.value).toBe('5551234');
  });
});

describe('planUpdate', () => {
  it('writes a shared column to every owner through its transform, skipping equal values', async () => {
    const inputs = parseColumnValues(combined, { phone: '(555) 010-7777', email: 'cy@x' }, 'changes');
    expect(await planUpdate(combined, inputs, [crmRow, invRow], 'cedar')).toEqual([
      { member: 0, changes: { phone: '(555) 010-7777' }, before: { phone: '555' } },
      { member: 1, changes: { phone: '5550107777' }, before: { phone: '555' } },
    ]);
  });

  it('leaves out members without the row and members owning nothing changed', async () => {
    const inputs = parseColumnValues(combined, { email: 'new@x' }, 'changes');
    expect(await planUpdate(combined, inputs, [crmRow, null], 'cedar')).toEqual([
      { member: 0, changes: { email: 'new@x' }, before: { email: 'cy@x' } },
    ]);
    const cycle = parseColumnValues(combined, { billing_cycle: 'yearly' }, 'changes');
    expect(await planUpdate(combined, cycle, [crmRow, invRow], 'cedar')).toEqual([
      { member: 1, changes: { billing_cycle: 'yearly' }, before: { billing_cycle: 'monthly' } },
    ]);
  });

  it('refuses a value only an absent member could keep', async () => {
    const inputs = parseColumnValues(combined, { billing_cycle: 'yearly' }, 'changes');
    await expect(planUpdate(combined, inputs, [crmRow, null], 'cedar')).rejects.toMatchObject({
      status: 409,
      code: 'member_row_absent',
    });
  });

  it('refuses a value the second member cannot take, naming column, member and value', async () => {
    const inputs = parseColumnValues(combined, { phone: '12345678901234567890123' }, 'changes');
    const err = await planUpdate(combined, inputs, [crmRow, invRow], 'cedar').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, details: { field: 'phone', member: 'invoicing' } });
    expect((err as Error).message).toMatch(
      /"phone" = "12345678901234567890123" cannot be written to member "invoicing"/,
    );
  });

  it('refuses a transform answering NaN', async () => {
    const nan = {
      ...combined,
      columns: [exposed('phone', [owner(1, 'phone', { read: 'String(value)', write: 'Number(value)' })])],
    };
    const inputs = parseColumnValues(nan, { phone: 'abc' }, 'changes');
    await expect(planUpdate(nan, inputs, [crmRow, invRow], 'k')).rejects.toMatchObject({
      code: 'sandbox_result',
      details: { field: 'phone', member: 'invoicing' },
    });
  });

  it('passes NULL through without running the transform', async () => {
    const inputs = parseColumnValues(combined, { phone: null }, 'changes');
    const plan = await planUpdate(combined, inputs, [crmRow, invRow], 'cedar');
    expect(plan.map((p) => p.changes)).toEqual([{ phone: null }, { phone: null }]);
  });
});

describe('planInsert', () => {
  it('builds each member row from the columns it owns', async () => {
    const values = { business_name: 'New', phone: '555-1', contact_name: 'Nia', billing_cycle: 'weekly' };
    const inputs = parseColumnValues(combined, values, 'values');
    expect(await planInsert(combined, inputs, [0, 1])).toEqual([
      { member: 0, row: { business_name: 'New', phone: '555-1', contact_name: 'Nia' } },
      { member: 1, row: { business_name: 'New', phone: '5551', billing_cycle: 'weekly' } },
    ]);
  });

  it('asks for the match column and for required columns', async () => {
    const noName = parseColumnValues(combined, { contact_name: 'Nia' }, 'values');
    await expect(planInsert(combined, noName, [0])).rejects.toThrow(
      /match column crm.business_name: give "business_name" a value/,
    );
    const blank = parseColumnValues(combined, { business_name: '  ', contact_name: 'Nia' }, 'values');
    await expect(planInsert(combined, blank, [0])).rejects.toThrow(/non-blank value/);
    const noContact = parseColumnValues(combined, { business_name: 'New' }, 'values');
    await expect(planInsert(combined, noContact, [0])).rejects.toThrow(
      /"contact_name" is required: give "contact_name" a value/,
    );
  });

  it('refuses a value no inserted member stores', async () => {
    const inputs = parseColumnValues(combined, { business_name: 'New', contact_name: 'Nia' }, 'values');
    await expect(planInsert(combined, inputs, [1])).rejects.toMatchObject({ code: 'unstored_field' });
  });
});
