import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ExportRequest, ExportsService } from '../../services/exports-service.js';
import { errorResponses } from '../schemas.js';

const exportFields = {
  source: { type: 'string', description: 'Source id or name (with table)' },
  table: { type: 'string' },
  combined: { type: 'string', description: 'A combined table (id or name), instead of source and table' },
  format: { type: 'string', enum: ['csv', 'jsonl'], default: 'csv' },
} as const;

const exportQuerySchema = {
  type: 'object',
  properties: {
    ...exportFields,
    filter: { type: 'string', description: 'Filter AST as JSON' },
    sort: { type: 'string', description: 'a,-b (descending with -), or a JSON array of {field,dir}' },
    columns: { type: 'string', description: 'Comma-separated columns, in this order (default: all)' },
  },
  additionalProperties: false,
} as const;

const exportBodySchema = {
  type: 'object',
  properties: {
    ...exportFields,
    filter: { anyOf: [{ type: 'object', additionalProperties: true }, { type: 'string' }] },
    sort: {
      anyOf: [
        {
          type: 'array',
          items: {
            type: 'object',
            properties: { field: { type: 'string' }, dir: { type: 'string', enum: ['asc', 'desc'] } },
            required: ['field'],
          },
        },
        { type: 'string' },
      ],
    },
    columns: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }] },
  },
  additionalProperties: false,
} as const;

const streamedResponses = {
  200: { type: 'string', description: 'The rows as CSV (header line first) or JSON lines' },
  ...errorResponses,
} as const;

/** `attachment` with an ASCII fallback name and the exact name in RFC 5987 form. */
function attachment(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

/** Every matching row of a table as a download, streamed from the source: no row cap. */
export function exportsRoutes(app: FastifyInstance, exports: ExportsService): void {
  const tags = ['exports'];

  const send = async (request: ExportRequest, reply: FastifyReply) => {
    // open() validates and runs the query before answering: bad input still gets a JSON error.
    const out = await exports.open(request);
    reply.type(out.contentType).header('content-disposition', attachment(out.filename));
    return reply.send(Readable.from(out.chunks));
  };

  app.get(
    '/api/exports',
    {
      schema: {
        tags,
        summary: 'Export a table or a combined table (filtered, sorted, chosen columns) as CSV or JSON lines',
        querystring: exportQuerySchema,
        produces: ['text/csv', 'application/x-ndjson'],
        response: streamedResponses,
      },
    },
    async (request, reply) => send(request.query as ExportRequest, reply),
  );

  app.post(
    '/api/exports',
    {
      schema: {
        tags,
        summary: 'The same export with the options as JSON (a filter too long for a URL)',
        body: exportBodySchema,
        produces: ['text/csv', 'application/x-ndjson'],
        response: streamedResponses,
      },
    },
    async (request, reply) => send(request.body as ExportRequest, reply),
  );
}
