import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityLink } from '../../src/meta/entity-links-repository.js';
import type { Row } from '../../src/model/values.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { demoCustomers } from '../../src/services/demo-data.js';
import { planReconciliation } from '../../src/sync/reconcile-plan.js';
import { parseSyncRule, type SyncRule } from '../../src/sync/sync-rule.js';
import { validateSyncRule } from '../../src/sync/sync-rule-validation.js';
import { CRM_TABLE, INVOICING_TABLE, ISSUE_EXAMPLE } from './use-case-tables.js';

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox();
});
afterAll(async () => {
  await sandbox.close();
});

/** Rows as a connector streams them: in batches, asynchronously. */
async function* batches(rows: Row[], size = 37): AsyncIterable<Row[]> {
  for (let i = 0; i < rows.length; i += size) {
    await Promise.resolve();
    yield rows.slice(i, i + size);
  }
}

// Computed here by hand, independently of src/match, to check the planner against.
const nameKey = (name: string) => name.trim().toLowerCase().split(/\s+/).join(' ');
const tenDigits = (phone: string) => {
  const digits = [...phone].filter((c) => c >= '0' && c <= '9').join('');
  return digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
};

/** The issue's rule, with the CRM phone read also dropping the +1 country code the CRM sometimes has. */
function useCaseRule(policy: 'priority' | 'manual' = 'priority'): SyncRule {
  const body = JSON.parse(ISSUE_EXAMPLE) as Record<string, any>;
  body.members[0].fields.phone.read = "value.replace(/\\D/g, '').replace(/^1(?=\\d{10}$)/, '')";
  body.conflict.policy = policy;
  if (policy === 'manual') delete body.conflict.order;
  return parseSyncRule(body);
}

function useCaseRows() {
  const { crm, invoicing } = demoCustomers(300, 7);
  const crmRows: Row[] = crm.map((r, i) => ({ id: i + 1, ...r }));
  const invRows: Row[] = invoicing.map((r, i) => ({ id: i + 1, ...r }));
  return { crmRows, invRows };
}

