import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BraidError } from '../model/errors.js';
import { createSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { CRM_TABLE, INVOICING_TABLE, ISSUE_EXAMPLE } from '../../test/sync/use-case-tables.js';
import {
  canonicalFields,
  parseSyncRule,
  priorityOrder,
  receivesDeletesFrom,
  receivesInsertsFrom,
} from './sync-rule.js';
import { validateSyncRule } from './sync-rule-validation.js';

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox();
});
afterAll(async () => {
  await sandbox.close();
});

const example = () => JSON.parse(ISSUE_EXAMPLE) as Record<string, any>;
const TABLES = [CRM_TABLE, INVOICING_TABLE];

/** The error of a parse + validation, or a failed assertion when there is none. */
async function refusal(body: unknown, tables = TABLES): Promise<BraidError> {
  try {
    await validateSyncRule(parseSyncRule(body), tables, sandbox);
  } catch (err) {
    expect(err).toBeInstanceOf(BraidError);
    return err as BraidError;
  }
  throw new Error('the rule was accepted');
}

function problems(err: BraidError): string[] {
  return (err.details!['problems'] as { path: string; message: string }[]).map(
    (p) => `${p.path}: ${p.message}`,
  );
}

describe('sync rules', () => {
  it("accepts the issue's example exactly as written", async () => {
    const rule = parseSyncRule(example());
    await validateSyncRule(rule, TABLES, sandbox);
    expect(rule).toEqual({
      name: 'customer contacts',
      members: [
        {
          source: '<crm source id>',
          table: 'crm_business_information',
          match: { column: 'business_name', normalize: ['trim', 'lower', 'collapse_spaces'] },
          fields: {
            email: { column: 'email' },
            phone: { column: 'phone', read: "value.replace(/\\D/g, '')", write: 'value' },
          },
        },
        {
          source: '<invoicing source id>',
          table: 'invoice_customers',
          match: { column: 'business_name', normalize: ['trim', 'lower', 'collapse_spaces'] },
          fields: {
            email: { column: 'email' },
            phone: { column: 'phone', read: 'String(value)', write: 'Number(value)' },
          },
        },
      ],
      conflict: { policy: 'priority', order: ['<crm source id>', '<invoicing source id>'] },
      capture: 'auto',
      reconcile: 'apply',
      inserts: 'ignore',
      deletes: 'ignore',
    });
    expect(canonicalFields(rule)).toEqual(['email', 'phone']);
    expect(priorityOrder(rule)).toEqual([0, 1]);
  });

  it('takes the optional settings and orders by source or member index', () => {
    const body: Record<string, any> = { ...example(), inserts: 'create', deletes: 'propagate' };
    body.conflict = { policy: 'newest', order: ['<invoicing source id>'] };
    const rule = parseSyncRule(body);
    expect(rule.inserts).toBe('create');
    expect(rule.deletes).toBe('propagate');
    expect(priorityOrder(rule)).toEqual([1, 0]);
    expect(priorityOrder({ ...rule, conflict: { policy: 'priority', order: [1] } })).toEqual([1, 0]);
  });

  it("takes a member's own capture, which wins over the rule's, and refuses unknown ones by path", async () => {
    const body = example();
    body.members[1].capture = 'triggers';
    const rule = parseSyncRule(body);
    expect([rule.capture, rule.members[0]!.capture, rule.members[1]!.capture]).toEqual([
      'auto',
      undefined,
      'triggers',
    ]);
    expect('capture' in rule.members[0]!).toBe(false);
    body.members[0].capture = 'wal';
    expect(problems(await refusal(body))).toEqual([
      'members[0].capture: must be one of "auto", "logical", "binlog", "triggers", "polling"',
    ]);
  });

  it("takes a member's receivesInserts (boolean or member indexes), and refuses other values by path", async () => {
    const body: Record<string, any> = { ...example(), inserts: 'create' };
    body.members[0].receivesInserts = [1, 1];
    body.members[1].receivesInserts = false;
    const rule = parseSyncRule(body);
    expect(rule.members.map((m) => m.receivesInserts)).toEqual([[1], false]);
    expect(receivesInsertsFrom(rule.members[0]!, 1)).toBe(true);
    expect(receivesInsertsFrom(rule.members[1]!, 0)).toBe(false);
    expect(receivesInsertsFrom({}, 0)).toBe(true);
    expect('receivesInserts' in parseSyncRule(example()).members[0]!).toBe(false);
    body.members[0].receivesInserts = [2];
    body.members[1].receivesInserts = 'yes';
    expect(problems(await refusal(body))).toEqual([
      'members[0].receivesInserts: must be true, false or a list of member indexes',
      'members[1].receivesInserts: must be true, false or a list of member indexes',
    ]);
  });

  it('takes a member\'s receivesDeletes (boolean, member indexes or "last")', async () => {
    const body: Record<string, any> = { ...example(), deletes: 'propagate' };
    body.members[0].receivesDeletes = 'last';
    body.members[1].receivesDeletes = [0];
    const rule = parseSyncRule(body);
    expect(rule.members.map((m) => m.receivesDeletes)).toEqual(['last', [0]]);
    // A "last" member is never deleted with one row: only with the entity's last (applyDelete).
    expect(receivesDeletesFrom(rule.members[0]!, 1)).toBe(false);
    expect(receivesDeletesFrom(rule.members[1]!, 0)).toBe(true);
    expect(receivesDeletesFrom({}, 1)).toBe(true);
    body.members[1].receivesDeletes = 'first';
    expect(problems(await refusal(body))).toEqual([
      'members[1].receivesDeletes: must be true, false, "last" or a list of member indexes',
    ]);
  });

  it('refuses a column the table does not have, naming member, field and column', async () => {
    const body = example();
    body.members[1].fields.phone.column = 'phon';
    const err = await refusal(body);
    expect(err.code).toBe('invalid_sync_rule');
    expect(err.status).toBe(400);
    expect(err.message).toBe(
      'members[1].fields.phone.column: table "invoice_customers" has no column "phon"',
    );
  });

  it('refuses a missing match column and a missing table', async () => {
    const body = example();
    body.members[0].match.column = 'name';
    expect((await refusal(body)).message).toBe(
      'members[0].match.column: table "crm_business_information" has no column "name"',
    );
    expect((await refusal(example(), [CRM_TABLE, null as never])).message).toBe(
      'members[1].table: source "<invoicing source id>" has no table "invoice_customers"',
    );
  });

  it('refuses fewer than two members, and the same table twice', async () => {
    const one = example();
    one.members = [one.members[0]];
    expect(problems(await refusal(one))).toContain('members: a sync needs at least two members');
    const twice = example();
    twice.members[1] = twice.members[0];
    expect(problems(await refusal(twice, [CRM_TABLE, CRM_TABLE]))).toContain(
      'members[1]: table "crm_business_information" of source "<crm source id>" is already members[0]',
    );
  });

  it('refuses a field mapped by one member only', async () => {
    const body = example();
    body.members[0].fields.contact = 'contact_name';
    expect((await refusal(body)).message).toBe(
      'members[0].fields.contact: field "contact" is mapped by members[0] only; a synced field needs at least two members',
    );
  });

  it('refuses transforms that do not compile, with the line and column', async () => {
    const body = example();
    body.members[1].fields.phone.write = 'Number(value';
    const err = await refusal(body);
    expect(err.message).toMatch(
      /^members\[1\]\.fields\.phone\.write: The expression `Number\(value` has a syntax error/,
    );
  });

  it('refuses columns that cannot be written: computed, key, mapped twice', async () => {
    const body = example();
    body.members[0].fields.email = 'name_upper';
    body.members[1].fields.email = 'id';
    body.members[0].fields.phone.column = 'name_upper';
    expect(problems(await refusal(body))).toEqual([
      'members[0].fields.email.column: column "name_upper" is computed by the database and cannot be written',
      'members[0].fields.phone.column: column "name_upper" is computed by the database and cannot be written',
      'members[0].fields.phone.column: column "name_upper" is already mapped to field "email"',
      'members[1].fields.email.column: column "id" is part of the primary key, which a sync never writes',
    ]);
  });

  it('refuses a table without a primary key', async () => {
    const err = await refusal(example(), [CRM_TABLE, { ...INVOICING_TABLE, primaryKey: [] }]);
    expect(err.message).toBe(
      'members[1].table: table "invoice_customers" has no primary key, so its rows cannot be linked',
    );
  });

  it('refuses shape mistakes, each with its path', async () => {
    const body = example();
    body.members[0].match.normalize = ['trim', 'lowercase'];
    body.conflict = { policy: 'loudest', order: ['nowhere'] };
    body.capture = 'cdc';
    body.reconcile = 'yes';
    body.inserts = 'always';
    body.delete = 'propagate';
    body.members[1].fields.email = 42;
    const list = problems(await refusal(body));
    expect(list).toEqual([
      'body: unknown property "delete" (known: name, members, conflict, capture, reconcile, inserts, deletes, createMissing)',
      'members[0].match.normalize[1]: unknown normalizer "lowercase"; allowed: trim, lower, upper, collapse_spaces, strip_punctuation, digits, email, unaccent',
      'members[1].fields.email: must be a column name or {"column", "read"?, "write"?}',
      'conflict.policy: must be one of "priority", "newest", "manual"',
      'capture: must be one of "auto", "logical", "binlog", "triggers", "polling"',
      'reconcile: must be one of "apply", "dry-run", "none"',
      'inserts: must be one of "create", "ignore"',
    ]);
  });

  it('refuses field names that are not plain identifiers', async () => {
    const body = example();
    body.members[0].fields = JSON.parse('{"__proto__": "email", "e mail": "email", "phone": "phone"}');
    expect(problems(await refusal(body)).slice(0, 2)).toEqual([
      'members[0].fields: "__proto__" is not a valid field name (letters, digits, _)',
      'members[0].fields: "e mail" is not a valid field name (letters, digits, _)',
    ]);
  });

  it('refuses a conflict order naming no member', async () => {
    const body = example();
    body.conflict.order = ['<crm source id>', 'billing', '<crm source id>'];
    expect(problems(await refusal(body))).toEqual([
      'conflict.order[1]: no member uses source "billing"',
      'conflict.order[2]: "<crm source id>" is listed twice',
    ]);
  });
});
