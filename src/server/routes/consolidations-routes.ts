import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JobQueue } from '../../jobs/job-queue.js';
import type { ConsolidationsService } from '../../services/consolidations-service.js';
import { errorResponses } from '../schemas.js';
import { idParams } from '../sync-schemas.js';
import {
  acceptAnyBody,
  answerJob,
  submittedJobResponses,
  visibleJob,
  waitQuerySchema,
} from './imports-routes.js';

const KIND = 'consolidation';

const definitionBodySchema = {
  description:
    'The definition itself, or {"definition": object | YAML/JSON text}; a YAML body (application/yaml, text/plain) works too',
  anyOf: [
    {
      type: 'object',
      properties: {
        definition: { anyOf: [{ type: 'object', additionalProperties: true }, { type: 'string' }] },
      },
      required: ['definition'],
    },
    {
      type: 'object',
      properties: {
        name: { type: 'string' },
        target: { type: 'object', additionalProperties: true },
        tables: { type: 'array', items: { type: 'object', additionalProperties: true } },
      },
      additionalProperties: true,
    },
    { type: 'string' },
  ],
} as const;

const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
  offset: { type: 'integer', minimum: 0, default: 0 },
} as const;

const looseObject = { type: 'object', additionalProperties: true } as const;
const listOf = (name: string) => ({
  200: { type: 'object', properties: { [name]: { type: 'array', items: looseObject } } },
  ...errorResponses,
});

/** `{definition}` or the definition itself; the service parses and reports every problem with its path. */
function definitionOf(body: unknown): unknown {
  if (body && typeof body === 'object' && !Array.isArray(body) && 'definition' in body && !('target' in body))
    return (body as { definition: unknown }).definition;
  return body;
}

/** Consolidation jobs (plan, run, resume) and what they leave to read: report, discrepancies, lineage, rejects. */
export function consolidationsRoutes(
  app: FastifyInstance,
  services: { consolidations: ConsolidationsService; jobs: JobQueue },
): void {
  const { consolidations, jobs } = services;
  const tags = ['consolidations'];
  const one = idParams('id');

  const submit = async (request: FastifyRequest, reply: FastifyReply, dryRun: boolean) => {
    const job = await consolidations.submit(definitionOf(request.body), {
      dryRun,
      caller: 'api',
      createdBy: request.user!.id,
      runHere: true,
    });
    return answerJob(jobs, job, request, reply);
  };

  void app.register(async (scope) => {
    // Definitions are often written in YAML: take them as they are.
    scope.addContentTypeParser(
      ['application/yaml', 'application/x-yaml', 'text/yaml'],
      { parseAs: 'string' },
      (_request, body, done) => done(null, body),
    );

    for (const [url, dryRun, summary] of [
      [
        '/api/consolidations/plan',
        true,
        'Plan: a dry run that writes nothing to the target and reports what would happen (verdict planned)',
      ],
      [
        '/api/consolidations',
        false,
        'Consolidate into the target tables and verify them (verdict verified or mismatch)',
      ],
    ] as const) {
      scope.post(
        url,
        {
          schema: {
            tags,
            summary: `${summary}: 202 with the job, 200 once done with wait`,
            consumes: ['application/json', 'application/yaml', 'text/plain'],
            querystring: waitQuerySchema,
            body: definitionBodySchema,
            response: submittedJobResponses,
          },
          validatorCompiler: acceptAnyBody,
        },
        async (request, reply) => submit(request, reply, dryRun),
      );
    }
  });

  app.post(
    '/api/consolidations/:id/resume',
    {
      schema: {
        tags,
        summary:
          'Run a failed, cancelled or interrupted consolidation again from its last finished step (409 job_not_resumable otherwise)',
        params: one,
        querystring: waitQuerySchema,
        response: submittedJobResponses,
      },
    },
    async (request, reply) => {
      const job = await visibleJob(jobs, request, KIND);
      return answerJob(jobs, await consolidations.resume(job.id, { runHere: true }), request, reply);
    },
  );

  app.get(
    '/api/consolidations/:id/report',
    {
      schema: {
        tags,
        summary: 'The report of a succeeded job (409 report_not_ready before)',
        params: one,
        response: { 200: looseObject, ...errorResponses },
      },
    },
    async (request) => consolidations.report((await visibleJob(jobs, request, KIND)).id),
  );

  app.get(
    '/api/consolidations/:id/discrepancies',
    {
      schema: {
        tags,
        summary: 'Fields whose inputs disagreed: the candidates, the policy and the value chosen',
        params: one,
        querystring: {
          type: 'object',
          properties: {
            table: { type: 'string' },
            pending: { type: 'boolean', description: 'Only those waiting for a person (manual policy)' },
            ...pageQuery,
          },
          additionalProperties: false,
        },
        response: listOf('discrepancies'),
      },
    },
    async (request) => {
      const job = await visibleJob(jobs, request, KIND);
      const query = request.query as { table?: string; pending?: boolean; limit?: number; offset?: number };
      return { discrepancies: await consolidations.discrepancies(job.id, query) };
    },
  );

  app.get(
    '/api/consolidations/:id/lineage',
    {
      schema: {
        tags,
        summary: 'Which input rows made each target row, and the evidence each merge was made on',
        params: one,
        querystring: {
          type: 'object',
          properties: {
            table: { type: 'string', description: 'Target table (default: the first of the definition)' },
            key: { type: 'string', description: 'Target key of one row' },
            ...pageQuery,
          },
          additionalProperties: false,
        },
        response: listOf('lineage'),
      },
    },
    async (request) => {
      const job = await visibleJob(jobs, request, KIND);
      const query = request.query as { table?: string; key?: string; limit?: number; offset?: number };
      return { lineage: await consolidations.lineage(job.id, query) };
    },
  );

  app.get(
    '/api/consolidations/:id/rejects',
    {
      schema: {
        tags,
        summary: 'Input rows left out, with the input, the source key, the field and the reason',
        params: one,
        querystring: { type: 'object', properties: pageQuery, additionalProperties: false },
        response: listOf('rejects'),
      },
    },
    async (request) => {
      const job = await visibleJob(jobs, request, KIND);
      return {
        rejects: await consolidations.rejects(job.id, request.query as { limit?: number; offset?: number }),
      };
    },
  );
}
