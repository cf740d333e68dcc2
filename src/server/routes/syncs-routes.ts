import type { FastifyInstance } from 'fastify';
import type { SyncsService } from '../../services/syncs-service.js';
import { errorResponses, noContentResponses } from '../schemas.js';
import {
  conflictSchema,
  deadLetterSchema,
  idParams,
  reconcileBodySchema,
  reconcileJobSchema,
  resolveBodySchema,
  syncRuleSchema,
  syncStatusSchema,
  syncViewSchema,
} from '../sync-schemas.js';

type SyncParams = { id: string };

/**
 * For bodies the service parses itself: the rule, whose problems it reports all at once with their
 * paths (Ajv would stop at its first, in its own words), and the reconcile options, which may be
 * left out entirely (Ajv refuses a missing body). The schemas still document them in OpenAPI.
 */
const acceptAnyBody = () => (value: unknown) => ({ value });

export function syncsRoutes(app: FastifyInstance, syncs: SyncsService): void {
  const tags = ['syncs'];
  const one = idParams('id');

  app.get(
    '/api/syncs',
    {
      schema: {
        tags,
        response: {
          200: { type: 'object', properties: { syncs: { type: 'array', items: syncViewSchema } } },
        },
      },
    },
    async () => ({ syncs: await syncs.list() }),
  );

  app.post(
    '/api/syncs',
    {
      schema: {
        tags,
        summary:
          'Create a sync rule; it is checked against the tables, reconciled and run by a server or worker',
        body: syncRuleSchema,
        response: { 201: syncViewSchema, ...errorResponses },
      },
      validatorCompiler: acceptAnyBody,
    },
    async (request, reply) => {
      reply.status(201);
      return syncs.create(request.body);
    },
  );

  app.get(
    '/api/syncs/:id',
    { schema: { tags, params: one, response: { 200: syncViewSchema, ...errorResponses } } },
    async (request) => syncs.get((request.params as SyncParams).id),
  );

  app.delete(
    '/api/syncs/:id',
    {
      schema: {
        tags,
        summary: 'Stop the sync, remove its capture objects from the sources, delete the rule and its state',
        params: one,
        response: noContentResponses,
      },
    },
    async (request, reply) => {
      await syncs.delete((request.params as SyncParams).id);
      return reply.code(204).send();
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/api/syncs/:id/${action}`,
      { schema: { tags, params: one, response: { 200: syncViewSchema, ...errorResponses } } },
      async (request) => syncs[action]((request.params as SyncParams).id),
    );
  }

  app.get(
    '/api/syncs/:id/status',
    {
      schema: {
        tags,
        summary: 'Where it runs, and per member the capture strategy and why, lag, position and counters',
        params: one,
        response: { 200: syncStatusSchema, ...errorResponses },
      },
    },
    async (request) => syncs.status((request.params as SyncParams).id),
  );

  syncReconcileRoutes(app, syncs, tags);
  syncQueueRoutes(app, syncs, tags);
}

function syncReconcileRoutes(app: FastifyInstance, syncs: SyncsService, tags: string[]): void {
  app.post(
    '/api/syncs/:id/reconcile',
    {
      schema: {
        tags,
        summary:
          'Compare (dry-run) or reconcile (apply) the members: 202 with the job, 200 once done with wait',
        params: idParams('id'),
        body: reconcileBodySchema,
        response: { 200: reconcileJobSchema, 202: reconcileJobSchema, ...errorResponses },
      },
      validatorCompiler: acceptAnyBody,
    },
    async (request, reply) => {
      const job = await syncs.reconcile((request.params as SyncParams).id, request.body);
      reply.status(job.state === 'running' ? 202 : 200);
      return job;
    },
  );

  app.get(
    '/api/syncs/:id/reconcile/:jobId',
    {
      schema: {
        tags,
        summary: 'A reconciliation job: progress while it runs, summary once done',
        params: idParams('id', 'jobId'),
        response: { 200: reconcileJobSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id, jobId } = request.params as SyncParams & { jobId: string };
      return syncs.reconcileJob(id, jobId);
    },
  );
}

/** The two queues a person works through: conflicts of the manual policy, and dead letters. */
function syncQueueRoutes(app: FastifyInstance, syncs: SyncsService, tags: string[]): void {
  type LetterParams = SyncParams & { letterId: string };

  app.get(
    '/api/syncs/:id/conflicts',
    {
      schema: {
        tags,
        params: idParams('id'),
        querystring: {
          type: 'object',
          properties: { status: { type: 'string', enum: ['open', 'resolved', 'all'], default: 'open' } },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { conflicts: { type: 'array', items: conflictSchema } } },
          ...errorResponses,
        },
      },
    },
    async (request) => ({
      conflicts: await syncs.conflicts(
        (request.params as SyncParams).id,
        (request.query as { status?: string }).status,
      ),
    }),
  );

  app.post(
    '/api/syncs/:id/conflicts/:conflictId/resolve',
    {
      schema: {
        tags,
        summary: 'Resolve with one side ({"member": 1}) or a value ({"value": ...}), written to every member',
        params: idParams('id', 'conflictId'),
        body: resolveBodySchema,
        response: { 200: conflictSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { id, conflictId } = request.params as SyncParams & { conflictId: string };
      return syncs.resolveConflict(id, conflictId, request.body, request.user!.email);
    },
  );

  app.get(
    '/api/syncs/:id/dead-letters',
    {
      schema: {
        tags,
        summary: 'Changes that could not be applied, with the reason',
        params: idParams('id'),
        response: {
          200: { type: 'object', properties: { deadLetters: { type: 'array', items: deadLetterSchema } } },
          ...errorResponses,
        },
      },
    },
    async (request) => ({ deadLetters: await syncs.deadLetters((request.params as SyncParams).id) }),
  );

  app.post(
    '/api/syncs/:id/dead-letters/:letterId/retry',
    {
      schema: {
        tags,
        summary: 'Apply the change again (after fixing its cause); it is removed on success',
        params: idParams('id', 'letterId'),
        response: noContentResponses,
      },
    },
    async (request, reply) => {
      const { id, letterId } = request.params as LetterParams;
      await syncs.retryDeadLetter(id, letterId);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/api/syncs/:id/dead-letters/:letterId',
    {
      schema: {
        tags,
        summary: 'Drop the change for good',
        params: idParams('id', 'letterId'),
        response: noContentResponses,
      },
    },
    async (request, reply) => {
      const { id, letterId } = request.params as LetterParams;
      await syncs.dropDeadLetter(id, letterId);
      return reply.code(204).send();
    },
  );
}
