import type { FastifyInstance } from 'fastify';
import type { CombinedMaterializations } from '../../services/combined-materializations.js';
import { errorResponses, noContentResponses } from '../schemas.js';
import { idParams, syncStatusSchema } from '../sync-schemas.js';
import { jobSchema } from './jobs-routes.js';

type OneParams = { id: string };

const viewProperties = {
  combinedId: { type: 'string' },
  combinedName: { type: 'string' },
  source: { type: 'string', description: 'Source id of the materialized table' },
  table: { type: 'string', description: 'The materialized table, as named in its source' },
  syncId: { type: 'string', description: 'The generated sync rule keeping the table current' },
  createdAt: { type: 'string' },
} as const;

const materializeBody = {
  type: 'object',
  properties: {
    source: { type: 'string', description: 'Source id or name' },
    table: { type: 'string', description: 'A new table name (`name`, or `schema.name`)' },
  },
  required: ['source', 'table'],
} as const;

/** The service checks the body itself, so a missing field is named the same way for the CLI. */
const acceptAnyBody = () => (value: unknown) => ({ value });

/**
 * Materialized combined tables: a real table created from the definition, filled and kept current
 * by a generated sync rule (builder role, as combined tables and syncs).
 */
export function combinedMaterializeRoutes(
  app: FastifyInstance,
  materializations: CombinedMaterializations,
): void {
  const tags = ['combined'];
  const params = idParams('id');

  app.post(
    '/api/combined/:id/materialize',
    {
      schema: {
        tags,
        summary:
          'Create a table in a source from the combined table, fill it and keep it current with a sync',
        description:
          'Runs as a durable job (kind combined-materialize, progress in rows). By default the answer waits for it; with wait=false it is 202 with the job to follow at /api/jobs/:id.',
        params,
        querystring: { type: 'object', properties: { wait: { type: 'boolean', default: true } } },
        body: materializeBody,
        response: {
          201: { type: 'object', properties: { ...viewProperties, rows: { type: 'integer' } } },
          202: jobSchema,
          ...errorResponses,
        },
      },
      validatorCompiler: acceptAnyBody,
    },
    async (request, reply) => {
      const { id } = request.params as OneParams;
      const createdBy = request.user?.id ?? null;
      // acceptAnyBody leaves the query string as sent (the service checks the body itself).
      const { wait } = request.query as { wait?: unknown };
      if (wait === false || wait === 'false') {
        reply.status(202);
        return materializations.start(id, request.body, createdBy);
      }
      reply.status(201);
      return materializations.materialize(id, request.body, createdBy);
    },
  );

  app.get(
    '/api/combined/:id/materialized',
    {
      schema: {
        tags,
        summary: 'Where the combined table is materialized, the state of its sync and its lag',
        params,
        response: {
          200: {
            type: 'object',
            properties: {
              ...viewProperties,
              state: { type: 'string' },
              lagMs: { type: ['integer', 'null'], description: 'Largest lag of the sync members' },
              sync: syncStatusSchema,
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => materializations.status((request.params as OneParams).id),
  );

  app.delete(
    '/api/combined/:id/materialized',
    {
      schema: {
        tags,
        summary: 'Stop keeping the table current (its sync is deleted); drop=true drops the table too',
        params,
        querystring: { type: 'object', properties: { drop: { type: 'boolean', default: false } } },
        response: noContentResponses,
      },
    },
    async (request, reply) => {
      const { drop } = request.query as { drop?: boolean };
      await materializations.dematerialize((request.params as OneParams).id, { drop: drop === true });
      return reply.code(204).send();
    },
  );
}
