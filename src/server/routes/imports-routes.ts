import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Job } from '../../jobs/job.js';
import type { JobQueue } from '../../jobs/job-queue.js';
import { badRequest, notFound } from '../../model/errors.js';
import type { FileAccess } from '../../services/file-access.js';
import type { ImportsService } from '../../services/imports-service.js';
import { errorResponses } from '../schemas.js';
import { idParams } from '../sync-schemas.js';
import { jobSchema } from './jobs-routes.js';

type JobParams = { id: string };

/** `?wait=true`: answer once the job has finished, for scripts that want the outcome in one call. */
export const waitQuerySchema = {
  type: 'object',
  properties: {
    wait: {
      type: 'boolean',
      default: false,
      description: 'Answer 200 with the finished job instead of 202 with the running one',
    },
  },
  additionalProperties: false,
} as const;

export const submittedJobResponses = { 200: jobSchema, 202: jobSchema, ...errorResponses } as const;

/** For bodies the service validates itself (it names the field at fault); the schema documents them. */
export const acceptAnyBody = () => (value: unknown) => ({ value });

/**
 * The job, when the caller may see it: their own, or any for admins. Someone else's job answers
 * 404 as one that does not exist, as on /api/jobs/:id.
 */
export async function visibleJob(jobs: JobQueue, request: FastifyRequest, kind: string): Promise<Job> {
  const { id } = request.params as JobParams;
  const job = await jobs.get(id);
  const user = request.user!;
  if ((user.role !== 'admin' && job.createdBy !== user.id) || job.kind !== kind)
    throw notFound(`${kind} job "${id}"`, { id });
  return job;
}

/**
 * 202 with the job as submitted, or with `?wait=true` 200 with the finished job. A client that
 * hangs up stops the waiting, not the job.
 */
export async function answerJob(
  jobs: JobQueue,
  job: Job,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<Job> {
  if (!(request.query as { wait?: boolean }).wait) {
    reply.status(202);
    return job;
  }
  const gone = new AbortController();
  const onClose = () => gone.abort();
  reply.raw.once('close', onClose);
  try {
    const finished = await jobs.wait(job.id, { signal: gone.signal });
    reply.status(200);
    return finished;
  } finally {
    reply.raw.off('close', onClose);
  }
}

const importBodySchema = {
  type: 'object',
  description:
    'JSON with a server-side `file` (inside BRAID_FILE_ROOTS), or multipart/form-data with a `file` part and these fields as text (mapping and dialect as JSON text)',
  properties: {
    source: { type: 'string', description: 'Source id or name' },
    table: { type: 'string' },
    file: { type: 'string', description: 'Server-side path (JSON), or the uploaded CSV (multipart)' },
    mode: { type: 'string', enum: ['all_or_nothing', 'skip_bad_rows'], default: 'all_or_nothing' },
    create: { type: 'boolean', description: 'Create the table from the CSV, types inferred' },
    mapping: {
      anyOf: [{ type: 'object', additionalProperties: { type: ['string', 'null'] } }, { type: 'string' }],
      description: '{"CSV header": "column" | null}; null skips that CSV column',
    },
    ignoreUnknownColumns: { type: 'boolean' },
    dialect: {
      type: 'object',
      properties: { delimiter: { type: 'string' }, quote: { type: 'string' }, encoding: { type: 'string' } },
    },
  },
  required: ['source', 'table', 'file'],
} as const;

/** Text fields of a form as the service takes them: booleans from "true"/"false". */
const BOOLEAN_FIELDS = new Set(['create', 'ignoreUnknownColumns']);
const FORM_FIELDS = new Set(['source', 'table', 'file', 'mode', 'mapping', 'dialect', ...BOOLEAN_FIELDS]);

/** A form field holding JSON text (dialect); mapping the service parses itself. */
function jsonField(name: string, value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw badRequest('invalid_request', `${name} is not valid JSON: ${(err as Error).message}`, {
      field: name,
    });
  }
}

/**
 * Reads a multipart import: the `file` part streams to its own file (no size limit but the disk),
 * the other parts are the fields. Answers the fields and the saved upload, if any.
 */
async function readForm(
  request: FastifyRequest,
  files: FileAccess,
): Promise<{ fields: Record<string, unknown>; upload: string | null }> {
  const fields: Record<string, unknown> = {};
  let upload: string | null = null;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || upload !== null) {
          part.file.resume();
          throw badRequest(
            'invalid_upload',
            `send one file, in the part named "file" (got "${part.fieldname}")`,
          );
        }
        upload = await files.saveUpload(part.file);
        continue;
      }
      if (!FORM_FIELDS.has(part.fieldname)) {
        throw badRequest('unknown_field', `unknown form field "${part.fieldname}"`, {
          field: part.fieldname,
        });
      }
      const value = String(part.value);
      fields[part.fieldname] = BOOLEAN_FIELDS.has(part.fieldname)
        ? value === 'true' || value === '1'
        : part.fieldname === 'dialect'
          ? jsonField('dialect', value)
          : value;
    }
  } catch (err) {
    if (upload) await rm(upload, { force: true });
    throw err;
  }
  return { fields, upload };
}

/** CSV imports as jobs, and the rows a skip_bad_rows import rejected. */
export function importsRoutes(
  app: FastifyInstance,
  services: { imports: ImportsService; files: FileAccess; jobs: JobQueue },
): void {
  const { imports, files, jobs } = services;
  const tags = ['imports'];

  // Multipart only here, where an upload is expected: it streams to disk, so the JSON bodyLimit
  // does not apply and neither does a file size limit.
  void app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: Infinity, files: 1, fields: 20 } });

    scope.post(
      '/api/imports',
      {
        schema: {
          tags,
          summary:
            'Import a CSV into a table (uploaded, or a server-side file) as a job: 202 with the job, 200 once done with wait',
          consumes: ['application/json', 'multipart/form-data'],
          querystring: waitQuerySchema,
          body: importBodySchema,
          response: submittedJobResponses,
        },
        validatorCompiler: acceptAnyBody,
      },
      async (request, reply) => {
        const user = request.user!;
        if (!request.isMultipart()) {
          const body = request.body;
          if (!body || typeof body !== 'object' || Array.isArray(body))
            throw badRequest('invalid_request', 'body must be an object (or a multipart form with a file)');
          const job = await imports.submit(body as Record<string, unknown>, {
            caller: 'api',
            createdBy: user.id,
            runHere: true,
          });
          return answerJob(jobs, job, request, reply);
        }
        const { fields, upload } = await readForm(request, files);
        let job: Job;
        try {
          job = await imports.submit(upload ? { ...fields, file: upload } : fields, {
            caller: 'api',
            createdBy: user.id,
            runHere: true,
            upload: upload !== null,
          });
        } catch (err) {
          if (upload) await rm(upload, { force: true });
          throw err;
        }
        return answerJob(jobs, job, request, reply);
      },
    );
  });

  app.get(
    '/api/imports/:id/rejects',
    {
      schema: {
        tags,
        summary:
          'The rows a skip_bad_rows import rejected, as CSV: the original fields, then _line, _column and _reason',
        params: idParams('id'),
        produces: ['text/csv'],
        response: { 200: { type: 'string', description: 'CSV' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const job = await visibleJob(jobs, request, 'import');
      const file = imports.rejectsFileOf(job.id);
      const found = await stat(file).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!found) throw notFound(`rejected rows of import job "${job.id}"`, { id: job.id });
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${job.id}.rejects.csv"`);
      return reply.send(createReadStream(file));
    },
  );
}
