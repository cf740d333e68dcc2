import ivm from 'isolated-vm';
import { REALM_SETUP_SOURCE } from './realm-setup.js';
import {
  USER_CODE_FILENAME,
  WRAPPER_LINE_OFFSET,
  splitSyntaxMessage,
  wrapUserCode,
  type CodeMode,
  type CodePosition,
} from './user-code.js';

/** User code compiled into its own hardened context, with the runner's two entry points (realm-setup.ts). */
export interface CompiledCode {
  readonly kind: 'compiled';
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  readonly run: ivm.Reference<(argsJson: string) => unknown>;
  readonly collect: ivm.Reference<(id: number) => unknown>;
}

/** Code that does not compile. Kept in the cache too, so a bad transform is not recompiled per row. */
export interface UncompilableCode {
  readonly kind: 'syntax';
  readonly message: string;
  readonly position: CodePosition | undefined;
}

export type CachedCode = CompiledCode | UncompilableCode;

/** A cached code in use by one call; `done()` lets an evicted context be released once idle. */
export interface CodeLease {
  readonly code: CachedCode;
  done(): void;
}

interface Slot {
  readonly ready: Promise<CachedCode>;
  active: number;
  evicted: boolean;
}

/** Setup only freezes a few hundred objects; the limit guards against a V8 change making it loop. */
const SETUP_TIMEOUT_MS = 5_000;

/**
 * Owns one isolate and the compiled user code in it. Each distinct code (mode, input names, text)
 * gets its own context, prepared once by the realm setup and reused for every evaluation of that
 * code: contexts are hardened so evaluations cannot leave state behind (realm-setup.ts), and one
 * context per code means that even a hole in that hardening could only carry state between runs of
 * the very same code, never from one user's transform to another's. The cache is bounded (least
 * recently used first out) because every context lives in the isolate's heap, under its memory
 * limit; an evicted context is released when the last call using it ends.
 *
 * When the isolate is disposed for exceeding its memory limit, everything in it is gone: the next
 * `lease()` notices, forgets the cache and builds a fresh isolate.
 */
export class IsolateHost {
  private isolate: ivm.Isolate | null = null;
  private setup: Promise<ivm.Script> | null = null;
  private readonly cache = new Map<string, Slot>();

  constructor(
    private readonly memoryLimitMb: number,
    private readonly maxCachedCode: number,
  ) {}

  /** Number of codes currently cached (for tests and diagnostics). */
  get cachedCount(): number {
    return this.cache.size;
  }

  /**
   * The compiled form of `source`, compiling it on first use (concurrent first uses share one
   * compilation). A syntax error is an answer, not an exception; exceptions are the isolate failing.
   */
  async lease(
    mode: CodeMode,
    source: string,
    inputNames: readonly string[],
    timeoutMs: number,
  ): Promise<CodeLease> {
    const isolate = this.current();
    const key = `${mode}\u0000${inputNames.join(',')}\u0000${source}`;
    let slot = this.cache.get(key);
    if (slot) {
      // Re-inserting keeps the Map's order "least recently used first".
      this.cache.delete(key);
    } else {
      slot = { ready: this.compile(isolate, mode, source, inputNames, timeoutMs), active: 0, evicted: false };
    }
    this.cache.set(key, slot);
    this.evictBeyondLimit();
    const leased = slot;
    leased.active += 1;
    try {
      const code = await leased.ready;
      return { code, done: () => this.done(leased) };
    } catch (err) {
      // A failed compilation is not cached: the next call tries again (on a new isolate if needed).
      if (this.cache.get(key) === leased) this.cache.delete(key);
      leased.active -= 1;
      throw err;
    }
  }

  /** Disposes the isolate and everything compiled in it. */
  dispose(): void {
    this.cache.clear();
    this.setup = null;
    if (this.isolate && !this.isolate.isDisposed) this.isolate.dispose();
    this.isolate = null;
  }

  private current(): ivm.Isolate {
    if (this.isolate && !this.isolate.isDisposed) return this.isolate;
    // The previous isolate (if any) was disposed for its memory limit: its contexts went with it.
    this.cache.clear();
    this.setup = null;
    this.isolate = new ivm.Isolate({ memoryLimit: this.memoryLimitMb });
    return this.isolate;
  }

  private async compile(
    isolate: ivm.Isolate,
    mode: CodeMode,
    source: string,
    inputNames: readonly string[],
    timeoutMs: number,
  ): Promise<CachedCode> {
    let script: ivm.Script;
    try {
      script = await isolate.compileScript(wrapUserCode(mode, source, inputNames), {
        filename: USER_CODE_FILENAME,
        lineOffset: WRAPPER_LINE_OFFSET,
      });
    } catch (err) {
      if (err instanceof SyntaxError) return { kind: 'syntax', ...splitSyntaxMessage(err.message) };
      throw err;
    }
    this.setup ??= isolate.compileScript(REALM_SETUP_SOURCE, { filename: 'braid-realm-setup' });
    const setup = await this.setup;
    const context = await isolate.createContext();
    const handles: { release(): void }[] = [script];
    try {
      const makeRunner = await setup.run(context, { reference: true, timeout: SETUP_TIMEOUT_MS });
      handles.push(makeRunner);
      // The user's script only evaluates to a function expression; the time limit matters only if
      // the text closed the wrapper and put statements after it.
      const userFunction = await script.run(context, { reference: true, timeout: timeoutMs });
      handles.push(userFunction);
      const runner = (await makeRunner.apply(undefined, [userFunction.derefInto()], {
        result: { reference: true },
      })) as ivm.Reference<{ run: unknown; collect: unknown }>;
      handles.push(runner);
      const run = (await runner.get('run', { reference: true })) as CompiledCode['run'];
      const collect = (await runner.get('collect', { reference: true })) as CompiledCode['collect'];
      return { kind: 'compiled', isolate, context, run, collect };
    } catch (err) {
      handles.push(context);
      throw err;
    } finally {
      // These are only the host's handles: the runner's closure keeps what it needs alive inside
      // the isolate. After a disposal there is nothing left to release.
      if (!isolate.isDisposed) for (const handle of handles) handle.release();
    }
  }

  private done(slot: Slot): void {
    slot.active -= 1;
    if (slot.evicted && slot.active === 0) void releaseSlot(slot);
  }

  private evictBeyondLimit(): void {
    for (const [key, slot] of this.cache) {
      if (this.cache.size <= this.maxCachedCode) return;
      this.cache.delete(key);
      slot.evicted = true;
      if (slot.active === 0) void releaseSlot(slot);
    }
  }
}

async function releaseSlot(slot: Slot): Promise<void> {
  try {
    const code = await slot.ready;
    if (code.kind !== 'compiled' || code.isolate.isDisposed) return;
    code.run.release();
    code.collect.release();
    code.context.release();
  } catch {
    // A compilation that failed left nothing to release.
  }
}
