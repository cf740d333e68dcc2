import { isBraidError } from '../model/errors.js';
import { findColumn, type TableSchema } from '../model/schema.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { RuleProblems, type SyncRule } from './sync-rule.js';

/** The names a `read` or `write` expression may use. */
export const TRANSFORM_INPUTS = ['value', 'row'] as const;

/**
 * Checks a parsed rule against the members' introspected tables (`tables[i]` is member i's table,
 * null when the source has no such table) and compiles every transform in the sandbox. Throws
 * `invalid_sync_rule` (400) listing every problem, each named by its path, e.g.
 * `members[1].fields.phone.column: table "invoice_customers" has no column "phon"`.
 *
 * Checked: two members never name the same table of the same source; every table has a primary key
 * (links keep member keys); the match column and every mapped column exist; a mapped column is not
 * computed by the database, not part of the primary key and mapped to one field only; every
 * canonical field is mapped by at least two members; `conflict.order` names members of the rule;
 * every `read`/`write` compiles.
 *
 * @example
 * ```ts
 * const rule = parseSyncRule(body);
 * await validateSyncRule(rule, [crmTable, invoicingTable], sandbox);
 * ```
 */
export async function validateSyncRule(
  rule: SyncRule,
  tables: readonly (TableSchema | null | undefined)[],
  sandbox: Sandbox,
): Promise<void> {
  const problems = new RuleProblems();
  checkMembers(rule, tables, problems);
  checkFieldCoverage(rule, problems);
  checkOrder(rule, problems);
  await checkTransforms(rule, sandbox, problems);
  problems.throwIfAny();
}

function checkMembers(
  rule: SyncRule,
  tables: readonly (TableSchema | null | undefined)[],
  problems: RuleProblems,
) {
  rule.members.forEach((member, i) => {
    const path = `members[${i}]`;
    const twin = rule.members.findIndex((m) => m.source === member.source && m.table === member.table);
    if (twin < i) {
      problems.add(path, `table "${member.table}" of source "${member.source}" is already members[${twin}]`);
    }
    const table = tables[i];
    if (!table) {
      problems.add(`${path}.table`, `source "${member.source}" has no table "${member.table}"`);
      return;
    }
    if (table.primaryKey.length === 0) {
      problems.add(`${path}.table`, `table "${table.name}" has no primary key, so its rows cannot be linked`);
    }
    if (!findColumn(table, member.match.column)) {
      problems.add(`${path}.match.column`, `table "${table.name}" has no column "${member.match.column}"`);
    }
    const mappedBy = new Map<string, string>();
    for (const [field, mapping] of Object.entries(member.fields)) {
      const where = `${path}.fields.${field}.column`;
      const column = findColumn(table, mapping.column);
      if (!column) {
        problems.add(where, `table "${table.name}" has no column "${mapping.column}"`);
        continue;
      }
      if (column.generated) {
        problems.add(where, `column "${column.name}" is computed by the database and cannot be written`);
      }
      if (table.primaryKey.includes(column.name)) {
        // Rewriting a key would break the links, which hold member keys.
        problems.add(where, `column "${column.name}" is part of the primary key, which a sync never writes`);
      }
      const other = mappedBy.get(column.name);
      if (other !== undefined) {
        problems.add(where, `column "${column.name}" is already mapped to field "${other}"`);
      }
      mappedBy.set(column.name, field);
    }
  });
}

function checkFieldCoverage(rule: SyncRule, problems: RuleProblems) {
  const members = new Map<string, number[]>();
  rule.members.forEach((member, i) => {
    for (const field of Object.keys(member.fields)) members.set(field, [...(members.get(field) ?? []), i]);
  });
  for (const [field, indexes] of members) {
    if (indexes.length >= 2) continue;
    problems.add(
      `members[${indexes[0]}].fields.${field}`,
      `field "${field}" is mapped by members[${indexes[0]}] only; a synced field needs at least two members`,
    );
  }
}

function checkOrder(rule: SyncRule, problems: RuleProblems) {
  const seen = new Set<string>();
  (rule.conflict.order ?? []).forEach((entry, i) => {
    const path = `conflict.order[${i}]`;
    if (typeof entry === 'string' && !rule.members.some((m) => m.source === entry)) {
      problems.add(path, `no member uses source "${entry}"`);
    }
    if (typeof entry === 'number' && entry >= rule.members.length) {
      problems.add(path, `there is no members[${entry}]`);
    }
    const key = JSON.stringify(entry);
    if (seen.has(key)) problems.add(path, `${key} is listed twice`);
    seen.add(key);
  });
}

async function checkTransforms(rule: SyncRule, sandbox: Sandbox, problems: RuleProblems) {
  for (const [i, member] of rule.members.entries()) {
    for (const [field, mapping] of Object.entries(member.fields)) {
      for (const side of ['read', 'write'] as const) {
        const code = mapping[side];
        if (code === undefined) continue;
        try {
          await sandbox.check('expression', code, TRANSFORM_INPUTS);
        } catch (err) {
          if (!isBraidError(err) || err.code !== 'sandbox_syntax') throw err;
          problems.add(`members[${i}].fields.${field}.${side}`, err.message);
        }
      }
    }
  }
}
