import { describe, expect, it } from 'vitest';
import type { Connector } from '../connectors/connector.js';
import { BraidError } from '../model/errors.js';
import type { ResolvedMember } from './combined-table.js';
import { runMemberSteps, type MemberStep, type MemberWriteOutcome } from './compensation.js';

/** A source whose transactions log what ran and roll back (drop) the log of a failed one. */
function source(log: string[]): Connector {
  return {
    async transaction<T>(fn: (tx: Connector) => Promise<T>): Promise<T> {
      const mark = log.length;
      try {
        return await fn(this as Connector);
      } catch (err) {
        log.splice(mark);
        throw err;
      }
    },
  } as Connector;
}

function step(index: number, sourceId: string, log: string[], fail: { apply?: Error; undo?: Error } = {}) {
  const connector = source(log);
  const member = { index, name: `m${index}`, sourceId, tableName: `t${index}`, connector } as ResolvedMember;
  const result: MemberStep = {
    member,
    action: 'updated',
    where: () => `t${index} {"id":1}`,
    async apply() {
      log.push(`apply m${index}`);
      if (fail.apply) throw fail.apply;
    },
    async undo() {
      if (fail.undo) throw fail.undo;
      log.push(`undo m${index}`);
    },
  };
  return result;
}

const outcomes = (n: number): MemberWriteOutcome[] =>
  Array.from({ length: n }, (_, i) => ({ member: `m${i}`, action: 'unchanged' as const }));

const refused = new BraidError(400, 'check_violation', 'violates check constraint');

describe('runMemberSteps', () => {
  it('applies every step and reports it', async () => {
    const log: string[] = [];
    const out = outcomes(2);
    await runMemberSteps('update', 'row "k"', [step(0, 'a', log), step(1, 'b', log)], out);
    expect(log).toEqual(['apply m0', 'apply m1']);
    expect(out.map((o) => o.action)).toEqual(['updated', 'updated']);
  });

  it('puts earlier sources back and answers 409 when a later source refuses', async () => {
    const log: string[] = [];
    const out = outcomes(3);
    const steps = [step(0, 'a', log), step(1, 'b', log, { apply: refused }), step(2, 'c', log)];
    const err = await runMemberSteps('update', 'row "k"', steps, out).catch((e: unknown) => e as BraidError);
    expect(log).toEqual(['apply m0', 'undo m0']);
    expect(err).toMatchObject({ status: 409, code: 'combined_write_failed' });
    expect(err?.message).toMatch(
      /member "m1" \(t1\) failed: violates check constraint\. .* "m0" were put back/,
    );
    expect(out).toEqual([
      { member: 'm0', action: 'compensated' },
      {
        member: 'm1',
        action: 'failed',
        error: { code: 'check_violation', message: 'violates check constraint' },
      },
      { member: 'm2', action: 'not_attempted' },
    ]);
  });

  it('runs members of one source in one transaction, rolled back together', async () => {
    const log: string[] = [];
    const out = outcomes(3);
    const steps = [step(0, 'a', log), step(1, 'b', log), step(2, 'a', log, { apply: refused })];
    await expect(runMemberSteps('update', 'row "k"', steps, out)).rejects.toThrow(/combined|failed/);
    // m0 and m2 share source a: the failed transaction took m0 back with it, m1 was never reached.
    expect(log).toEqual([]);
    expect(out.map((o) => o.action)).toEqual(['compensated', 'not_attempted', 'failed']);
  });

  it('keeps the status of an unreachable source and says loudly when putting back fails', async () => {
    const log: string[] = [];
    const out = outcomes(3);
    const down = new BraidError(502, 'source_unavailable', 'connection refused');
    const steps = [
      step(0, 'a', log, { undo: new Error('lock wait timeout') }),
      step(1, 'b', log),
      step(2, 'c', log, { apply: down }),
    ];
    const err = await runMemberSteps('delete', 'row "k"', steps, out).catch((e: unknown) => e as BraidError);
    expect(err?.status).toBe(502);
    expect(err?.message).toMatch(
      /could NOT be put back in member "m0" \(t0 \{"id":1\}\): the data is now INCONSISTENT/,
    );
    expect(err?.message).toMatch(/put back in "m1"/);
    expect(out.map((o) => o.action)).toEqual(['compensation_failed', 'compensated', 'failed']);
    expect(out[0]?.error?.message).toMatch(/putting back t0 \{"id":1\} failed: lock wait timeout/);
  });
});
