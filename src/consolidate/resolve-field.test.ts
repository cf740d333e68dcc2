import { describe, expect, it } from 'vitest';
import { resolveField, type Candidate } from './resolve-field.js';

function candidate(
  recordId: number,
  input: string,
  priority: number,
  value: unknown,
  updatedAt: string | null = null,
): Candidate {
  return { recordId, input, sourceKey: String(recordId), priority, updatedAt, value };
}

const crm = (value: unknown, updatedAt?: string) => candidate(1, 'crm', 1, value, updatedAt ?? null);
const billing = (value: unknown, updatedAt?: string) => candidate(2, 'billing', 2, value, updatedAt ?? null);
const shop = (value: unknown, updatedAt?: string) => candidate(3, 'shop', 3, value, updatedAt ?? null);

describe('resolveField', () => {
  it('agreeing records, or one value among nulls, are no discrepancy', () => {
    expect(resolveField('priority', [crm('a'), billing('a')])).toEqual({ value: 'a', discrepancy: null });
    expect(resolveField('priority', [crm(null), billing('b')])).toEqual({ value: 'b', discrepancy: null });
    expect(resolveField('priority', [crm(null), billing(null)])).toEqual({ value: null, discrepancy: null });
  });

  it('priority: the preferred input wins, and every candidate is listed with its records', () => {
    const resolved = resolveField('priority', [shop('x'), billing('y'), crm('z')]);
    expect(resolved.value).toBe('z');
    expect(resolved.discrepancy).toEqual({
      policy: 'priority',
      pending: false,
      candidates: [
        { value: 'x', records: ['shop:3'] },
        { value: 'y', records: ['billing:2'] },
        { value: 'z', records: ['crm:1'] },
      ],
    });
  });

  it('newest: the record changed last wins; ties and missing times fall back to priority', () => {
    expect(
      resolveField('newest', [crm('old', '2026-01-01T00:00:00Z'), billing('new', '2026-02-01T00:00:00Z')])
        .value,
    ).toBe('new');
    // Wall-clock times without a zone compare as UTC; an offset is honoured.
    expect(
      resolveField('newest', [crm('a', '2026-01-01 10:00:00'), billing('b', '2026-01-01T11:00:00+02:00')])
        .value,
    ).toBe('a');
    expect(
      resolveField('newest', [crm('a', '2026-01-01T00:00:00Z'), billing('b', '2026-01-01T00:00:00Z')]).value,
    ).toBe('a');
    expect(resolveField('newest', [crm('a'), billing('b', '2020-01-01T00:00:00Z')]).value).toBe('b');
  });

  it('most_common: the value most records hold; a tie goes to the value of the preferred input', () => {
    expect(resolveField('most_common', [crm('a'), billing('b'), shop('b')]).value).toBe('b');
    expect(resolveField('most_common', [shop('b'), crm('a')]).value).toBe('a');
  });

  it('manual: provisional priority value, pending until a decision names a value or an input', () => {
    const pending = resolveField('manual', [crm('a'), billing('b')]);
    expect(pending.value).toBe('a');
    expect(pending.discrepancy?.pending).toBe(true);
    const byValue = resolveField('manual', [crm('a'), billing('b')], {
      entity: 'crm:1',
      field: 'f',
      value: 'c',
    });
    expect(byValue).toMatchObject({ value: 'c', discrepancy: { policy: 'decision', pending: false } });
    const byInput = resolveField('manual', [crm('a'), billing('b')], {
      entity: 'crm:1',
      field: 'f',
      input: 'billing',
    });
    expect(byInput.value).toBe('b');
  });

  it('values compare by their JSON text: case differences are discrepancies, equal objects are not', () => {
    expect(resolveField('priority', [crm('Ann'), billing('ann')]).discrepancy).not.toBeNull();
    expect(resolveField('priority', [crm({ a: 1 }), billing({ a: 1 })]).discrepancy).toBeNull();
    expect(resolveField('priority', [crm('1'), billing(1)]).discrepancy).not.toBeNull();
  });
});
