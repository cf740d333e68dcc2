/**
 * JSON schemas of the sync routes. The rule schema documents `POST /api/syncs` in the OpenAPI
 * document only: the route validates nothing but JSON syntax, so parseSyncRule and the table checks
 * answer every problem with its path (`members[1].fields.phone.read: ...`) instead of Ajv's first.
 */

const captureChoice = { type: 'string', enum: ['auto', 'logical', 'binlog', 'triggers', 'polling'] } as const;

const fieldMapping = {
  anyOf: [
    { type: 'string', description: 'The column holding this canonical field, as is' },
    {
      type: 'object',
      properties: {
        column: { type: 'string' },
        read: {
          type: 'string',
          description:
            "JavaScript expression over `value` and `row` answering the canonical value: value.replace(/\\D/g, '')",
        },
        write: {
          type: 'string',
          description:
            'JavaScript expression over `value` (canonical) and `row` answering the column value: Number(value)',
        },
      },
      required: ['column'],
      additionalProperties: false,
    },
  ],
} as const;

const syncMember = {
  type: 'object',
  properties: {
    source: { type: 'string', description: 'Source id (a source name is accepted and stored as its id)' },
    table: { type: 'string', description: '`name`, or `schema.name` outside the default schema' },
    match: {
      type: 'object',
      description: 'How rows of the members are recognised as the same entity',
      properties: {
        column: { type: 'string' },
        normalize: {
          type: 'array',
          items: { type: 'string' },
          description: 'Steps such as "trim", "lower", "collapse_spaces"',
        },
      },
      required: ['column'],
    },
    fields: {
      type: 'object',
      description: 'Canonical field name -> column name or {column, read, write}',
      additionalProperties: fieldMapping,
    },
    capture: { ...captureChoice, description: "This member's capture, overriding the rule's" },
    receivesInserts: {
      anyOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'integer', minimum: 0 } }],
      description:
        'With inserts "create": rows inserted in which members are created here (true: all; false: none; or member indexes)',
    },
    receivesDeletes: {
      anyOf: [
        { type: 'boolean' },
        { type: 'string', enum: ['last'] },
        { type: 'array', items: { type: 'integer', minimum: 0 } },
      ],
      description:
        'With deletes "propagate": deletes of which members delete the linked row here (true, false, member indexes, or "last": with the entity\'s last row elsewhere)',
    },
  },
  required: ['source', 'table', 'match', 'fields'],
  additionalProperties: false,
} as const;

/** The body of `POST /api/syncs` (for the OpenAPI document; see the note at the top). */
export const syncRuleSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    members: { type: 'array', minItems: 2, items: syncMember },
    conflict: {
      type: 'object',
      properties: {
        policy: { type: 'string', enum: ['priority', 'newest', 'manual'] },
        order: {
          type: 'array',
          items: { anyOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }] },
          description: 'Source ids (or member indexes), first wins',
        },
      },
      required: ['policy'],
      additionalProperties: false,
    },
    capture: { ...captureChoice, default: 'auto' },
    reconcile: {
      type: 'string',
      enum: ['apply', 'dry-run', 'none'],
      default: 'dry-run',
      description: 'The initial reconciliation run when the sync starts',
    },
    inserts: { type: 'string', enum: ['create', 'ignore'], default: 'ignore' },
    deletes: { type: 'string', enum: ['ignore', 'propagate'], default: 'ignore' },
    createMissing: {
      type: 'boolean',
      default: false,
      description: 'With reconcile "apply": the initial reconciliation creates unmatched rows where missing',
    },
    paused: { type: 'boolean', default: false, description: 'Create it paused (nothing runs until resumed)' },
  },
  required: ['name', 'members'],
  additionalProperties: false,
} as const;

