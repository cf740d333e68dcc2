import type { Connector } from '../connectors/connector.js';
import { BraidError, isBraidError } from '../model/errors.js';
import type { ResolvedMember } from './combined-table.js';

export interface MemberWriteOutcome {
  member: string;
  action:
    | 'updated'
    | 'inserted'
    | 'deleted'
    | 'unchanged'
    | 'absent'
    | 'failed'
    | 'compensated'
    | 'compensation_failed'
    | 'not_attempted';
  error?: { code: string; message: string };
}

/** One member's share of a combined write, and how to take it back. */
export interface MemberStep {
  member: ResolvedMember;
  action: 'updated' | 'inserted' | 'deleted';
  /** Which row, for messages: the member's table and the row's primary key. */
  where(): string;
  /** Writes, on the source's transaction. */
  apply(tx: Connector): Promise<void>;
  /** Puts the member back after `apply` was committed, in a transaction of its own. */
  undo(tx: Connector): Promise<void>;
}

type Verb = 'update' | 'insert' | 'delete';

function errorOf(err: unknown): { code: string; message: string } {
  if (isBraidError(err)) return { code: err.code, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

/** Steps grouped by source, in order of first appearance: one transaction per source. */
function bySource(steps: MemberStep[]): MemberStep[][] {
  const groups = new Map<string, MemberStep[]>();
  for (const step of steps) {
    const group = groups.get(step.member.sourceId);
    if (group) group.push(step);
    else groups.set(step.member.sourceId, [step]);
  }
  return [...groups.values()];
}

/**
 * Runs the steps source by source, one transaction each. When a source fails, its transaction has
 * rolled back its own steps, and the steps committed on earlier sources are undone one by one (an
 * undo that fails does not stop the others). `outcomes` (by member index) then tells each member's
 * fate, and the error thrown is `combined_write_failed` carrying them: 409 when the source refused
 * the write, the source's own 5xx status when it could not be reached.
 */
export async function runMemberSteps(
  verb: Verb,
  subject: string,
  steps: MemberStep[],
  outcomes: MemberWriteOutcome[],
): Promise<void> {
  const groups = bySource(steps);
  const committed: MemberStep[] = [];
  for (const [g, group] of groups.entries()) {
    let current = group[0]!;
    try {
      await current.member.connector.transaction(async (tx) => {
        for (const step of group) {
          current = step;
          await step.apply(tx);
        }
      });
    } catch (err) {
      const at = group.indexOf(current);
      group.forEach((step, i) => {
        if (i !== at) set(outcomes, step, i < at ? 'compensated' : 'not_attempted');
      });
      for (const later of groups.slice(g + 1).flat()) set(outcomes, later, 'not_attempted');
      set(outcomes, current, 'failed', errorOf(err));
      const undone = await undoAll(committed.reverse(), outcomes);
      throw failure(verb, subject, current, err, undone, outcomes);
    }
    for (const step of group) set(outcomes, step, step.action);
    committed.push(...group);
  }
}

function set(
  outcomes: MemberWriteOutcome[],
  step: MemberStep,
  action: MemberWriteOutcome['action'],
  error?: MemberWriteOutcome['error'],
) {
  outcomes[step.member.index] = { member: step.member.name, action, ...(error ? { error } : {}) };
}

/** Undoes committed steps (latest first); answers the ones whose undo failed. */
async function undoAll(steps: MemberStep[], outcomes: MemberWriteOutcome[]): Promise<MemberStep[]> {
  const failed: MemberStep[] = [];
  for (const step of steps) {
    try {
      await step.member.connector.transaction((tx) => step.undo(tx));
      set(outcomes, step, 'compensated');
    } catch (err) {
      const { code, message } = errorOf(err);
      set(outcomes, step, 'compensation_failed', {
        code,
        message: `putting back ${step.where()} failed: ${message}`,
      });
      failed.push(step);
    }
  }
  return failed;
}

const UNREACHABLE = new Set([502, 503, 504]);
const DONE: Record<Verb, string> = { update: 'changes', insert: 'new rows', delete: 'deletions' };

function failure(
  verb: Verb,
  subject: string,
  failed: MemberStep,
  err: unknown,
  undoFailed: MemberStep[],
  outcomes: MemberWriteOutcome[],
): BraidError {
  const { message: said } = errorOf(err);
  const message = /[.!?]$/.test(said) ? said : `${said}.`;
  const head = `Could not ${verb} ${subject}: member "${failed.member.name}" (${failed.member.tableName}) failed: ${message}`;
  const putBack = outcomes.filter((o) => o.action === 'compensated').map((o) => `"${o.member}"`);
  let tail: string;
  if (undoFailed.length > 0) {
    const where = undoFailed.map((s) => `member "${s.member.name}" (${s.where()})`).join(', ');
    tail =
      ` The ${DONE[verb]} already made could NOT be put back in ${where}: the data is now INCONSISTENT` +
      ` between the members and must be repaired there by hand` +
      (putBack.length > 0 ? ` (put back in ${putBack.join(', ')}).` : '.');
  } else if (putBack.length > 0) {
    tail = ` The ${DONE[verb]} already made in ${putBack.join(', ')} were put back: no member was changed.`;
  } else {
    tail = ' No member was changed.';
  }
  // A source that answered refused the write (constraint, trigger, vanished row): a conflict with
  // the sources' state. An unreachable or timed-out source keeps its own status (502, 503, 504).
  const status = isBraidError(err) ? (UNREACHABLE.has(err.status) ? err.status : 409) : 500;
  return new BraidError(status, 'combined_write_failed', head + tail, { members: outcomes }, { cause: err });
}
