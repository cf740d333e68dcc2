import { createHash } from 'node:crypto';
import type { Connector } from '../../connectors/connector.js';
import type { ChangeEvent } from '../../model/change-event.js';
import { badRequest } from '../../model/errors.js';
import { qualifiedName, type TableSchema } from '../../model/schema.js';
import type { Row } from '../../model/values.js';
import type { CaptureStrategy, ChangeHandler } from '../capture-strategy.js';
import { startPollLoop, type PollingRun } from '../triggers/poll-loop.js';
import { plainTransaction } from './polling-common.js';
import { SnapshotStore, type StoredRow } from './snapshot-store.js';

export interface SnapshotDiffOptions {
  /** Source id carried by every event. */
  source: string;
  /** Consumer name: names the snapshot file `braid-snapshots-<name>.sqlite`. */
  name: string;
  connector: Connector;
  /** Local directory for the snapshot file (keep it as durable as the consumer's positions). */
  directory: string;
  /** Pause between polls when nothing changed (default 5 000 ms: every poll reads whole tables). */
  pollIntervalMs?: number;
  /** Rows per streamed batch and events per handler call (default 1 000). */
  batchSize?: number;
  /** Keep each row's image so updates and deletes carry `before` (default true; false stores digests only). */
  keepImages?: boolean;
  maxReadFailures?: number;
}

const NAME_RE = /^[a-z][a-z0-9_]{0,39}$/;
const DIGITS = 12;

const positionOf = (snapshot: number, seq: number): string =>
  `${String(snapshot).padStart(DIGITS, '0')}.${String(seq).padStart(DIGITS, '0')}`;

function parsePosition(position: string): { snapshot: number; seq: number } {
  const m = /^(\d+)\.(\d+)$/.exec(position);
  if (!m) throw new Error(`"${position}" is not a snapshot-diff position`);
  return { snapshot: Number(m[1]), seq: Number(m[2]) };
}

/**
 * Polling capture by keyed snapshot diff, for read-only sources without a usable "updated at"
 * column: each poll streams every table (constant memory per batch), compares each row's digest
 * with the previous snapshot by primary key and reports inserts, updates and deletes. Only the
 * state at each poll is seen: a row changed twice between polls is one update, inserted and deleted
 * between polls nothing. `commitTime` is the time of the poll.
 *
 * Snapshots live in a local SQLite file under `directory`; the position `<snapshot>.<event>` names
 * a snapshot and how many events of the diff that produced it were delivered, so a consumer
 * resumes mid-diff. Snapshots older than the one before the last acknowledged are pruned. When
 * the file is lost, the next start takes a fresh baseline: changes made meanwhile are not reported.
 */
export class SnapshotDiffCapture implements CaptureStrategy {
  readonly kind = 'polling' as const;
  readonly name: string;
  private tables: TableSchema[] | null = null;
  private store: SnapshotStore | null = null;

  constructor(private readonly options: SnapshotDiffOptions) {
    if (!NAME_RE.test(options.name)) {
      throw badRequest(
        'invalid_name',
        `capture name "${options.name}" must be 1-40 lower-case letters, digits or _`,
      );
    }
    this.name = options.name;
  }

  /** Checks the tables have primary keys; nothing is created on the source. */
  async install(tables: TableSchema[]): Promise<void> {
    const keyless = tables.find((t) => t.primaryKey.length === 0);
    if (keyless)
      throw badRequest('no_primary_key', `"${keyless.name}" has no primary key to compare rows by`);
    this.tables = tables;
  }

  /** Forgets every snapshot (the local file's rows); nothing exists on the source. */
  async uninstall(): Promise<void> {
    this.openStore().prune(Number.MAX_SAFE_INTEGER);
    this.store?.close();
    this.store = null;
    this.tables = null;
  }