describe('initial reconciliation plan on the use case', () => {
  it('matches by normalized name and finds the phone and email discrepancies', async () => {
    const rule = useCaseRule();
    await validateSyncRule(rule, [CRM_TABLE, INVOICING_TABLE], sandbox);
    const { crmRows, invRows } = useCaseRows();

    const invByName = new Map(invRows.map((r) => [nameKey(r.business_name as string), r]));
    const crmNames = new Set(crmRows.map((r) => nameKey(r.business_name as string)));
    const pairs = crmRows.flatMap((c) => {
      const inv = invByName.get(nameKey(c.business_name as string));
      return inv ? [{ crm: c, inv }] : [];
    });
    const phoneDiffs = pairs.filter((p) => tenDigits(p.crm.phone as string) !== String(p.inv.phone));
    const emailDiffs = pairs.filter((p) => p.crm.email !== p.inv.email);
    // The data must exercise what is checked.
    expect(pairs.length).toBeGreaterThan(200);
    expect(pairs.length).toBeLessThan(crmRows.length);
    expect(phoneDiffs.length).toBeGreaterThan(0);
    expect(crmRows.some((r) => (r.business_name as string) !== (r.business_name as string).trim())).toBe(
      true,
    );

    const plan = await planReconciliation({
      rule,
      tables: [CRM_TABLE, INVOICING_TABLE],
      rows: [batches(crmRows), batches(invRows)],
      sandbox,
    });
    expect(plan.summary).toEqual({
      rows: [crmRows.length, invRows.length],
      matched: pairs.length,
      matchedByLink: 0,
      matchedByKey: pairs.length,
      unmatched: [
        crmRows.length - pairs.length,
        invRows.filter((r) => !crmNames.has(nameKey(r.business_name as string))).length,
      ],
      duplicateGroups: 0,
      discrepancies: phoneDiffs.length + emailDiffs.length,
      conflicts: 0,
      rowErrors: 0,
    });
    expect(plan.entities).toHaveLength(pairs.length);
    expect(plan.truncated).toBe(false);

    // Each phone discrepancy names both rows; the CRM wins by priority, digits against digits.
    const phoneDecisions = plan.entities.flatMap((e) =>
      e.discrepancies.filter((d) => d.field === 'phone').map((d) => ({ entity: e, d })),
    );
    expect(phoneDecisions.map(({ entity }) => entity.rows.map((r) => r.key.id))).toEqual(
      phoneDiffs.map((p) => [p.crm.id, p.inv.id]),
    );
    for (const [i, { d }] of phoneDecisions.entries()) {
      const pair = phoneDiffs[i]!;
      expect(d).toEqual({
        field: 'phone',
        outcome: 'decided',
        reason: 'priority',
        value: tenDigits(pair.crm.phone as string),
        winner: 0,
        losers: [{ member: 1, value: String(pair.inv.phone), commitTime: null }],
      });
    }
  });

  it('routes by existing links first, reports duplicates and row errors without merging', async () => {
    const rule = useCaseRule('manual');
    const { crmRows, invRows } = useCaseRows();
    const invByName = new Map(invRows.map((r) => [nameKey(r.business_name as string), r]));
    const matchedCrm = crmRows.filter((r) => invByName.has(nameKey(r.business_name as string)));
    const [renamed, duplicated] = matchedCrm as [Row, Row];
    const partner = invByName.get(nameKey(renamed.business_name as string))!;
    const baseline = await planReconciliation({
      rule,
      tables: [CRM_TABLE, INVOICING_TABLE],
      rows: [crmRows, invRows],
      sandbox,
    });

    // Renamed in the CRM after it was linked: the link keeps the match.
    renamed.business_name = 'A Completely New Name Ltd';
    const extra: Row[] = [
      { ...duplicated, id: 10_001 },
      { id: 10_002, business_name: 'Numeric Phone Co', email: 'x@y.example', phone: 5551234567 },
    ];
    const links: EntityLink[] = [
      { syncId: 's', entityId: 'e-1', member: 0, key: { id: renamed.id }, matchKey: 'old' },
      { syncId: 's', entityId: 'e-1', member: 1, key: { id: partner.id }, matchKey: 'old' },
    ];
    const plan = await planReconciliation({
      rule,
      tables: [CRM_TABLE, INVOICING_TABLE],
      rows: [batches([...crmRows, ...extra]), batches(invRows)],
      links,
      sandbox,
      maxListed: 5,
    });

    expect(plan.summary.matchedByLink).toBe(1);
    expect(plan.summary.matched).toBe(baseline.summary.matched - 1);
    expect(plan.summary.duplicateGroups).toBe(1);
    expect(plan.duplicates).toEqual([
      {
        matchKey: nameKey(duplicated.business_name as string),
        rows: [
          { member: 0, key: { id: duplicated.id } },
          { member: 0, key: { id: 10_001 } },
          { member: 1, key: { id: invByName.get(nameKey(duplicated.business_name as string))!.id } },
        ],
      },
    ]);
    const linkedEntity = plan.entities.find((e) => e.entityId === 'e-1')!;
    expect(linkedEntity.rows).toEqual([
      { member: 0, key: { id: renamed.id }, linked: true },
      { member: 1, key: { id: partner.id }, linked: true },
    ]);
    // A CRM phone stored as a number makes `value.replace` throw: reported, not matched.
    expect(plan.summary.rowErrors).toBe(1);
    expect(plan.rowErrors[0]).toMatchObject({ member: 0, key: { id: 10_002 }, code: 'sandbox_error' });
    expect(plan.rowErrors[0]!.message).toMatch(/\(row \{"id":10002\}\)/);
    // Manual policy: discrepancies are conflicts, and lists stop at maxListed while counts go on.
    expect(plan.summary.conflicts).toBe(plan.summary.discrepancies);
    expect(plan.summary.conflicts).toBeGreaterThan(0);
    expect(plan.unmatched.length).toBeLessThanOrEqual(5);
    expect(plan.summary.unmatched[0]).toBe(baseline.summary.unmatched[0]);
    expect(plan.truncated).toBe(true);
  });
});
