import type { FastifyError, FastifyInstance } from 'fastify';
import { BraidError, QueryError } from '../model/errors.js';

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Fastify's own errors (validation, body size, JSON syntax) mapped to Braid's stable codes. */
function fromFastify(err: FastifyError): BraidError | null {
  if (err.validation) {
    const first = err.validation[0];
    const where = `${err.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
    return new BraidError(400, 'invalid_request', `${where} ${first?.message ?? 'is invalid'}`, {
      issues: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
    });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BraidError(413, 'payload_too_large', 'request body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new BraidError(415, 'unsupported_media_type', 'send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new BraidError(400, 'invalid_json', 'the body is empty but declared as JSON');
    default:
      break;
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new BraidError(400, 'invalid_json', `body is not valid JSON: ${err.message}`);
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new BraidError(err.statusCode, 'bad_request', err.message);
  }
  return null;
}

/**
 * The one place errors become answers: `{"error":{"code","message","details"}}`. Unexpected errors
 * are logged with their stack and answered with a generic message; stacks never reach the caller.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const known = err instanceof BraidError ? err : fromFastify(err);
    if (!known) {
      request.log.error({ err }, 'unexpected error');
      const body: ErrorBody = {
        error: { code: 'internal', message: 'Braid hit an unexpected error; it is in the server log' },
      };
      return reply.status(500).send(body);
    }
    if (known.status >= 500) {
      const query = known instanceof QueryError ? { query: known.query } : {};
      request.log.warn(
        { code: known.code, ...query, cause: String((known.cause as Error)?.message ?? '') },
        known.message,
      );
    }
    const body: ErrorBody = { error: { code: known.code, message: known.message } };
    if (known.details) body.error.details = known.details;
    return reply.status(known.status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` },
    };
    return reply.status(404).send(body);
  });
}
