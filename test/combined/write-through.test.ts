import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CombinedTable } from '../../src/combined/combined-table.js';
import {
  deleteCombinedRow,
  insertCombinedRow,
  updateCombinedRow,
} from '../../src/combined/combined-writes.js';
import type { BraidError } from '../../src/model/errors.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import { openWriteThrough, type WriteThroughFixture } from './write-through-fixture.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());

/**
 * Combined updates on the real servers: the CRM on MariaDB (phone VARCHAR) and invoicing on
 * PostgreSQL (phone BIGINT, email under a CHECK constraint), checked with plain SQL on both.
 */
let fx: WriteThroughFixture;
let customers: CombinedTable;

beforeAll(async () => {
  if (!ready) return;
  fx = await openWriteThrough('cwrite');
  customers = await fx.table();
});
afterAll(() => fx?.close());

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('the write should have failed'),
    (err: unknown) => err as BraidError,
  );

describe.skipIf(!ready)('combined table write-through (update)', () => {
  it('writes a shared column to both members, through the invoicing transform', async () => {
    const result = await updateCombinedRow(customers, 'blue bakery llc', {
      phone: '+1 (555) 777-0001',
      email: 'orders@blue.example',
    });
    expect(result.members).toEqual([
      { member: 'crm', action: 'updated' },
      { member: 'invoicing', action: 'updated' },
    ]);
    expect(result.row).toMatchObject({
      _key: 'blue bakery llc',
      phone: '+1 (555) 777-0001',
      email: 'orders@blue.example',
    });
    expect(await fx.dbs.crm(1)).toMatchObject({ phone: '+1 (555) 777-0001', email: 'orders@blue.example' });
    expect(await fx.dbs.inv(1)).toMatchObject({ phone: '15557770001', email: 'orders@blue.example' });
  });

  it('touches only the member owning a column, and skips equal values', async () => {
    const invBefore = await fx.dbs.inv(2);
    const result = await updateCombinedRow(customers, 'acme tools', {
      contact_name: 'Robert',
      email: 'bob@acme.example',
    });
    expect(result.members).toEqual([
      { member: 'crm', action: 'updated' },
      { member: 'invoicing', action: 'unchanged' },
    ]);
    expect(result.row).toMatchObject({ contact_name: 'Robert' });
    expect(await fx.dbs.crm(2)).toMatchObject({ contact_name: 'Robert', email: 'bob@acme.example' });
    expect(await fx.dbs.inv(2)).toEqual(invBefore);
  });

  it('puts the first member back when the second refuses the value', async () => {
    const crmBefore = await fx.dbs.crm(3);
    const invBefore = await fx.dbs.inv(3);
    const err = await failure(
      updateCombinedRow(customers, 'cedar dental', { email: 'no-at-sign', phone: '555 010 3333' }),
    );
    expect(err).toMatchObject({ status: 409, code: 'combined_write_failed' });
    expect(err.message).toMatch(/member "invoicing" \([\w.]*invoice_customers\) failed: .*check constraint/);
    expect(err.message).toMatch(/put back: no member was changed/);
    expect(err.details?.members).toEqual([
      { member: 'crm', action: 'compensated' },
      {
        member: 'invoicing',
        action: 'failed',
        error: { code: 'check_violation', message: expect.any(String) },
      },
    ]);
    expect(await fx.dbs.crm(3)).toEqual(crmBefore);
    expect(await fx.dbs.inv(3)).toEqual(invBefore);
  });

  it('says loudly where the data is left inconsistent when putting back fails', async () => {
    // The CRM refuses to leave the marker value: the compensation of the CRM update fails.
    await fx.dbs.my
      .query(`create trigger crm_keep_marker before update on crm_business_information for each row
      begin if old.email = 'stuck-marker' then signal sqlstate '45000' set message_text = 'marker is stuck'; end if; end`);
    try {
      const err = await failure(updateCombinedRow(customers, 'acme tools', { email: 'stuck-marker' }));
      expect(err).toMatchObject({ status: 409, code: 'combined_write_failed' });
      expect(err.message).toMatch(
        /could NOT be put back in member "crm" \(crm_business_information \{"id":2\}\)/,
      );
      expect(err.message).toMatch(/INCONSISTENT/);
      expect(err.details?.members).toMatchObject([
        {
          member: 'crm',
          action: 'compensation_failed',
          error: { message: expect.stringMatching(/marker is stuck/) },
        },
        { member: 'invoicing', action: 'failed', error: { code: 'check_violation' } },
      ]);
      expect(await fx.dbs.crm(2)).toMatchObject({ email: 'stuck-marker' });
      expect(await fx.dbs.inv(2)).toMatchObject({ email: 'bob@acme.example' });
    } finally {
      await fx.dbs.my.query('drop trigger crm_keep_marker');
      await fx.dbs.my.query("update crm_business_information set email = 'bob@acme.example' where id = 2");
    }
  });

  it('reports a trigger failure of the second source with the first one put back', async () => {
    await fx.dbs.pg.query(`create function refuse_marker() returns trigger language plpgsql as $$
      begin if new.billing_cycle = 'refused' then raise exception 'billing cycle refused'; end if; return new; end $$`);
    await fx.dbs.pg.query(
      'create trigger refuse_marker before update on invoice_customers for each row execute function refuse_marker()',
    );
    try {
      const table = await fx.table({
        columns: [
          ...customersColumns(),
          { name: 'cycle_note', owners: ['crm.description', 'invoicing.billing_cycle'] },
        ],
      });
      const err = await failure(updateCombinedRow(table, 'blue bakery llc', { cycle_note: 'refused' }));
      expect(err).toMatchObject({ status: 409, code: 'combined_write_failed' });
      expect(err.details?.members).toMatchObject([
        { member: 'crm', action: 'compensated' },
        {
          member: 'invoicing',
          action: 'failed',
          error: { message: expect.stringMatching(/billing cycle refused/) },
        },
      ]);
      expect(await fx.dbs.crm(1)).toMatchObject({ description: 'bread' });
    } finally {
      await fx.dbs.pg.query('drop trigger refuse_marker on invoice_customers');
    }
  });

  it('writes nothing anywhere when a value does not fit the second member', async () => {
    const before = [await fx.dbs.crm(3), await fx.dbs.inv(3)];
    // 23 digits: fine for the CRM's VARCHAR(40), beyond BIGINT once the transform made it a number.
    const err = await failure(
      updateCombinedRow(customers, 'cedar dental', {
        phone: '12345678901234567890123',
        email: 'x@y.example',
      }),
    );
    expect(err).toMatchObject({ status: 400, details: { field: 'phone', member: 'invoicing' } });
    expect(err.message).toMatch(
      /"phone" = "12345678901234567890123" cannot be written to member "invoicing"/,
    );
    const tooLong = await failure(updateCombinedRow(customers, 'cedar dental', { phone: '5'.repeat(41) }));
    expect(tooLong).toMatchObject({ status: 400, code: 'invalid_value' });
    expect([await fx.dbs.crm(3), await fx.dbs.inv(3)]).toEqual(before);
  });

  it('writes the member holding a one-sided row and reports the other absent', async () => {
    const result = await updateCombinedRow(customers, 'only in crm', {
      phone: '555 010 4444',
      email: 'dee@new.example',
    });
    expect(result.members).toEqual([
      { member: 'crm', action: 'updated' },
      { member: 'invoicing', action: 'absent' },
    ]);
    expect(await fx.dbs.crm(4)).toMatchObject({ phone: '555 010 4444', email: 'dee@new.example' });
    const lost = await failure(updateCombinedRow(customers, 'only in crm', { billing_cycle: 'weekly' }));
    expect(lost).toMatchObject({ status: 409, code: 'member_row_absent' });
  });

  it('refuses unknown columns, metadata and unknown entities', async () => {
    await expect(updateCombinedRow(customers, 'acme tools', { category: 'x' })).rejects.toMatchObject({
      status: 400,
      details: { field: 'category' },
    });
    await expect(updateCombinedRow(customers, 'acme tools', { _key: 'x' })).rejects.toMatchObject({
      status: 400,
      details: { field: '_key' },
    });
    await expect(updateCombinedRow(customers, 'no such shop', { email: 'a@b' })).rejects.toMatchObject({
      status: 404,
    });
  });

  it('follows the entity when its match key changes', async () => {
    const result = await updateCombinedRow(customers, 'acme tools', { business_name: 'Acme Hardware' });
    expect(result.row).toMatchObject({ _key: 'acme hardware', business_name: 'Acme Hardware' });
    expect(await fx.dbs.inv(2)).toMatchObject({ business_name: 'Acme Hardware' });
  });
});

