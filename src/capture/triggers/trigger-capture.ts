import type { Connector } from '../../connectors/connector.js';
import { badRequest } from '../../model/errors.js';
import type { TableSchema } from '../../model/schema.js';
import type { CaptureAvailability, CaptureStrategy, ChangeHandler } from '../capture-strategy.js';
import { ChangelogReader, idOf } from './changelog-reader.js';
import { startPollLoop, type PollingRun } from './poll-loop.js';
import {
  captureNames,
  triggerDialectFor,
  type CaptureNames,
  type TriggerDialect,
} from './trigger-dialect.js';

export interface TriggerCaptureOptions {
  /** Source id carried by every event. */
  source: string;
  /** Consumer name: lower-case letters, digits and `_`; names `braid_changelog_<name>` and the triggers. */
  name: string;
  /** A connector of the source; the changelog is read and the triggers created through it. */
  connector: Connector;
  /** Schema of the changelog on engines with schemas (default: the connector's default schema). */
  schema?: string;
  /** Pause between polls when nothing new was found (default 200 ms). */
  pollIntervalMs?: number;
  /** Events per handler call at most (default 500). */
  batchSize?: number;
  /**
   * Only where the engine cannot list open writers (MySQL without the PROCESS privilege): how long
   * an id waits before later ids are delivered past a gap that an open transaction may still fill
   * (default 5 000 ms).
   */
  graceMs?: number;
  /** Consecutive failed reads that end a run (default 5). */
  maxReadFailures?: number;
}

const NAME_RE = /^[a-z][a-z0-9_]{0,39}$/;

/**
 * Trigger-based capture for PostgreSQL, MySQL/MariaDB and SQLite, where log-based capture is off but
 * Braid may create objects. `install` creates a changelog table `braid_changelog_<name>` and AFTER
 * INSERT/UPDATE/DELETE triggers `braid_<name>_<table>_{ins,upd,del}` that write one row per change
 * (row images as JSON built by the database); `start` polls the changelog in id order and delivers
 * wire-valued ChangeEvents; `uninstall` drops all of it.
 *
 * Positions are changelog ids, zero-padded to 20 digits (they compare as strings). Rows are deleted
 * from the changelog once a later batch is acknowledged: the last acknowledged batch stays, so a
 * consumer that restarts from the position before it still finds its rows.
 *
 * @example
 * const capture = new TriggerCapture({ source: 'crm', name: 'sync_customers', connector });
 * await capture.install([customers]);
 * const run = await capture.start(storedPosition, async (events) => {
 *   for (const e of events) await apply(e); // idempotent: delivery is at least once
 *   await savePosition(events.at(-1)!.position);
 * });
 * await capture.withOrigin(connector, 'sync_customers', (tx) => tx.update(customers, { id: 1 }, { email }));
 * await run.stop();
 */
export class TriggerCapture implements CaptureStrategy {
  readonly kind = 'triggers' as const;
  readonly name: string;
  private readonly names: CaptureNames;
  private readonly dialect: TriggerDialect;
  private tables: TableSchema[] | null = null;

  constructor(private readonly options: TriggerCaptureOptions) {
    if (!NAME_RE.test(options.name)) {
      throw badRequest(
        'invalid_name',
        `capture name "${options.name}" must be 1-40 lower-case letters, digits or _ (starting with a letter)`,
      );
    }
    this.name = options.name;
    const connector = options.connector;
    const schema = connector.capabilities.schemas ? (options.schema ?? connector.defaultSchema) : null;
    this.names = captureNames(options.name, schema);
    this.dialect = triggerDialectFor(connector);
  }

  /** Creates the changelog if missing and replaces this consumer's triggers with ones for `tables`. */
  async install(tables: TableSchema[]): Promise<void> {
    for (const table of tables) {
      if (table.kind !== 'table') {
        throw badRequest('not_a_table', `"${table.name}" is a view: only tables can have triggers`);
      }
    }
    await this.dialect.install(this.options.connector, this.names, tables);
    this.tables = tables;
  }

  /** Drops the triggers (also of tables no longer installed) and the changelog with its rows. */
  async uninstall(): Promise<void> {
    await this.dialect.uninstall(this.options.connector, this.names);
    this.tables = null;
  }

  /**
   * Polls the changelog after `from`. `null` reads it from its beginning: every change since
   * `install` that was not pruned after an acknowledgement (as a replication slot keeps what
   * happened since it was created), so nothing written between `install` and the first `start`
   * is lost. `install(tables)` must have run on this instance first (it is idempotent, so a
   * restarting consumer simply calls it again, also after altering a captured table: the images
   * follow the columns known at install time).
   */
  async start(from: string | null, handler: ChangeHandler): Promise<PollingRun> {
    if (!this.tables) throw new Error('install(tables) must be called before start()');
    if (from !== null) idOf(from);
    const connector = this.options.connector;
    const reader = new ChangelogReader(connector, this.dialect, this.names, this.tables, {
      source: this.options.source,
      batchSize: this.options.batchSize ?? 500,
      graceMs: this.options.graceMs ?? 5000,
    });
    return startPollLoop(from, (position) => reader.read(position), handler, {
      intervalMs: this.options.pollIntervalMs ?? 200,
      maxReadFailures: this.options.maxReadFailures ?? 5,
      onAcknowledged: async (_position, previous) => {
        if (previous === null) return;
        await connector.rawQuery(`delete from ${this.dialect.changelogSql(this.names)} where id <= :id`, {
          id: String(idOf(previous)),
        });
      },
    });
  }

  /**
   * Runs `fn` in one transaction tagged with `origin`: PostgreSQL a transaction-local setting
   * (`braid.origin`), MySQL/MariaDB the session variable `@braid_origin` (cleared before the
   * connection returns to the pool, also when `fn` fails), SQLite a row in `braid_origin_<name>`
   * that is emptied before the commit. The triggers copy it into the changelog, so these changes
   * come back with `origin` set.
   */
  async withOrigin<T>(connector: Connector, origin: string, fn: (tx: Connector) => Promise<T>): Promise<T> {
    return connector.transaction(async (tx) => {
      await this.dialect.tag(tx, this.names, origin);
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        await this.dialect.untag(tx, this.names).catch(() => undefined);
        throw err;
      }
      await this.dialect.untag(tx, this.names);
      return result;
    });
  }

  /** This consumer's triggers as the catalog lists them (for checks and tests). */
  listTriggers(): Promise<string[]> {
    return this.dialect.listTriggers(this.options.connector, this.names);
  }

  /** Whether the changelog table exists. */
  changelogExists(): Promise<boolean> {
    return this.dialect.changelogExists(this.options.connector, this.names);
  }
}

/**
 * Whether trigger capture can run on the source behind `connector`, with a reason people can act
 * on: the connector allows triggers, and the user may create them (PostgreSQL: CREATE on the
 * schema and TRIGGER on each of `tables`; MySQL/MariaDB: the TRIGGER and CREATE grants; SQLite: a
 * writable file).
 */
export async function probeTriggerCapture(
  connector: Connector,
  tables: TableSchema[] = [],
): Promise<CaptureAvailability> {
  if (!connector.capabilities.triggers) {
    return {
      kind: 'triggers',
      available: false,
      reason: 'this source does not allow Braid to create triggers',
    };
  }
  try {
    return { kind: 'triggers', ...(await triggerDialectFor(connector).probe(connector, tables)) };
  } catch (err) {
    return {
      kind: 'triggers',
      available: false,
      reason: `privileges could not be checked: ${(err as Error).message}`,
    };
  }
}
