import type ivm from 'isolated-vm';
import { BraidError } from '../model/errors.js';
import { IsolateHost, type CodeLease } from './isolate-host.js';
import {
  closedError,
  inputError,
  memoryError,
  neverSettlesError,
  resultError,
  syntaxError,
  thrownError,
  timeoutError,
  type FailedCall,
} from './sandbox-errors.js';
import { inputNamesOf, positionInStack, type CodeMode } from './user-code.js';

/** What user code can return: the result is converted to JSON inside the isolate and parsed here. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface SandboxOptions {
  /** Heap limit of the isolate in MB (isolated-vm's minimum is 8). Default 64. */
  memoryLimitMb?: number;
  /** Wall-clock limit of one evaluation in ms. Default 1000. */
  timeoutMs?: number;
  /**
   * Distinct codes kept compiled. Each keeps its own context (about 175 KB) in the isolate's heap,
   * under the memory limit, so the default 32 takes about 6 MB of the 64. Default 32.
   */
  maxCachedCode?: number;
}

export interface EvaluateOptions {
  /**
   * Context for error reports, copied into the error's details: `{ rowKey }` for a sync row,
   * `{ automationId, step }` for an automation. `rowKey` is also named in the message.
   */
  details?: Record<string, unknown>;
  /** Overrides the sandbox's time limit for this call. */
  timeoutMs?: number;
}

const TIMED_OUT = 'Script execution timed out.';
// isolated-vm's message for the call that was running when the memory limit was hit. Calls still
// queued for that isolate fail with "Isolate is disposed" instead: they did nothing wrong.
const OVER_MEMORY = /disposed during execution due to memory limit/;
/** How often a call that was only queued behind a memory disposal is retried on a fresh isolate. */
const RETRIES_AFTER_DISPOSAL = 2;

/**
 * Runs user JavaScript (sync transforms, automation steps) in an isolated-vm isolate: its own V8
 * heap with no `require`, `process`, file system, network, timers or environment, a memory limit and
 * a time limit. Inputs go in and results come out as JSON copies, so no reference to a host object
 * ever exists inside the isolate. Failures are `BraidError`s with the codes of `SandboxErrorCode`.
 *
 * Code is compiled once per distinct text (and input names) and kept in a hardened context that is
 * reused for every evaluation of that code; a global set by one evaluation is not there in the next
 * (see isolate-host.ts and realm-setup.ts for why reuse is safe). Concurrent calls queue in the
 * isolate, which runs one at a time; each call's time limit starts when it starts running. When one
 * call exceeds the memory limit, it fails with `sandbox_memory` and the calls queued behind it run
 * on a fresh isolate. Node must run with `--no-node-snapshot` (bin/braid.mjs, `npm run bench` and
 * the Vitest config pass it).
 *
 * @example
 * ```ts
 * const sandbox = createSandbox({ memoryLimitMb: 64, timeoutMs: 1000 });
 * await sandbox.evaluate("value.replace(/\\D/g, '')", { value: '+1 (555) 010-4477' }); // '15550104477'
 * await sandbox.evaluate('Number(value)', { value: '42.50' }, { details: { rowKey: 7 } }); // 42.5
 * await sandbox.runFunction('const n = await Promise.resolve(steps.a.rows.length); return n * 2', {
 *   trigger: { table: 'customers' },
 *   steps: { a: { rows: [{ id: 1 }, { id: 2 }] } },
 * }); // 4
 * await sandbox.close();
 * ```
 */
export class Sandbox {
  readonly memoryLimitMb: number;
  readonly timeoutMs: number;
  private readonly host: IsolateHost;
  private closed = false;

