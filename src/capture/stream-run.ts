import type { CaptureRun } from './capture-strategy.js';

/**
 * The life cycle shared by log-reading runs (logical replication, binlog): a `done` promise that
 * settles once, a drain loop that hands waiting items to the consumer one at a time (never two
 * handler calls at once, so positions advance in order), `stop()` that lets the item in hand finish
 * so its position counts, and `fail()` for fatal errors. Subclasses supply the stream and the items.
 */
export abstract class StreamRun implements CaptureRun {
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;
  protected draining: Promise<void> | null = null;
  protected stopping = false;
  private finished = false;

  protected constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // The caller may never look at `done`; a fatal error must not become an unhandled rejection.
    this.done.catch(() => {});
  }

  abstract get lastPosition(): string | null;
  /** Closes the server stream (idempotent). */
  protected abstract closeStream(): Promise<void>;
  /** How many items wait to be handled. */
  protected abstract pending(): number;
  /** Handles the next waiting item; a throw fails the run. */
  protected abstract handleNext(): Promise<void>;

  async stop(): Promise<void> {
    if (this.stopping) {
      // Another stop() or a failure is closing the stream already.
      await this.done.catch(() => {});
      return;
    }
    this.stopping = true;
    // A handler call in progress finishes, so its position counts; nothing after it starts.
    await this.draining?.catch(() => {});
    await this.closeStream();
    this.finish();
  }

  protected finish(err?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    if (err === undefined) this.resolveDone();
    else this.rejectDone(err);
  }

  protected async fail(err: unknown): Promise<void> {
    if (this.finished || this.stopping) return;
    this.stopping = true;
    await this.closeStream().catch(() => {});
    this.finish(err);
  }

  /** Runs the drain loop unless it runs already; restarts it for items that came as it ended. */
  protected kick(): void {
    if (this.draining || this.stopping) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.pending() > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending() > 0 && !this.stopping) await this.handleNext();
    } catch (err) {
      await this.fail(err);
    }
  }
}