export const syncViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    state: { type: 'string', enum: ['reconciling', 'active', 'paused', 'deleting'] },
    rule: { type: 'object', additionalProperties: true, description: 'The stored rule (source ids)' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

const nullableString = { type: ['string', 'null'] } as const;
const nullableNumber = { type: ['number', 'null'] } as const;

const memberStatusSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    member: { type: 'integer' },
    source: { type: 'string' },
    table: { type: 'string' },
    strategy: { type: 'string', enum: ['logical', 'binlog', 'triggers', 'polling'] },
    reason: { type: 'string', description: 'Why this strategy' },
    running: { type: 'boolean' },
    lastPosition: nullableString,
    lastEventAt: nullableString,
    lagMs: nullableNumber,
    eventsApplied: { type: 'integer' },
    eventsPerSecond: nullableNumber,
    echoesSkipped: { type: 'integer' },
    writes: { type: 'integer' },
    noopEvents: { type: 'integer' },
    errors: { type: 'integer' },
    lastError: nullableString,
  },
} as const;

export const syncStatusSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    state: syncViewSchema.properties.state,
    runner: {
      type: ['object', 'null'],
      properties: {
        owner: { type: 'string' },
        heartbeatAt: { type: 'string' },
        thisProcess: { type: 'boolean' },
      },
    },
    running: { type: 'boolean' },
    members: { type: 'array', items: memberStatusSchema },
    deadLetters: { type: 'integer' },
    openConflicts: { type: 'integer' },
    startError: nullableString,
    reconcile: {
      type: ['object', 'null'],
      additionalProperties: true,
      description: 'The initial reconciliation: {state, report?, error?}',
    },
    note: { ...nullableString, description: 'What to do when nothing runs the sync' },
  },
} as const;

export const reconcileBodySchema = {
  type: 'object',
  properties: {
    mode: { type: 'string', enum: ['dry-run', 'apply'], default: 'dry-run' },
    createMissing: { type: 'boolean', description: 'With apply: create unmatched rows in the other members' },
    wait: { type: 'boolean', description: 'Answer 200 with the finished job instead of 202 at once' },
  },
  additionalProperties: false,
} as const;

export const reconcileJobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    syncId: { type: 'string' },
    mode: { type: 'string' },
    createMissing: { type: 'boolean' },
    state: { type: 'string', enum: ['running', 'done', 'failed'] },
    startedAt: { type: 'string' },
    finishedAt: nullableString,
    progress: {
      type: 'object',
      properties: {
        phase: { type: 'string' },
        done: { type: 'integer' },
        total: { type: ['integer', 'null'] },
      },
    },
    report: { type: ['object', 'null'], additionalProperties: true, description: '{mode, summary, applied}' },
    sample: {
      type: ['object', 'null'],
      additionalProperties: true,
      description: 'Up to 100 discrepancies, unmatched rows, duplicates and row errors',
    },
    error: nullableString,
  },
} as const;

export const conflictSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    syncId: { type: 'string' },
    entityId: { type: 'string' },
    field: { type: 'string' },
    sides: {
      type: 'array',
      items: {
        type: 'object',
        properties: { member: { type: 'integer' }, value: {}, commitTime: nullableString },
      },
    },
    status: { type: 'string', enum: ['open', 'resolved'] },
    createdAt: { type: 'string' },
    resolvedAt: nullableString,
    resolution: { description: '{value, winner, losers, by} once resolved' },
  },
} as const;

export const resolveBodySchema = {
  type: 'object',
  description: 'Either the member whose value wins, or the value to write to every member',
  properties: {
    member: { type: 'integer', minimum: 0 },
    value: { description: 'Any JSON value (canonical, before write transforms)' },
  },
  additionalProperties: false,
} as const;

export const deadLetterSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    syncId: { type: 'string' },
    member: { type: 'integer', description: 'The member whose change could not be applied' },
    event: { type: 'object', additionalProperties: true, description: 'The change event' },
    reason: { type: 'string' },
    attempts: { type: 'integer' },
    createdAt: { type: 'string' },
  },
} as const;

/** Path parameters, all strings (ids). */
export function idParams(...names: string[]) {
  return {
    type: 'object',
    properties: Object.fromEntries(names.map((n) => [n, { type: 'string' }])),
    required: names,
  } as const;
}
