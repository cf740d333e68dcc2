import { BraidError } from '../model/errors.js';
import { clampPosition, excerpt, isPastEnd, type CodeMode, type CodePosition } from './user-code.js';

/**
 * The stable codes of sandbox failures. The first five are about the user's code and reach people
 * (the sync log, the automation run, the HTTP answer of a "test this expression" call):
 * - `sandbox_error`: the code threw (or its promise rejected);
 * - `sandbox_timeout`: it did not finish within the time limit;
 * - `sandbox_memory`: it went over the memory limit (the isolate was disposed and is recreated);
 * - `sandbox_syntax`: it does not compile;
 * - `sandbox_result`: its result cannot be copied out as JSON (a function, a Map, NaN...).
 * The last two are Braid's own mistakes: an input that is not JSON or not a usable name
 * (`sandbox_input`), a call after `close()` (`sandbox_closed`).
 */
export type SandboxErrorCode =
  | 'sandbox_error'
  | 'sandbox_timeout'
  | 'sandbox_memory'
  | 'sandbox_syntax'
  | 'sandbox_result'
  | 'sandbox_input'
  | 'sandbox_closed';

/** What the messages name: the code and whatever the caller said about the call (`{ rowKey }`). */
export interface FailedCall {
  mode: CodeMode;
  source: string;
  details: Record<string, unknown> | undefined;
}

function subject(call: FailedCall, article = 'The'): string {
  return `${article} ${call.mode === 'expression' ? 'expression' : 'function'} \`${excerpt(call.source)}\``;
}

function rowSuffix(call: FailedCall): string {
  const rowKey = call.details?.['rowKey'];
  return rowKey === undefined ? '' : ` (row ${JSON.stringify(rowKey)})`;
}

function at(position: CodePosition | undefined): string {
  return position ? ` at line ${position.line}, column ${position.column}` : '';
}

function build(
  status: number,
  code: SandboxErrorCode,
  message: string,
  call: FailedCall,
  extra: Record<string, unknown>,
  cause?: unknown,
): BraidError {
  // The caller's details come first so that they can never overwrite what the sandbox reports.
  const details = { ...call.details, expression: call.source, mode: call.mode, ...extra };
  return new BraidError(status, code, message, details, cause === undefined ? undefined : { cause });
}

export function thrownError(
  call: FailedCall,
  thrown: { name: string; message: string },
  position: CodePosition | undefined,
): BraidError {
  const where = position ? clampPosition(position, call.source) : undefined;
  const what =
    thrown.name === ''
      ? thrown.message
      : thrown.message === ''
        ? thrown.name
        : `${thrown.name}: ${thrown.message}`;
  return build(422, 'sandbox_error', `${subject(call)} threw ${what}${at(where)}${rowSuffix(call)}`, call, {
    errorName: thrown.name,
    errorMessage: thrown.message,
    ...where,
  });
}

export function timeoutError(call: FailedCall, timeoutMs: number, cause?: unknown): BraidError {
  const message = `${subject(call)} did not finish within ${timeoutMs} ms${rowSuffix(call)}`;
  return build(422, 'sandbox_timeout', message, call, { timeoutMs }, cause);
}

/** A promise still pending once the isolate is idle: nothing (no timer, no I/O) could ever settle it. */
export function neverSettlesError(call: FailedCall, timeoutMs: number): BraidError {
  const message = `${subject(call)} returned a promise that never settles${rowSuffix(call)}`;
  return build(422, 'sandbox_timeout', message, call, { timeoutMs, neverSettles: true });
}

export function memoryError(call: FailedCall, memoryLimitMb: number, cause?: unknown): BraidError {
  const message = `${subject(call)} used more than the ${memoryLimitMb} MB memory limit${rowSuffix(call)}`;
  return build(422, 'sandbox_memory', message, call, { memoryLimitMb }, cause);
}

export function syntaxError(
  call: FailedCall,
  v8Message: string,
  position: CodePosition | undefined,
): BraidError {
  const where = position ? clampPosition(position, call.source) : undefined;
  const message =
    position && isPastEnd(position, call.source)
      ? 'the code ends before it is complete (a bracket, quote or block not closed?)'
      : v8Message;
  const text = `${subject(call)} has a syntax error${at(where)}: ${message}`;
  return build(400, 'sandbox_syntax', text, call, { errorMessage: message, ...where });
}

export function resultError(call: FailedCall, what: string): BraidError {
  const message = `${subject(call)} returned ${what}, which cannot be copied out as JSON${rowSuffix(call)}`;
  return build(422, 'sandbox_result', message, call, { result: what });
}

export function inputError(call: FailedCall, cause: unknown): BraidError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const message = `The inputs of ${subject(call, 'the')} are not JSON: ${reason}`;
  return build(500, 'sandbox_input', message, call, {}, cause);
}

export function closedError(call: FailedCall): BraidError {
  return build(500, 'sandbox_closed', `The sandbox is closed: ${subject(call, 'the')} was not run`, call, {});
}
