import type { FastifyInstance } from 'fastify';
import type { SourcesService } from '../../services/sources-service.js';
import {
  noContentResponses,
  errorResponses,
  sourceConfigSchema,
  sourceIdParams,
  sourceViewSchema,
} from '../schemas.js';

const sourceBody = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    kind: { type: 'string', enum: ['postgres', 'mysql', 'sqlite'] },
    config: sourceConfigSchema,
  },
  additionalProperties: false,
} as const;

const testResultSchema = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    serverVersion: { type: 'string' },
    latencyMs: { type: 'number' },
    code: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

export function sourcesRoutes(app: FastifyInstance, sources: SourcesService): void {
  const tags = ['sources'];
  app.get(
    '/api/sources',
    {
      schema: {
        tags,
        response: {
          200: { type: 'object', properties: { sources: { type: 'array', items: sourceViewSchema } } },
        },
      },
    },
    async () => ({
      sources: await sources.list(),
    }),
  );

  app.post(
    '/api/sources',
    {
      schema: {
        tags,
        body: { ...sourceBody, required: ['name', 'kind', 'config'] },
        response: { 201: sourceViewSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return sources.create(request.body);
    },
  );

  app.post(
    '/api/sources/test',
    {
      schema: {
        tags,
        summary: 'Test a configuration before saving it',
        body: { ...sourceBody, required: ['kind', 'config'] },
        response: { 200: testResultSchema, ...errorResponses },
      },
    },
    async (request) => sources.testConfig(request.body),
  );

  app.get(
    '/api/sources/:id',
    { schema: { tags, params: sourceIdParams, response: { 200: sourceViewSchema, ...errorResponses } } },
    async (request) => sources.get((request.params as { id: string }).id),
  );

  app.patch(
    '/api/sources/:id',
    {
      schema: {
        tags,
        params: sourceIdParams,
        body: sourceBody,
        response: { 200: sourceViewSchema, ...errorResponses },
      },
    },
    async (request) => sources.update((request.params as { id: string }).id, request.body),
  );

  app.delete(
    '/api/sources/:id',
    { schema: { tags, params: sourceIdParams, response: noContentResponses } },
    async (request, reply) => {
      await sources.remove((request.params as { id: string }).id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/sources/:id/test',
    { schema: { tags, params: sourceIdParams, response: { 200: testResultSchema, ...errorResponses } } },
    async (request) => sources.test((request.params as { id: string }).id),
  );

  const tablesAnswer = {
    type: 'object',
    properties: {
      tables: { type: 'array', items: { type: 'object', additionalProperties: true } },
      introspectedAt: { type: 'string' },
    },
  } as const;

  app.get(
    '/api/sources/:id/tables',
    {
      schema: {
        tags,
        summary: 'Cached schema (fetched on first use)',
        params: sourceIdParams,
        response: { 200: tablesAnswer, ...errorResponses },
      },
    },
    async (request) => sources.schema((request.params as { id: string }).id),
  );

  app.post(
    '/api/sources/:id/tables/refresh',
    {
      schema: {
        tags,
        summary: 'Fetch the tables again',
        params: sourceIdParams,
        response: { 200: tablesAnswer, ...errorResponses },
      },
    },
    async (request) => sources.refresh((request.params as { id: string }).id),
  );
}
