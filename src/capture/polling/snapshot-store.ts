import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** A row of a snapshot: its digest, and its image when images are kept (for `before`). */
export interface StoredRow {
  digest: string;
  image: string | null;
}

/**
 * Local SQLite file holding the snapshots of one snapshot-diff consumer: per snapshot, one digest
 * (and image) per primary key, and the events of the diff that produced it, numbered. Keeping the
 * diff's events in the file makes delivery resumable at any event and keeps memory constant.
 */
export class SnapshotStore {
  private readonly db: Database.Database;
  private getRow: Database.Statement | undefined;

  constructor(directory: string, name: string) {
    mkdirSync(directory, { recursive: true });
    this.db = new Database(join(directory, `braid-snapshots-${name}.sqlite`));
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      create table if not exists snapshots (id integer primary key, complete integer not null default 0, events integer not null default 0);
      create table if not exists rows (snapshot integer not null, tbl text not null, key text not null,
        digest text not null, image text, primary key (snapshot, tbl, key)) without rowid;
      create table if not exists events (snapshot integer not null, seq integer not null, event text not null,
        primary key (snapshot, seq)) without rowid;`);
  }

  /** The newest complete snapshot, or null. */
  latest(): { id: number; events: number } | null {
    const row = this.db
      .prepare('select id, events from snapshots where complete = 1 order by id desc limit 1')
      .get() as { id: number; events: number } | undefined;
    return row ?? null;
  }

  snapshot(id: number): { id: number; events: number } | null {
    const row = this.db.prepare('select id, events from snapshots where id = ? and complete = 1').get(id) as
      { id: number; events: number } | undefined;
    return row ?? null;
  }

  /** Starts snapshot `id`, dropping what an interrupted earlier attempt left. */
  begin(id: number): void {
    this.db.transaction(() => {
      for (const table of ['rows', 'events'])
        this.db.prepare(`delete from ${table} where snapshot = ?`).run(id);
      this.db.prepare('insert or replace into snapshots (id, complete, events) values (?, 0, 0)').run(id);
    })();
  }

  get(snapshot: number, table: string, key: string): StoredRow | null {
    // Prepared once: this runs for every row of every poll.
    this.getRow ??= this.db.prepare(
      'select digest, image from rows where snapshot = ? and tbl = ? and key = ?',
    );
    const row = this.getRow.get(snapshot, table, key) as StoredRow | undefined;
    return row ?? null;
  }

  /** Writes one batch of rows and events of snapshot `id` in one transaction. */
  write(id: number, rows: [string, string, StoredRow][], events: string[], firstSeq: number): void {
    const putRow = this.db.prepare('insert or replace into rows values (?, ?, ?, ?, ?)');
    const putEvent = this.db.prepare('insert into events values (?, ?, ?)');
    this.db.transaction(() => {
      for (const [table, key, row] of rows) putRow.run(id, table, key, row.digest, row.image);
      events.forEach((event, i) => putEvent.run(id, firstSeq + i, event));
    })();
  }

  /**
   * Keys of `table` in snapshot `previous` missing from `next` (the deletes), one page after
   * `afterKey`: pages rather than one open iterator, because the caller writes between pages.
   */
  vanished(
    previous: number,
    next: number,
    table: string,
    afterKey: string,
    limit: number,
  ): { key: string; image: string | null }[] {
    return this.db
      .prepare(
        `select p.key, p.image from rows p where p.snapshot = ? and p.tbl = ? and p.key > ?
           and not exists (select 1 from rows n where n.snapshot = ? and n.tbl = p.tbl and n.key = p.key)
         order by p.key limit ?`,
      )
      .all(previous, table, afterKey, next, limit) as { key: string; image: string | null }[];
  }

  complete(id: number, events: number): void {
    this.db.prepare('update snapshots set complete = 1, events = ? where id = ?').run(events, id);
  }

  /** Events of snapshot `id` after `seq`, at most `limit`. */
  events(id: number, seq: number, limit: number): { seq: number; event: string }[] {
    return this.db
      .prepare('select seq, event from events where snapshot = ? and seq > ? order by seq limit ?')
      .all(id, seq, limit) as { seq: number; event: string }[];
  }

  /** Drops snapshots older than `keepFrom` (their rows and events). */
  prune(keepFrom: number): void {
    this.db.transaction(() => {
      for (const table of ['rows', 'events'])
        this.db.prepare(`delete from ${table} where snapshot < ?`).run(keepFrom);
      this.db.prepare('delete from snapshots where id < ?').run(keepFrom);
    })();
  }

  close(): void {
    this.db.close();
  }
}
