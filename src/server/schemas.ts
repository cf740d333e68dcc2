/** JSON schemas shared by the routes; they validate requests and feed the OpenAPI document. */

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  413: errorSchema,
  502: errorSchema,
} as const;

export const rowSchema = {
  type: 'object',
  additionalProperties: true,
  description: 'Column values as wire values',
} as const;

export const pageSchema = {
  type: 'object',
  properties: {
    rows: { type: 'array', items: rowSchema },
    next: { type: ['string', 'null'], description: 'Cursor of the next page; null on the last page' },
    total: { type: 'integer', description: 'Only with count=true' },
    included: {
      type: 'object',
      description:
        'Only with include=: per relation, {kind: one|many, source, table, on: {column, relatedColumn}, rows, truncated}',
      additionalProperties: true,
    },
  },
  required: ['rows', 'next'],
} as const;

export const listQuerySchema = {
  type: 'object',
  properties: {
    filter: {
      type: 'string',
      description: 'Filter AST as JSON, e.g. {"field":"email","op":"endsWith","value":"@acme.com"}',
    },
    sort: { type: 'string', description: 'a,-b (descending with -), or a JSON array of {field,dir}' },
    limit: { type: 'integer', minimum: 1, maximum: 10000 },
    cursor: { type: 'string' },
    offset: { type: 'integer', minimum: 0 },
    fields: { type: 'string', description: 'Comma-separated columns to return' },
    count: { type: 'boolean', description: 'Also answer the exact total of matching rows' },
    include: {
      type: 'string',
      description: 'Relations (comma-separated) whose related rows come with the page, one query each',
    },
    includeLimit: { type: 'integer', minimum: 1, maximum: 10000, description: 'Related rows per relation' },
  },
  additionalProperties: false,
} as const;

export const sourceIdParams = {
  type: 'object',
  properties: { id: { type: 'string' } },
  required: ['id'],
} as const;

export const tableParams = {
  type: 'object',
  properties: { id: { type: 'string' }, table: { type: 'string' } },
  required: ['id', 'table'],
} as const;

export const rowParams = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    table: { type: 'string' },
    key: { type: 'string', description: 'Primary key value; a JSON array of values for composite keys' },
  },
  required: ['id', 'table', 'key'],
} as const;

export const sourceConfigSchema = {
  type: 'object',
  properties: {
    url: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'integer' },
    database: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string', writeOnly: true },
    ssl: { anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['verify'] }] },
    file: { type: 'string' },
    schemas: { type: 'array', items: { type: 'string' } },
    timeoutMs: { type: 'integer', minimum: 1 },
  },
  additionalProperties: false,
} as const;

export const sourceViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    kind: { type: 'string' },
    // No password property: the serializer drops anything not listed, a second guard behind redaction.
    config: {
      type: 'object',
      properties: { ...configWithoutPassword(), hasPassword: { type: 'boolean' } },
      additionalProperties: false,
    },
    tablesFetchedAt: { type: ['string', 'null'] },
    tableCount: { type: ['integer', 'null'] },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

function configWithoutPassword() {
  const { password: _password, ...rest } = sourceConfigSchema.properties;
  return rest;
}

/** For routes that answer 204 No Content. */
export const noContentResponses = {
  204: { type: 'null', description: 'Done; no body' },
  ...errorResponses,
} as const;
