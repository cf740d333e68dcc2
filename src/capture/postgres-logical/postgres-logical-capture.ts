import type { Connector, SourceConfig } from '../../connectors/connector.js';
import {
  resolvePostgresConfig,
  type ResolvedPostgresConfig,
} from '../../connectors/postgres/postgres-config.js';
import { BraidError, badRequest, isBraidError } from '../../model/errors.js';
import type { TableSchema } from '../../model/schema.js';
import type { CaptureRun, CaptureStrategy, ChangeHandler } from '../capture-strategy.js';
import { ChangeDecoder } from './change-decoder.js';
import {
  checkReplicaIdentity,
  dropCaptureObjects,
  ensurePublication,
  ensureSlot,
  streamFacts,
  withAdminClient,
} from './logical-catalog.js';
import { LogicalRun, ORIGIN_MESSAGE_PREFIX, type TruncateHandler } from './logical-run.js';
import { parsePosition, type LogicalPosition } from './lsn.js';

export interface PostgresLogicalCaptureOptions {
  /** Source id, copied into every event. */
  source: string;
  /**
   * Consumer name; the slot and the publication are both `braid_<name>`. Lower-case letters,
   * digits and `_`, at most 57 characters (slot names are limited to 63).
   */
  name: string;
  /** Connection settings of the source, the same ones its connector was created with. */
  config: SourceConfig;
  /**
   * Receives TRUNCATEs of captured tables in stream order. Without it a truncate fails the run
   * (code `capture_truncate`) without being acknowledged, so it is never skipped silently.
   */
  onTruncate?: TruncateHandler;
  /** A transaction with more events reaches the handler in several consecutive calls (default 10 000). */
  maxBatchEvents?: number;
  /** How often the stream confirms its position when nothing else does (default 10 000 ms). */
  feedbackIntervalMs?: number;
  /** How long start() waits for a slot another walsender still holds (default 5 000 ms). */
  busyWaitMs?: number;
  /** A run whose server sent nothing for this long fails as lost (default 60 000 ms). */
  silenceTimeoutMs?: number;
}

const NAME_RE = /^[a-z0-9_]{1,57}$/;

/**
 * Change capture from PostgreSQL's write-ahead log with the built-in `pgoutput` plugin (PostgreSQL
 * 10+, wal_level=logical, a user with REPLICATION or superuser; see probePostgresLogical).
 *
 * - `install(tables)` creates the publication `braid_<name>` for exactly those tables (or sets its
 *   table list) and the logical slot `braid_<name>`; tables without a usable replica identity are
 *   refused with the fix to apply.
 * - `start(from, handler)` streams committed transactions in commit order. Events carry wire values
 *   identical to the connector's `select()`, `position` = commit LSN + index in the transaction
 *   (`00000000/016B3748:0000000003`, sortable as text), `commitTime` from the commit record, and
 *   `origin` when the transaction was written through `withOrigin`. With `from` null the stream
 *   begins where the slot stands (the install point, or the last acknowledged transaction).
 *   Call `install` (idempotent) in every process before `start`: it hands over the introspected
 *   tables the values are decoded with (without them values are decoded by type alone).
 * - `before`: with REPLICA IDENTITY FULL the whole old row; with a primary key (DEFAULT) only the
 *   key columns, and for updates only when the key changed. TOASTed values an update left unchanged
 *   are not in the log: they are copied from `before` when it has them, else absent from `after`.
 * - A transaction is confirmed to the slot only after the handler resolved for all of its events;
 *   a handler that throws ends the run (`done` rejects) and the events come again on the next start.
 * - `uninstall()` stops this instance's runs, terminates any walsender still holding the slot (a
 *   crashed process) and drops slot and publication. A forgotten slot keeps WAL forever: uninstall
 *   what you no longer consume.
 *
 * @example
 * const capture = new PostgresLogicalCapture({ source: 'crm', name: 'sync_customers', config });
 * await capture.install([customers]);
 * const run = await capture.start(storedPosition, async (events) => {
 *   for (const e of events) if (e.origin !== 'sync_customers') await apply(e);
 *   await savePosition(events.at(-1)!.position);
 * });
 * // ... later
 * await run.stop();
 */
export class PostgresLogicalCapture implements CaptureStrategy {
  readonly kind = 'logical' as const;
  readonly name: string;
  /** `braid_<name>`: the slot and the publication. */
  readonly objectName: string;
  private readonly config: ResolvedPostgresConfig;
  private tables: TableSchema[] = [];
  private readonly runs = new Set<LogicalRun>();

  constructor(private readonly options: PostgresLogicalCaptureOptions) {
    if (!NAME_RE.test(options.name)) {
      throw badRequest(
        'invalid_name',
        `capture name "${options.name}" must be 1 to 57 lower-case letters, digits or _ (it names a replication slot)`,
      );
    }
    this.name = options.name;
    this.objectName = `braid_${options.name}`;
    this.config = resolvePostgresConfig(options.config);
  }

