import { describe, expect, it } from 'vitest';
import { decideEntity, type MemberSide } from './conflict-policy.js';

const T1 = '2026-03-01T10:00:00Z';
const T2 = '2026-03-01T10:00:00.250Z';

const sides = (a: unknown, b: unknown, c?: unknown): MemberSide[] => {
  const out: MemberSide[] = [
    { member: 0, values: { phone: a as string }, commitTime: T1 },
    { member: 1, values: { phone: b as string }, commitTime: T2 },
  ];
  if (c !== undefined) out.push({ member: 2, values: { phone: c as string }, commitTime: null });
  return out;
};

describe('conflict policies', () => {
  it('agrees when every member holds the same value', () => {
    expect(
      decideEntity({ policy: 'priority', priority: [0, 1], fields: ['phone'], sides: sides('1', '1') }),
    ).toEqual([{ field: 'phone', outcome: 'agree', value: '1' }]);
  });

  it('priority: the first member of the order wins; losers keep what they lose', () => {
    const [d] = decideEntity({
      policy: 'priority',
      priority: [1, 0, 2],
      fields: ['phone'],
      sides: sides('a', 'b', 'a'),
    });
    expect(d).toEqual({
      field: 'phone',
      outcome: 'decided',
      reason: 'priority',
      value: 'b',
      winner: 1,
      losers: [
        { member: 0, value: 'a', commitTime: T1 },
        { member: 2, value: 'a', commitTime: null },
      ],
    });
  });

  it('newest: the latest commit wins (parsed, not compared as text); ties and unknown times by priority', () => {
    const [d] = decideEntity({
      policy: 'newest',
      priority: [0, 1],
      fields: ['phone'],
      sides: sides('a', 'b'),
    });
    expect(d).toMatchObject({ outcome: 'decided', reason: 'newest', winner: 1, value: 'b' });
    const tied = sides('a', 'b').map((s) => ({ ...s, commitTime: T1 }));
    expect(
      decideEntity({ policy: 'newest', priority: [1, 0], fields: ['phone'], sides: tied })[0],
    ).toMatchObject({
      winner: 1,
    });
    expect(
      decideEntity({ policy: 'newest', priority: [0, 1], fields: ['phone'], sides: tied })[0],
    ).toMatchObject({
      winner: 0,
    });
    const unknown = [
      { member: 0, values: { phone: 'a' }, commitTime: null },
      { member: 1, values: { phone: 'b' }, commitTime: 'not a time' },
      { member: 2, values: { phone: 'c' }, commitTime: T1 },
    ];
    expect(
      decideEntity({ policy: 'newest', priority: [0, 1, 2], fields: ['phone'], sides: unknown })[0],
    ).toMatchObject({
      winner: 2,
    });
  });

  it('manual: a conflict with every side, no decision', () => {
    expect(
      decideEntity({ policy: 'manual', priority: [0, 1], fields: ['phone'], sides: sides('a', 'b') }),
    ).toEqual([
      {
        field: 'phone',
        outcome: 'conflict',
        sides: [
          { member: 0, value: 'a', commitTime: T1 },
          { member: 1, value: 'b', commitTime: T2 },
        ],
      },
    ]);
  });

  it('a change over unchanged members propagates, whatever the policy', () => {
    for (const policy of ['priority', 'newest', 'manual'] as const) {
      // Member 1 (last in priority, oldest) changed phone from 'old' to 'new'; member 0 still has 'old'.
      const [d] = decideEntity({
        policy,
        priority: [0, 1],
        fields: ['phone'],
        sides: [
          { member: 0, values: { phone: 'old' }, commitTime: T2 },
          { member: 1, values: { phone: 'new' }, commitTime: T1 },
        ],
        trigger: { member: 1, commitTime: T1, before: { phone: 'old' } },
      });
      expect(d).toMatchObject({ outcome: 'decided', reason: 'change', winner: 1, value: 'new' });
    }
  });

  it('a change conflicts when another member changed too; the baseline stands in for a missing before', () => {
    const input = {
      priority: [0, 1],
      fields: ['phone'],
      sides: [
        { member: 0, values: { phone: 'mine' } },
        { member: 1, values: { phone: 'theirs' } },
      ],
    };
    const withBefore = { ...input, trigger: { member: 1, before: { phone: 'old' } } };
    expect(decideEntity({ policy: 'priority', ...withBefore })[0]).toMatchObject({
      reason: 'priority',
      winner: 0,
    });
    expect(decideEntity({ policy: 'manual', ...withBefore })[0]).toMatchObject({ outcome: 'conflict' });
    // No before: the baseline says member 0 still holds the converged value, so member 1's change wins.
    const withBaseline = { ...input, trigger: { member: 1 }, baseline: { phone: 'mine' } };
    expect(decideEntity({ policy: 'priority', ...withBaseline })[0]).toMatchObject({
      reason: 'change',
      winner: 1,
    });
    // Neither: nothing proves the others unchanged, so the policy decides.
    expect(decideEntity({ policy: 'priority', ...input, trigger: { member: 1 } })[0]).toMatchObject({
      reason: 'priority',
      winner: 0,
    });
  });

  it('decides each field on its own and skips fields no member knows', () => {
    const out = decideEntity({
      policy: 'priority',
      priority: [0, 1],
      fields: ['email', 'phone', 'fax'],
      sides: [
        { member: 0, values: { email: 'a@x', phone: '1' } },
        { member: 1, values: { email: 'a@x', phone: '2' } },
      ],
    });
    expect(out.map((d) => [d.field, d.outcome])).toEqual([
      ['email', 'agree'],
      ['phone', 'decided'],
    ]);
  });
});
