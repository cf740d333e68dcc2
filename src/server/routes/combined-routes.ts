import type { FastifyInstance } from 'fastify';
import type { CombinedListParams, CombinedService } from '../../services/combined-service.js';
import { errorResponses, listQuerySchema, noContentResponses, pageSchema, rowSchema } from '../schemas.js';

type OneParams = { id: string };
type RowParams = OneParams & { key: string };

const ownerSchema = {
  anyOf: [
    { type: 'string', description: '"member.column"' },
    {
      type: 'object',
      properties: {
        member: { type: 'string' },
        column: { type: 'string' },
        read: { type: 'string', description: 'Expression over value and row: the exposed value' },
        write: { type: 'string', description: 'Expression over value and row: the member column value' },
      },
      required: ['member', 'column'],
    },
  ],
} as const;

/** The body of POST /api/combined (documentation: the service parses it, see acceptAnyBody). */
const definitionSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    join: { type: 'string', enum: ['inner', 'left', 'full'] },
    members: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'How columns name this member (default: the source)' },
          source: { type: 'string', description: 'Source id or name (stored as the id)' },
          table: { type: 'string' },
          match: {
            type: 'object',
            properties: { column: { type: 'string' }, normalize: { type: 'array' } },
            required: ['column'],
          },
        },
        required: ['source', 'table'],
      },
    },
    columns: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, owners: { type: 'array', items: ownerSchema } },
        required: ['name', 'owners'],
      },
    },
    links: { type: 'object', properties: { sync: { type: 'string', description: 'Sync id or name' } } },
    inserts: { type: 'object', properties: { members: { type: 'array', items: { type: 'string' } } } },
    deletes: {
      anyOf: [
        { type: 'string', enum: ['all', 'refuse'] },
        { type: 'object', properties: { members: { type: 'array', items: { type: 'string' } } } },
      ],
    },
  },
  required: ['name', 'members', 'columns'],
} as const;

const viewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    definition: { type: 'object', additionalProperties: true, description: 'As stored (source ids)' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

const combinedPageSchema = {
  ...pageSchema,
  properties: {
    ...pageSchema.properties,
    total: { type: 'integer', description: 'Only with count=true (exact) or count=estimate' },
    totalExact: { type: 'boolean', description: 'With total: false when it is an estimate' },
  },
} as const;

/** Table rows' parameters, less relations; `count` also takes `estimate`. */
const { include: _include, includeLimit: _includeLimit, ...listProperties } = listQuerySchema.properties;
const combinedQuerySchema = {
  ...listQuerySchema,
  properties: {
    ...listProperties,
    count: {
      type: 'string',
      enum: ['true', 'false', 'estimate'],
      description: 'true: exact total (walks the result); estimate: from the members counts',
    },
  },
} as const;

const writeResultSchema = {
  type: 'object',
  properties: {
    row: { anyOf: [rowSchema, { type: 'null' }] },
    members: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          member: { type: 'string' },
          action: { type: 'string' },
          error: { type: 'object', additionalProperties: true },
        },
      },
    },
  },
} as const;

const idParams = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const;
const rowParams = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'Combined table id or name' },
    key: { type: 'string', description: 'The row `_key` (URL-encoded)' },
  },
  required: ['id', 'key'],
} as const;

/**
 * The service parses definitions itself, listing every problem with its path (Ajv stops at one).
 * It applies to every part of the route, so preview's query string reaches the service as text,
 * which checks it as it checks the CLI's.
 */
const acceptAnyBody = () => (value: unknown) => ({ value });

/** Many schema-less rows: one JSON.stringify is ~3x faster than fast-json-stringify (see rows-routes). */
const plainJson = (data: unknown): string => JSON.stringify(data);

/**
 * Combined tables: definitions need the builder role (the default), as syncs do; rows too, as a
 * table's rows do. Ids are accepted as names wherever an id is.
 */