describe.skipIf(!ready)('combined table write-through (insert, delete)', () => {
  const newShop = {
    business_name: 'New Shop',
    email: 'hi@new.example',
    phone: '(555) 010-0009',
    contact_name: 'Nia',
    billing_cycle: 'monthly',
  };

  it('inserts the entity into both members, each with the columns it owns', async () => {
    const result = await insertCombinedRow(customers, newShop);
    expect(result.members).toEqual([
      { member: 'crm', action: 'inserted' },
      { member: 'invoicing', action: 'inserted' },
    ]);
    expect(result.row).toMatchObject({ ...newShop, _key: 'new shop' });
    expect(await fx.crmByName('New Shop')).toMatchObject([
      { email: 'hi@new.example', phone: '(555) 010-0009', contact_name: 'Nia' },
    ]);
    expect(await fx.invByName('New Shop')).toMatchObject([
      { email: 'hi@new.example', phone: '5550100009', billing_cycle: 'monthly' },
    ]);
    const again = await failure(insertCombinedRow(customers, { ...newShop, business_name: ' new  SHOP' }));
    expect(again).toMatchObject({ status: 409, code: 'combined_row_exists' });
  });

  it('inserts only into the members the definition names', async () => {
    const table = await fx.table({ inserts: { members: ['invoicing'] } });
    const values = {
      business_name: 'Billing Only',
      email: 'b@o.example',
      phone: '555 010 0010',
      billing_cycle: 'weekly',
    };
    const result = await insertCombinedRow(table, values);
    expect(result.members).toEqual([
      { member: 'crm', action: 'absent' },
      { member: 'invoicing', action: 'inserted' },
    ]);
    expect(result.row).toMatchObject({ _key: 'billing only', phone: '5550100010', contact_name: null });
    expect(await fx.crmByName('Billing Only')).toEqual([]);
    expect(await fx.invByName('Billing Only')).toMatchObject([
      { phone: '5550100010', billing_cycle: 'weekly' },
    ]);
    const unstored = await failure(insertCombinedRow(table, { business_name: 'X', contact_name: 'Nia' }));
    expect(unstored).toMatchObject({
      status: 400,
      code: 'unstored_field',
      details: { field: 'contact_name' },
    });
    const nameless = await failure(insertCombinedRow(table, { email: 'a@b.example' }));
    expect(nameless.message).toMatch(/match column .*business_name: give "business_name" a value/);
  });

  it('deletes the rows already inserted when a later member refuses', async () => {
    const err = await failure(insertCombinedRow(customers, { business_name: 'Bad Mail', email: 'bad-mail' }));
    expect(err).toMatchObject({ status: 409, code: 'combined_write_failed' });
    expect(err.details?.members).toMatchObject([
      { member: 'crm', action: 'compensated' },
      { member: 'invoicing', action: 'failed', error: { code: 'check_violation' } },
    ]);
    expect(await fx.crmByName('Bad Mail')).toEqual([]);
    expect(await fx.invByName('Bad Mail')).toEqual([]);
  });

  it('refuses deletes when the definition says so', async () => {
    const table = await fx.table({ deletes: 'refuse' });
    await expect(deleteCombinedRow(table, 'new shop')).rejects.toMatchObject({
      status: 409,
      code: 'combined_delete_refused',
    });
    expect(await fx.crmByName('New Shop')).toHaveLength(1);
  });

  it('deletes only in the members the policy lists', async () => {
    const table = await fx.table({ deletes: { members: ['crm'] } });
    const result = await deleteCombinedRow(table, 'new shop');
    expect(result.members).toEqual([
      { member: 'crm', action: 'deleted' },
      { member: 'invoicing', action: 'unchanged' },
    ]);
    expect(result.row).toMatchObject({ _key: 'new shop', contact_name: null, billing_cycle: 'monthly' });
    expect(await fx.crmByName('New Shop')).toEqual([]);
    expect(await fx.invByName('New Shop')).toHaveLength(1);
  });

  it('deletes the entity from every member holding it', async () => {
    const result = await deleteCombinedRow(customers, 'only in invoicing');
    expect(result).toEqual({
      row: null,
      members: [
        { member: 'crm', action: 'absent' },
        { member: 'invoicing', action: 'deleted' },
      ],
    });
    expect(await fx.invByName('Only In Invoicing')).toEqual([]);
  });

  it('re-inserts the deleted rows, same key, when a later member refuses the delete', async () => {
    await fx.dbs.pg.query(`create function refuse_delete() returns trigger language plpgsql as $$
      begin raise exception 'invoiced customers stay'; end $$`);
    await fx.dbs.pg.query(
      'create trigger refuse_delete before delete on invoice_customers for each row execute function refuse_delete()',
    );
    try {
      const before = await fx.dbs.crm(1);
      const err = await failure(deleteCombinedRow(customers, 'blue bakery llc'));
      expect(err).toMatchObject({ status: 409, code: 'combined_write_failed' });
      expect(err.message).toMatch(/deletions already made in "crm" were put back/);
      expect(err.details?.members).toMatchObject([
        { member: 'crm', action: 'compensated' },
        {
          member: 'invoicing',
          action: 'failed',
          error: { message: expect.stringMatching(/invoiced customers stay/) },
        },
      ]);
      expect(await fx.dbs.crm(1)).toEqual(before);
    } finally {
      await fx.dbs.pg.query('drop trigger refuse_delete on invoice_customers');
    }
  });
});

function customersColumns() {
  return [
    { name: 'business_name', owners: ['crm.business_name', 'invoicing.business_name'] },
    { name: 'email', owners: ['crm.email', 'invoicing.email'] },
  ];
}