  constructor(options: SandboxOptions = {}) {
    this.memoryLimitMb = positiveInteger('memoryLimitMb', options.memoryLimitMb ?? 64, 8);
    this.timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? 1000, 1);
    const maxCachedCode = positiveInteger('maxCachedCode', options.maxCachedCode ?? 32, 1);
    this.host = new IsolateHost(this.memoryLimitMb, maxCachedCode);
  }

  /** How many distinct codes are compiled and cached right now (diagnostics, tests). */
  get cachedCodeCount(): number {
    return this.host.cachedCount;
  }

  /**
   * Evaluates one expression with `inputs` as its variables and answers its value.
   *
   * @example
   * ```ts
   * await sandbox.evaluate('value.trim().toLowerCase()', { value: '  Ada@Example.COM ' }); // 'ada@example.com'
   * await sandbox.evaluate('row.first + " " + row.last', { value: null, row: { first: 'Ada', last: 'Lovelace' } });
   * ```
   */
  evaluate(
    expression: string,
    inputs: Record<string, unknown>,
    options?: EvaluateOptions,
  ): Promise<JsonValue> {
    return this.execute('expression', expression, inputs, options);
  }

  /**
   * Runs the body of an async function with `inputs` as its parameters and answers what it returns
   * (after awaiting it). Only promises made inside the isolate can be awaited: there are no timers
   * or I/O in there, so a promise that nothing resolves ends as `sandbox_timeout`.
   *
   * @example
   * ```ts
   * await sandbox.runFunction('return steps.lookup.rows.map((r) => r.email)', {
   *   trigger: { op: 'insert' },
   *   steps: { lookup: { rows: [{ email: 'ada@example.com' }] } },
   * }); // ['ada@example.com']
   * ```
   */
  runFunction(body: string, inputs: Record<string, unknown>, options?: EvaluateOptions): Promise<JsonValue> {
    return this.execute('function', body, inputs, options);
  }

  /**
   * Compiles code without running it: resolves when it compiles, rejects with `sandbox_syntax`
   * (line and column in the details) when it does not. For validating a transform when it is saved.
   *
   * @example
   * ```ts
   * await sandbox.check('expression', 'value.(', ['value', 'row']); // rejects: sandbox_syntax, line 1, column 7
   * ```
   */
  async check(mode: CodeMode, source: string, inputNames: readonly string[]): Promise<void> {
    const call: FailedCall = { mode, source, details: undefined };
    const names = inputNamesOf(Object.fromEntries(inputNames.map((name) => [name, null])));
    const lease = await this.leaseFor(call, names, this.timeoutMs);
    lease.done();
    if (lease.code.kind === 'syntax') throw syntaxError(call, lease.code.message, lease.code.position);
  }

  /** Disposes the isolate and every context in it. Calls still queued fail with `sandbox_closed`. */
  async close(): Promise<void> {
    this.closed = true;
    this.host.dispose();
  }

  private execute(
    mode: CodeMode,
    source: string,
    inputs: Record<string, unknown>,
    options: EvaluateOptions | undefined,
  ): Promise<JsonValue> {
    const call: FailedCall = { mode, source, details: options?.details };
    const timeoutMs = positiveInteger('timeoutMs', options?.timeoutMs ?? this.timeoutMs, 1);
    let names: string[];
    let argsJson: string;
    try {
      names = inputNamesOf(inputs);
      argsJson = JSON.stringify(names.map((name) => inputs[name]));
    } catch (err) {
      return Promise.reject(err instanceof BraidError ? err : inputError(call, err));
    }
    return this.runOnce(call, names, argsJson, timeoutMs, RETRIES_AFTER_DISPOSAL);
  }

  private async runOnce(
    call: FailedCall,
    names: string[],
    argsJson: string,
    timeoutMs: number,
    retries: number,
  ): Promise<JsonValue> {
    const lease = await this.leaseFor(call, names, timeoutMs, retries);
    const code = lease.code;
    if (code.kind === 'syntax') {
      lease.done();
      throw syntaxError(call, code.message, code.position);
    }
    let answer: unknown;
    try {
      answer = await code.run.apply(undefined, [argsJson], { result: { copy: true }, timeout: timeoutMs });
      if (isPending(answer)) {
        answer = await code.collect.apply(undefined, [answer[1]], {
          result: { copy: true },
          timeout: timeoutMs,
        });
      }
    } catch (err) {
      const failure = this.translate(call, code.isolate, err, timeoutMs);
      if (failure !== RETRY || retries === 0) throw failure === RETRY ? err : failure;
      return this.runOnce(call, names, argsJson, timeoutMs, retries - 1);
    } finally {
      lease.done();
    }
    return decode(call, answer, timeoutMs);
  }

  /** The compiled code, retrying when the isolate went away under a call that was only queued. */
  private async leaseFor(
    call: FailedCall,
    names: string[],
    timeoutMs: number,
    retries = RETRIES_AFTER_DISPOSAL,
  ): Promise<CodeLease> {
    if (this.closed) throw closedError(call);
    try {
      return await this.host.lease(call.mode, call.source, names, timeoutMs);
    } catch (err) {
      const failure = this.translate(call, undefined, err, timeoutMs);
      if (failure !== RETRY || retries === 0) throw failure === RETRY ? err : failure;
      return this.leaseFor(call, names, timeoutMs, retries - 1);
    }
  }

  /**
   * Turns a failure of the isolate (the runner reports the user's own errors as answers) into an
   * error, or RETRY when the call only waited in the queue of an isolate that another call blew up.
   */
  private translate(
    call: FailedCall,
    isolate: ivm.Isolate | undefined,
    err: unknown,
    timeoutMs: number,
  ): unknown {
    if (this.closed) return closedError(call);
    if (!(err instanceof Error)) return err;
    if (err.message === TIMED_OUT) return timeoutError(call, timeoutMs, err);
    if (OVER_MEMORY.test(err.message)) return memoryError(call, this.memoryLimitMb, err);
    // Re-running is safe: user code has no effect outside the isolate, which is gone.
    if (isolate?.isDisposed || /isolate is disposed/i.test(err.message)) return RETRY;
    return err;
  }
}

const RETRY = Symbol('retry');

function isPending(answer: unknown): answer is ['pending', number] {
  return Array.isArray(answer) && answer[0] === 'pending' && typeof answer[1] === 'number';
}

/**
 * Creates a sandbox; see `Sandbox`.
 *
 * @example
 * ```ts
 * const sandbox = createSandbox({ timeoutMs: 250 });
 * const digits = await sandbox.evaluate("value.replace(/\\D/g, '')", { value: 'tel. 030 1234-567' }); // '0301234567'
 * await sandbox.close();
 * ```
 */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  return new Sandbox(options);
}

function decode(call: FailedCall, answer: unknown, timeoutMs: number): JsonValue {
  if (!Array.isArray(answer) || answer.length !== 2)
    throw new Error('sandbox runner answered in an unknown shape');
  const [kind, payload] = answer as [unknown, unknown];
  if (kind === 'ok' && typeof payload === 'string') return JSON.parse(payload) as JsonValue;
  if (kind === 'result' && typeof payload === 'string') throw resultError(call, payload);
  if (kind === 'never') throw neverSettlesError(call, timeoutMs);
  if (kind === 'threw' && typeof payload === 'object' && payload !== null) {
    const { name, message, stack } = payload as { name: string; message: string; stack: string };
    throw thrownError(call, { name, message }, positionInStack(stack));
  }
  throw new Error('sandbox runner answered in an unknown shape');
}

function positiveInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    // A wrong option is a bug in Braid's wiring, not something a user did.
    throw new RangeError(`sandbox option ${name} must be an integer >= ${min}, not ${String(value)}`);
  }
  return value;
}
