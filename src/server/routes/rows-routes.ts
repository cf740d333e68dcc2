import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { RowsService } from '../../services/rows-service.js';
import type { SourcesService } from '../../services/sources-service.js';
import {
  noContentResponses,
  errorResponses,
  listQuerySchema,
  pageSchema,
  rowParams,
  rowSchema,
  sourceIdParams,
  tableParams,
} from '../schemas.js';

type TableParams = { id: string; table: string };
type RowParams = TableParams & { key: string };

/**
 * Serializer for answers made of many schema-less rows (`additionalProperties: true`): there
 * fast-json-stringify calls JSON.stringify once per value and is about 3x slower than one
 * JSON.stringify of the whole answer (docs/benchmarks.md, list latency). The response schemas stay
 * for the OpenAPI document; the services build exactly the properties they list.
 */
const plainJson = (data: unknown): string => JSON.stringify(data);

export function rowsRoutes(app: FastifyInstance, rows: RowsService, sources: SourcesService): void {
  const tags = ['rows'];

  app.get(
    '/api/sources/:id/tables/:table',
    {
      schema: {
        tags: ['sources'],
        summary: 'Schema of one table',
        params: tableParams,
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (request) => {
      const { id, table } = request.params as TableParams;
      return (await sources.resolveTable(id, table)).table;
    },
  );

  app.get(
    '/api/sources/:id/tables/:table/rows',
    {
      schema: {
        tags,
        params: tableParams,
        querystring: listQuerySchema,
        response: { 200: pageSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, table } = request.params as TableParams;
      const page = await rows.list(id, table, request.query as Record<string, string>);
      reply.serializer(plainJson);
      return page;
    },
  );

  app.get(
    '/api/sources/:id/tables/:table/stream',
    {
      schema: {
        tags,
        summary: 'Every matching row as newline-delimited JSON, streamed with constant memory',
        params: tableParams,
        querystring: {
          type: 'object',
          properties: {
            filter: { type: 'string' },
            sort: { type: 'string' },
            batchSize: { type: 'integer', minimum: 1, maximum: 10000 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const { id, table } = request.params as TableParams;
      const query = request.query as { filter?: string; sort?: string; batchSize?: number };
      // Resolve and validate before the first byte, so bad input still gets a JSON error status.
      const batches = await rows.stream(id, table, query, query.batchSize ?? 1000);
      const iterator = batches[Symbol.asyncIterator]();
      const first = await iterator.next();
      async function* lines() {
        if (first.done) return;
        yield first.value.map((r) => JSON.stringify(r)).join('\n') + '\n';
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
          yield next.value.map((r) => JSON.stringify(r)).join('\n') + '\n';
        }
      }
      reply.type('application/x-ndjson');
      return reply.send(Readable.from(lines()));
    },
  );

  app.post(
    '/api/sources/:id/tables/:table/rows',
    {
      schema: {
        tags,
        summary: 'Insert one row (object) or many in one transaction (array); answers the stored rows',
        params: tableParams,
        body: { anyOf: [rowSchema, { type: 'array', items: rowSchema, maxItems: 10000 }] },
        response: { 201: { anyOf: [rowSchema, { type: 'array', items: rowSchema }] }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, table } = request.params as TableParams;
      reply.status(201);
      return rows.insert(id, table, request.body);
    },
  );

  app.post(
    '/api/sources/:id/tables/:table/rows/upsert',
    {
      schema: {
        tags,
        summary: 'Insert or update rows by the primary key or conflictColumns',
        params: tableParams,
        body: {
          type: 'object',
          properties: {
            rows: { type: 'array', items: rowSchema },
            conflictColumns: { type: 'array', items: { type: 'string' } },
          },
          required: ['rows'],
        },
        response: {
          200: { type: 'object', properties: { rows: { type: 'array', items: rowSchema } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { id, table } = request.params as TableParams;
      return { rows: await rows.upsert(id, table, request.body) };
    },
  );

  app.get(
    '/api/sources/:id/tables/:table/rows/:key',
    { schema: { tags, params: rowParams, response: { 200: rowSchema, ...errorResponses } } },
    async (request) => {
      const { id, table, key } = request.params as RowParams;
      return rows.get(id, table, key);
    },
  );

  app.patch(
    '/api/sources/:id/tables/:table/rows/:key',
    { schema: { tags, params: rowParams, body: rowSchema, response: { 200: rowSchema, ...errorResponses } } },
    async (request) => {
      const { id, table, key } = request.params as RowParams;
      return rows.update(id, table, key, request.body);
    },
  );

  app.delete(
    '/api/sources/:id/tables/:table/rows/:key',
    { schema: { tags, params: rowParams, response: noContentResponses } },
    async (request, reply) => {
      const { id, table, key } = request.params as RowParams;
      await rows.delete(id, table, key);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/sources/:id/query',
    {
      schema: {
        tags,
        summary: 'Run SQL with named (:name) or positional bindings, always bound as parameters',
        params: sourceIdParams,
        body: {
          type: 'object',
          properties: {
            sql: { type: 'string', minLength: 1 },
            bindings: { anyOf: [{ type: 'object', additionalProperties: true }, { type: 'array' }] },
          },
          required: ['sql'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              rows: { type: 'array', items: rowSchema },
              affectedRows: { type: 'integer' },
              columns: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const result = await rows.query((request.params as { id: string }).id, request.body);
      reply.serializer(plainJson);
      return result;
    },
  );
}
