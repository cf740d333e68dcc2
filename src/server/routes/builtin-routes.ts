import type { FastifyInstance } from 'fastify';
import type { BuiltinTablesService } from '../../services/builtin-tables-service.js';
import { PORTABLE_TYPES } from '../../model/schema.js';
import { noContentResponses, errorResponses } from '../schemas.js';

const columnDefinition = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 128 },
    type: { type: 'string', enum: [...PORTABLE_TYPES] },
    nullable: { type: 'boolean' },
    autoIncrement: { type: 'boolean' },
    maxLength: { type: 'integer', minimum: 1 },
    precision: { type: 'integer', minimum: 1 },
    scale: { type: 'integer', minimum: 0 },
    enumValues: { type: 'array', items: { type: 'string' }, minItems: 1 },
    defaultValue: {},
  },
  required: ['name', 'type'],
  additionalProperties: false,
} as const;

const tableAnswer = { type: 'object', additionalProperties: true } as const;

export function builtinRoutes(app: FastifyInstance, builtin: BuiltinTablesService): void {
  const tags = ['built-in tables'];
  app.post(
    '/api/sources/builtin/tables',
    {
      schema: {
        tags,
        summary: 'Create a built-in table from portable types',
        body: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 128 },
            columns: { type: 'array', items: columnDefinition, minItems: 1 },
            primaryKey: { type: 'array', items: { type: 'string' } },
            uniqueIndexes: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  columns: { type: 'array', items: { type: 'string' } },
                },
                required: ['name', 'columns'],
              },
            },
          },
          required: ['name', 'columns'],
          additionalProperties: false,
        },
        response: { 201: tableAnswer, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return builtin.create(request.body);
    },
  );

  app.patch(
    '/api/sources/builtin/tables/:table',
    {
      schema: {
        tags,
        summary: 'Add, drop or rename columns of a built-in table',
        params: { type: 'object', properties: { table: { type: 'string' } }, required: ['table'] },
        body: {
          type: 'object',
          properties: { changes: { type: 'array', minItems: 1 } },
          required: ['changes'],
        },
        response: { 200: tableAnswer, ...errorResponses },
      },
    },
    async (request) => builtin.alter((request.params as { table: string }).table, request.body),
  );

  app.delete(
    '/api/sources/builtin/tables/:table',
    {
      schema: {
        tags,
        params: { type: 'object', properties: { table: { type: 'string' } }, required: ['table'] },
        response: noContentResponses,
      },
    },
    async (request, reply) => {
      await builtin.drop((request.params as { table: string }).table);
      return reply.code(204).send();
    },
  );
}