  async install(tables: TableSchema[]): Promise<void> {
    if (tables.length === 0) throw badRequest('invalid_tables', 'capture needs at least one table');
    await withAdminClient(this.config, `install capture ${this.objectName}`, async (client) => {
      await checkReplicaIdentity(client, tables);
      await ensurePublication(client, this.objectName, tables);
      await ensureSlot(client, this.objectName);
    });
    this.tables = [...tables];
  }

  async uninstall(): Promise<void> {
    await Promise.all([...this.runs].map((run) => run.stop().catch(() => {})));
    await withAdminClient(this.config, `uninstall capture ${this.objectName}`, (client) =>
      dropCaptureObjects(client, this.objectName, this.objectName),
    );
  }

  /**
   * Starts streaming after `from`. A slot still held by a walsender that is going away (the run of
   * a lost connection or a killed process) is waited for up to `busyWaitMs`; a slot streaming to
   * a run of this instance is refused at once.
   */
  async start(from: string | null, handler: ChangeHandler): Promise<CaptureRun> {
    const fromPosition = from === null ? null : parsePosition(from);
    if (this.runs.size > 0) {
      throw new BraidError(
        409,
        'capture_busy',
        `"${this.objectName}" is streaming already: stop that run first`,
        {
          slot: this.objectName,
        },
      );
    }
    const deadline = Date.now() + (this.options.busyWaitMs ?? 5_000);
    for (;;) {
      try {
        return await this.startOnce(fromPosition, from, handler);
      } catch (err) {
        if (!isBraidError(err) || err.code !== 'capture_busy' || Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private async startOnce(
    fromPosition: LogicalPosition | null,
    from: string | null,
    handler: ChangeHandler,
  ): Promise<CaptureRun> {
    const facts = await withAdminClient(this.config, `start capture ${this.objectName}`, (client) =>
      streamFacts(client, this.objectName),
    );
    const pluginOptions = [`proto_version '1'`, `publication_names '"${this.objectName}"'`];
    // Logical messages (origin tags) reach pgoutput subscribers from PostgreSQL 14 on.
    if (facts.serverVersion >= 140000) pluginOptions.push(`messages 'true'`);
    const run = new LogicalRun({
      connection: {
        client: this.config.client,
        slot: this.objectName,
        pluginOptions,
        ...(this.options.feedbackIntervalMs ? { feedbackIntervalMs: this.options.feedbackIntervalMs } : {}),
        ...(this.options.silenceTimeoutMs ? { silenceTimeoutMs: this.options.silenceTimeoutMs } : {}),
      },
      decoder: new ChangeDecoder(this.options.source, this.tables, facts.domainBase),
      handler,
      ...(this.options.onTruncate ? { onTruncate: this.options.onTruncate } : {}),
      from: fromPosition,
      fromText: from,
      confirmedFlush: facts.confirmedFlush,
      maxBatchEvents: this.options.maxBatchEvents ?? 10_000,
    });
    try {
      await run.start();
    } catch (err) {
      await run.stop().catch(() => {});
      throw streamStartError(err, this.objectName);
    }
    this.runs.add(run);
    run.done.then(
      () => this.runs.delete(run),
      () => this.runs.delete(run),
    );
    return run;
  }

  /**
   * Runs `fn` in one transaction whose first statement is a transactional logical message
   * (`braid.origin` = origin). The message is decoded in the same transaction as the writes, so
   * the stream attaches `origin` to every event of that transaction and of no other. Works for any
   * role on PostgreSQL 15 (pg_logical_emit_message needs no replication privilege); the events
   * carry it from PostgreSQL 14 on (pgoutput's `messages` option).
   */
  async withOrigin<T>(connector: Connector, origin: string, fn: (tx: Connector) => Promise<T>): Promise<T> {
    if (origin.length === 0) throw badRequest('invalid_origin', 'origin must not be empty');
    return connector.transaction(async (tx) => {
      await tx.rawQuery(
        'select pg_logical_emit_message(true, cast(:prefix as text), cast(:origin as text))',
        {
          prefix: ORIGIN_MESSAGE_PREFIX,
          origin,
        },
      );
      return fn(tx);
    });
  }
}

/** The server's refusals at START_REPLICATION, in words that say what to do. */
function streamStartError(err: unknown, slot: string): Error {
  if (isBraidError(err)) return err;
  const e = err as { code?: string; message?: string };
  const fail = (status: number, code: string, message: string): BraidError =>
    new BraidError(status, code, message, { slot }, { cause: err });
  if (e.code === '55006') {
    return fail(
      409,
      'capture_busy',
      `The replication slot "${slot}" is streaming to another client already: stop that run first (${e.message})`,
    );
  }
  if (e.code === '42704') {
    return fail(
      409,
      'capture_not_installed',
      `The replication slot "${slot}" does not exist: install the capture first`,
    );
  }
  return fail(
    502,
    'capture_stream_failed',
    `Could not start streaming from "${slot}": ${e.message ?? String(err)}`,
  );
}
