import type { FastifyInstance } from 'fastify';
import type { RelationsService } from '../../services/relations-service.js';
import { errorResponses, noContentResponses } from '../schemas.js';

const endpointSchema = {
  type: 'object',
  properties: {
    source: { type: 'string', description: 'Source id or name' },
    table: { type: 'string', description: '`name`, or `schema.name` outside the default schema' },
    column: { type: 'string' },
  },
  required: ['source', 'table'],
} as const;

const relationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    from: endpointSchema,
    to: endpointSchema,
    reverseName: { type: 'string' },
    createdAt: { type: 'string' },
  },
} as const;

const idParams = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const;

/** Relationships across sources; rows of either table then take `?include=<name>`. */
export function relationsRoutes(app: FastifyInstance, relations: RelationsService): void {
  const tags = ['relations'];

  app.get(
    '/api/relations',
    {
      schema: {
        tags,
        response: {
          200: { type: 'object', properties: { relations: { type: 'array', items: relationSchema } } },
        },
      },
    },
    async () => ({ relations: await relations.list() }),
  );

  app.post(
    '/api/relations',
    {
      schema: {
        tags,
        summary:
          'Link a column of a table to a table of any source (e.g. invoices.customer_id -> customers.id); reads of either table can then include the related rows',
        body: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'Name as seen from the `from` table, e.g. customer' },
            from: { ...endpointSchema, required: ['source', 'table', 'column'] },
            to: { ...endpointSchema, description: 'column defaults to the single-column primary key' },
            reverseName: {
              type: 'string',
              description: 'Name as seen from the `to` table (default: the from table)',
            },
          },
          required: ['name', 'from', 'to'],
          additionalProperties: false,
        },
        response: { 201: relationSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return relations.create(request.body);
    },
  );

  app.get(
    '/api/relations/:id',
    { schema: { tags, params: idParams, response: { 200: relationSchema, ...errorResponses } } },
    async (request) => relations.get((request.params as { id: string }).id),
  );

  app.delete(
    '/api/relations/:id',
    { schema: { tags, params: idParams, response: noContentResponses } },
    async (request, reply) => {
      await relations.remove((request.params as { id: string }).id);
      reply.status(204);
    },
  );
}