export function combinedRoutes(app: FastifyInstance, combined: CombinedService): void {
  const tags = ['combined'];

  app.get(
    '/api/combined',
    {
      schema: {
        tags,
        response: { 200: { type: 'object', properties: { combined: { type: 'array', items: viewSchema } } } },
      },
    },
    async () => ({ combined: await combined.list() }),
  );

  app.post(
    '/api/combined',
    {
      schema: {
        tags,
        summary: 'Create a combined table; it is checked against the members tables first',
        body: definitionSchema,
        response: { 201: viewSchema, ...errorResponses },
      },
      validatorCompiler: acceptAnyBody,
    },
    async (request, reply) => {
      reply.status(201);
      return combined.create(request.body);
    },
  );

  app.post(
    '/api/combined/preview',
    {
      schema: {
        tags,
        summary: 'Check a definition and show its columns and first page of rows, without storing it',
        body: definitionSchema,
        querystring: combinedQuerySchema,
        response: {
          200: {
            type: 'object',
            properties: {
              definition: { type: 'object', additionalProperties: true },
              columns: { type: 'array', items: { type: 'object', additionalProperties: true } },
              page: combinedPageSchema,
            },
          },
          ...errorResponses,
        },
      },
      validatorCompiler: acceptAnyBody,
    },
    async (request, reply) => {
      reply.serializer(plainJson);
      return combined.preview(request.body, request.query as CombinedListParams);
    },
  );

  app.get(
    '/api/combined/:id',
    { schema: { tags, params: idParams, response: { 200: viewSchema, ...errorResponses } } },
    async (request) => combined.get((request.params as OneParams).id),
  );

  app.put(
    '/api/combined/:id',
    {
      schema: {
        tags,
        summary: 'Replace the definition (checked like a new one)',
        params: idParams,
        body: definitionSchema,
        response: { 200: viewSchema, ...errorResponses },
      },
      validatorCompiler: acceptAnyBody,
    },
    async (request) => combined.update((request.params as OneParams).id, request.body),
  );

  app.delete(
    '/api/combined/:id',
    { schema: { tags, params: idParams, response: noContentResponses } },
    async (request, reply) => {
      await combined.remove((request.params as OneParams).id);
      return reply.code(204).send();
    },
  );

  combinedRowRoutes(app, combined, tags);
}

function combinedRowRoutes(app: FastifyInstance, combined: CombinedService, tags: string[]): void {
  app.get(
    '/api/combined/:id/rows',
    {
      schema: {
        tags,
        summary: 'A page of rows, with the filter, sort and page parameters of table rows',
        params: idParams,
        querystring: combinedQuerySchema,
        response: { 200: combinedPageSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const page = await combined.rows((request.params as OneParams).id, request.query as CombinedListParams);
      reply.serializer(plainJson);
      return page;
    },
  );

  app.post(
    '/api/combined/:id/rows',
    {
      schema: {
        tags,
        summary: 'Insert an entity: a row in each member of `inserts`, the match key shared',
        params: idParams,
        body: rowSchema,
        response: { 201: writeResultSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.status(201);
      reply.serializer(plainJson);
      return combined.insertRow((request.params as OneParams).id, request.body);
    },
  );

  app.get(
    '/api/combined/:id/rows/:key',
    {
      schema: {
        tags,
        summary: 'One entity: the combined row and each member row (null where missing)',
        params: rowParams,
        response: {
          200: {
            type: 'object',
            properties: { row: rowSchema, memberRows: { type: 'object', additionalProperties: true } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const { id, key } = request.params as RowParams;
      reply.serializer(plainJson);
      return combined.getRow(id, key);
    },
  );

  app.patch(
    '/api/combined/:id/rows/:key',
    {
      schema: {
        tags,
        summary: 'Change columns: each is written to the members owning it',
        params: rowParams,
        body: rowSchema,
        response: { 200: writeResultSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, key } = request.params as RowParams;
      reply.serializer(plainJson);
      return combined.updateRow(id, key, request.body);
    },
  );

  app.delete(
    '/api/combined/:id/rows/:key',
    {
      schema: {
        tags,
        summary: 'Delete the entity from the members the delete policy names; answers what each did',
        params: rowParams,
        response: { 200: writeResultSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, key } = request.params as RowParams;
      reply.serializer(plainJson);
      return combined.deleteRow(id, key);
    },
  );
}
