/**
 * The one error type of Braid. It carries an HTTP status and a stable machine code; the server turns
 * it into `{"error":{"code","message","details"}}` in one place. Messages are written for people and
 * never contain a stored secret or a stack trace.
 */
export class BraidError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BraidError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Bad input from the caller: a filter, a value, an identifier. */
export function badRequest(code: string, message: string, details?: Record<string, unknown>): BraidError {
  return new BraidError(400, code, message, details);
}

export function notFound(what: string, details?: Record<string, unknown>): BraidError {
  return new BraidError(404, 'not_found', `${what} was not found`, details);
}

/**
 * A statement that failed on a source. Keeps the SQL and the bound parameters for the logs of the
 * person debugging it (parameters are user data, never secrets) and the driver error as cause.
 */
export class QueryError extends BraidError {
  readonly query: string;
  readonly params: readonly unknown[];

  constructor(
    status: number,
    code: string,
    message: string,
    query: string,
    params: readonly unknown[],
    cause: unknown,
    details?: Record<string, unknown>,
  ) {
    super(status, code, message, details, { cause });
    this.name = 'QueryError';
    this.query = query;
    this.params = params;
  }
}

export function isBraidError(err: unknown): err is BraidError {
  return err instanceof BraidError;
}