  async start(from: string | null, handler: ChangeHandler): Promise<PollingRun> {
    const tables = this.tables;
    if (!tables) throw new Error('install(tables) must be called before start()');
    const store = this.openStore();
    let start: string;
    const known = from === null ? null : store.snapshot(parsePosition(from).snapshot);
    if (from !== null && known) start = from;
    else {
      // First start, or the snapshots are gone: a baseline, reported as no change.
      const id = (store.latest()?.id ?? (from === null ? 0 : parsePosition(from).snapshot)) + 1;
      await this.build(tables, id, null);
      start = positionOf(id, 0);
    }
    return startPollLoop(start, (position) => this.read(tables, position ?? start), handler, {
      intervalMs: this.options.pollIntervalMs ?? 5000,
      maxReadFailures: this.options.maxReadFailures ?? 5,
      onAcknowledged: async (_position, previous) => {
        if (previous !== null) store.prune(parsePosition(previous).snapshot);
      },
    });
  }

  /** Marks nothing (see UpdatedAtCapture.withOrigin): the consumer suppresses echoes by comparing values. */
  withOrigin<T>(connector: Connector, _origin: string, fn: (tx: Connector) => Promise<T>): Promise<T> {
    return plainTransaction(connector, fn);
  }

  private openStore(): SnapshotStore {
    this.store ??= new SnapshotStore(this.options.directory, this.name);
    return this.store;
  }

  private limit(): number {
    return this.options.batchSize ?? 1000;
  }

  private async read(tables: TableSchema[], position: string): Promise<ChangeEvent[]> {
    const store = this.openStore();
    const { snapshot, seq } = parsePosition(position);
    let pending = store.events(snapshot, seq, this.limit());
    let current = snapshot;
    if (pending.length === 0) {
      // Everything of `snapshot` is delivered: diff the tables now against it.
      current = snapshot + 1;
      await this.build(tables, current, snapshot);
      pending = store.events(current, 0, this.limit());
    }
    return pending.map((p) => ({
      ...(JSON.parse(p.event) as ChangeEvent),
      position: positionOf(current, p.seq),
    }));
  }

  /** Takes snapshot `id` of every table; with a `previous` snapshot, records the diff's events. */
  private async build(tables: TableSchema[], id: number, previous: number | null): Promise<void> {
    const store = this.openStore();
    store.begin(id);
    const commitTime = new Date().toISOString();
    const keepImages = this.options.keepImages ?? true;
    let seq = 0;
    for (const table of tables) {
      const name = qualifiedName(table, this.options.connector.defaultSchema);
      const event = (op: ChangeEvent['op'], key: Row, extra: Partial<ChangeEvent>): string =>
        JSON.stringify({
          source: this.options.source,
          table: name,
          op,
          key,
          commitTime,
          position: '',
          ...extra,
        });
      for await (const batch of this.options.connector.stream(table, { batchSize: this.limit() })) {
        const rows: [string, string, StoredRow][] = [];
        const events: string[] = [];
        for (const row of batch) {
          const keyValues = table.primaryKey.map((k) => row[k]);
          const key = JSON.stringify(keyValues);
          const image = JSON.stringify(row);
          const digest = createHash('sha1').update(image).digest('base64');
          rows.push([name, key, { digest, image: keepImages ? image : null }]);
          if (previous === null) continue;
          const old = store.get(previous, name, key);
          const keyRow = Object.fromEntries(table.primaryKey.map((k) => [k, row[k]]));
          if (!old) events.push(event('insert', keyRow, { after: row }));
          else if (old.digest !== digest) {
            events.push(
              event('update', keyRow, {
                after: row,
                ...(old.image ? { before: JSON.parse(old.image) as Row } : {}),
              }),
            );
          }
        }
        store.write(id, rows, events, seq + 1);
        seq += events.length;
      }
      if (previous === null) continue;
      let afterKey = '';
      for (;;) {
        const gone = store.vanished(previous, id, name, afterKey, this.limit());
        if (gone.length === 0) break;
        const events = gone.map((g) => {
          const values = JSON.parse(g.key) as unknown[];
          const key = Object.fromEntries(table.primaryKey.map((k, i) => [k, values[i]]));
          return event('delete', key, g.image ? { before: JSON.parse(g.image) as Row } : {});
        });
        store.write(id, [], events, seq + 1);
        seq += events.length;
        afterKey = gone[gone.length - 1]!.key;
      }
    }
    store.complete(id, seq);
  }
}
