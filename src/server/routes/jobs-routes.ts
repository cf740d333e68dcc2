import type { FastifyInstance, FastifyRequest } from 'fastify';
import { JOB_STATUSES, type Job, type JobStatus } from '../../jobs/job.js';
import type { JobQueue } from '../../jobs/job-queue.js';
import { notFound } from '../../model/errors.js';
import { errorResponses } from '../schemas.js';
import { idParams } from '../sync-schemas.js';

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });

const progressSchema = {
  type: 'object',
  properties: {
    phase: { type: 'string' },
    done: { type: 'number' },
    total: { type: ['number', 'null'] },
    unit: { type: 'string', description: 'What is counted: rows, bytes, entities...' },
    ratePerSec: { type: ['number', 'null'], description: 'Over the last seconds of the phase' },
    etaSec: { type: ['number', 'null'], description: 'Seconds left at that rate, when the total is known' },
  },
} as const;

const jobErrorSchema = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

export const jobSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'string', enum: JOB_STATUSES },
    params: { description: 'What the job was submitted with (never a secret)' },
    progress: nullable(progressSchema),
    result: { description: 'What the job answered, once succeeded' },
    error: nullable(jobErrorSchema),
    createdBy: { type: ['string', 'null'], description: 'Id of the user who submitted it' },
    owner: { type: ['string', 'null'], description: 'The process that runs or last ran it' },
    attempts: { type: 'integer' },
    cancelRequested: { type: 'boolean' },
    createdAt: { type: 'string' },
    startedAt: { type: ['string', 'null'] },
    finishedAt: { type: ['string', 'null'] },
    updatedAt: { type: 'string' },
  },
  required: ['id', 'kind', 'title', 'status', 'attempts', 'cancelRequested', 'createdAt', 'updatedAt'],
} as const;

const jobLogSchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    at: { type: 'string' },
    level: { type: 'string' },
    message: { type: 'string' },
    details: nullable({ type: 'object', additionalProperties: true }),
  },
} as const;

type JobParams = { id: string };

/**
 * Jobs of every kind (imports, consolidations...). Any signed-in user, app users included, reaches
 * these routes, but sees and acts only on the jobs they submitted; admins see every job. Someone
 * else's job answers 404, as a job that does not exist.
 */
export function jobsRoutes(app: FastifyInstance, jobs: JobQueue): void {
  const tags = ['jobs'];
  const config = { role: 'app_user' as const };
  const one = idParams('id');

  /** The job, when the caller may see it. */
  const visibleJob = async (request: FastifyRequest): Promise<Job> => {
    const { id } = request.params as JobParams;
    const job = await jobs.get(id);
    const user = request.user!;
    if (user.role !== 'admin' && job.createdBy !== user.id) throw notFound(`job "${id}"`, { id });
    return job;
  };

  app.get(
    '/api/jobs',
    {
      config,
      schema: {
        tags,
        summary: "Jobs, newest first: your own, or everyone's for admins",
        querystring: {
          type: 'object',
          properties: {
            kind: { type: 'string' },
            status: { type: 'string', enum: JOB_STATUSES },
            createdBy: { type: 'string', description: 'Admins only: the jobs of this user id' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { jobs: { type: 'array', items: jobSchema } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const query = request.query as {
        kind?: string;
        status?: JobStatus;
        createdBy?: string;
        limit?: number;
      };
      const user = request.user!;
      const createdBy = user.role === 'admin' ? query.createdBy : user.id;
      return {
        jobs: await jobs.list({
          ...(query.kind !== undefined ? { kind: query.kind } : {}),
          ...(query.status !== undefined ? { status: query.status } : {}),
          ...(createdBy !== undefined ? { createdBy } : {}),
          limit: query.limit ?? 100,
        }),
      };
    },
  );

  app.get(
    '/api/jobs/:id',
    { config, schema: { tags, params: one, response: { 200: jobSchema, ...errorResponses } } },
    async (request) => visibleJob(request),
  );

  app.get(
    '/api/jobs/:id/logs',
    {
      config,
      schema: {
        tags,
        summary: 'Log lines in order; pass the last seq seen as `after` to follow a running job',
        params: one,
        querystring: {
          type: 'object',
          properties: {
            after: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 },
          },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { logs: { type: 'array', items: jobLogSchema } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const job = await visibleJob(request);
      const query = request.query as { after?: number; limit?: number };
      return { logs: await jobs.logs(job.id, { afterSeq: query.after ?? 0, limit: query.limit ?? 1000 }) };
    },
  );

  app.post(
    '/api/jobs/:id/cancel',
    {
      config,
      schema: {
        tags,
        summary:
          'Cancel: a queued or interrupted job at once, a running one at its next heartbeat (409 job_finished once done)',
        params: one,
        response: { 200: jobSchema, ...errorResponses },
      },
    },
    async (request) => jobs.cancel((await visibleJob(request)).id),
  );

  app.post(
    '/api/jobs/:id/resume',
    {
      config,
      schema: {
        tags,
        summary:
          'Queue a failed, cancelled or interrupted job again; it continues from its checkpoint (409 job_not_resumable otherwise)',
        params: one,
        response: { 200: jobSchema, ...errorResponses },
      },
    },
    async (request) => jobs.resume((await visibleJob(request)).id),
  );
}
