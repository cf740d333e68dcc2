import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BraidError } from '../model/errors.js';
import { createSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { ISSUE_EXAMPLE } from '../../test/sync/use-case-tables.js';
import { canonicalEquals, canonicalText, readCanonical, writeMember } from './field-mapping.js';
import { parseSyncRule } from './sync-rule.js';

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox();
});
afterAll(async () => {
  await sandbox.close();
});

const rule = parseSyncRule(JSON.parse(ISSUE_EXAMPLE));
const [crm, invoicing] = rule.members as [(typeof rule.members)[0], (typeof rule.members)[0]];

describe('field mapping', () => {
  it('reads phone text to digits on one side and a number to text on the other', async () => {
    const crmRow = {
      id: 7,
      business_name: 'Blue Bakery LLC',
      email: 'ana@bluebakery.example',
      phone: '(555) 123-4567',
      category: 'food',
    };
    const invoicingRow = {
      id: 3,
      business_name: 'Blue Bakery LLC',
      email: 'ana@bluebakery.example',
      phone: 5551234567,
    };
    const a = await readCanonical(sandbox, crm, crmRow);
    const b = await readCanonical(sandbox, invoicing, invoicingRow);
    expect(a).toEqual({ email: 'ana@bluebakery.example', phone: '5551234567' });
    expect(b).toEqual({ email: 'ana@bluebakery.example', phone: '5551234567' });
    // Without the transform the types differ, and so do the values.
    expect(canonicalEquals(invoicingRow.phone, a.phone)).toBe(false);
    expect(canonicalEquals(a.phone, b.phone)).toBe(true);
  });

  it('writes back only mapped columns, through the write transform', async () => {
    const out = await writeMember(sandbox, invoicing, { phone: '5559876543' });
    expect(out).toEqual({ phone: 5559876543 });
    expect(typeof out.phone).toBe('number');
    const crmOut = await writeMember(sandbox, crm, { email: 'x@y.example', phone: '5559876543', other: 'z' });
    expect(crmOut).toEqual({ email: 'x@y.example', phone: '5559876543' });
    expect(Object.keys(crmOut)).not.toContain('category');
  });

  it('round-trips: read(write(v)) is v on both members', async () => {
    for (const member of [crm, invoicing]) {
      const written = await writeMember(sandbox, member, { phone: '5550001111' });
      expect(await readCanonical(sandbox, member, written)).toEqual({ phone: '5550001111' });
    }
  });

  it('passes NULL through without running transforms and skips absent columns', async () => {
    expect(await readCanonical(sandbox, crm, { id: 1, phone: null })).toEqual({ phone: null });
    expect(await writeMember(sandbox, invoicing, { phone: null })).toEqual({ phone: null });
  });

  it('names the row key and the field when a transform fails', async () => {
    const member = { ...crm, fields: { phone: { column: 'phone', read: 'value.nope.deeper' } } };
    const err = await readCanonical(sandbox, member, { id: 9, phone: '1' }, { rowKey: { id: 9 } }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(BraidError);
    expect((err as BraidError).code).toBe('sandbox_error');
    expect((err as BraidError).message).toMatch(/\(row \{"id":9\}\)$/);
    expect((err as BraidError).details).toMatchObject({ rowKey: { id: 9 }, field: 'phone' });
  });

  it('compares canonical values as normalized JSON', () => {
    expect(canonicalText({ b: 1, a: [2, { d: 1, c: 0 }] })).toBe('{"a":[2,{"c":0,"d":1}],"b":1}');
    expect(canonicalEquals({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(canonicalEquals('5551234567', 5551234567)).toBe(false);
    expect(canonicalEquals(null, undefined)).toBe(true);
    expect(canonicalEquals(1, 1.0)).toBe(true);
  });
});
