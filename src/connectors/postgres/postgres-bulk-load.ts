import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { ColumnSchema, TableSchema } from '../../model/schema.js';
import { badRequest } from '../../model/errors.js';
import type { Row } from '../../model/values.js';
import { encodeValue } from './postgres-codec.js';
import { quoteIdentifier } from './postgres-types.js';

/**
 * COPY ... FROM STDIN in text format: the fastest way into PostgreSQL (one statement, no per-row
 * parameters). The caller runs it inside a transaction, so a failure anywhere loads nothing.
 * Writes wait for 'drain' when the socket buffer is full, so memory stays at about one batch
 * however large or slow the source is.
 */

/** Text-format escaping: backslash, and the characters that would end a field or a row. */
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** One value in COPY text format (`\N` is NULL). */
export function copyField(column: ColumnSchema, value: unknown): string {
  const encoded = encodeValue(column, value);
  if (encoded === null || encoded === undefined) return '\\N';
  // The common cases first: no escaping to look for in a number, most strings need none.
  if (typeof encoded === 'number') return String(encoded);
  if (typeof encoded === 'string')
    return NEEDS_ESCAPE.test(encoded) ? encoded.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : encoded;
  let text: string;
  if (Buffer.isBuffer(encoded)) text = `\\x${encoded.toString('hex')}`;
  else if (typeof encoded === 'boolean') text = encoded ? 't' : 'f';
  else if (typeof encoded === 'object') text = JSON.stringify(encoded);
  else text = String(encoded);
  return text.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!);
}

function copyStatement(table: TableSchema, columns: ColumnSchema[]): string {
  const target = table.schema
    ? `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`
    : quoteIdentifier(table.name);
  return `copy ${target} (${columns.map((c) => quoteIdentifier(c.name)).join(', ')}) from stdin`;
}

/** The statement currently streaming, kept so a failure can be reported with it. */
export interface CopyProgress {
  statement: string;
}

type CopyStream = ReturnType<typeof copyFrom>;

/** One COPY statement in flight; `failed` rejects as soon as the server reports an error. */
class CopyRun {
  readonly stream: CopyStream;
  private readonly done: Promise<void>;
  /**
   * `done` as seen by `write`, made once: a `.then` per write would add a reaction to `done` (pending
   * until the COPY ends) whose closure shares the write's scope, keeping every chunk ever written alive.
   */
  private readonly ended: Promise<void>;
  /** Finished or failed: the server is no longer in COPY mode for this statement. */
  private settled = false;

  constructor(client: pg.PoolClient, statement: string) {
    this.stream = client.query(copyFrom(statement));
    this.done = new Promise<void>((resolve, reject) => {
      this.stream.once('finish', () => {
        this.settled = true;
        resolve();
      });
      this.stream.once('error', (err) => {
        this.settled = true;
        reject(err);
      });
    });
    // Observed here so an error arriving while nobody awaits is not an unhandled rejection.
    this.done.catch(() => {});
    this.ended = this.done.then(() => undefined);
    this.ended.catch(() => {});
  }

  /**
   * Waits until the chunk has reached the socket (the write callback), racing the server's error.
   * One chunk in flight at a time is the back-pressure, and it guarantees nothing is left queued
   * inside the stream when the server aborts the COPY (pg-copy-streams cannot flush after that).
   */
  async write(chunk: string): Promise<void> {
    const written = new Promise<void>((resolve, reject) => {
      this.stream.write(chunk, (err) => (err ? reject(err) : resolve()));
    });
    await Promise.race([written, this.ended]);
  }

  async end(): Promise<void> {
    this.stream.end();
    await this.done;
  }

  /**
   * Ends a COPY the server still runs (the source failed) with CopyFail, so the connection leaves
   * COPY mode. Not after a server error: pg-copy-streams has already let go of the connection then.
   */
  async abort(reason: Error): Promise<void> {
    if (this.settled) return;
    this.stream.destroy(reason);
    await this.done.catch(() => {});
  }
}

/**
 * Streams the batches through COPY on `client` (already inside a transaction). Rows with a different
 * set of keys start a new COPY, because a COPY has one column list and absent columns must get
 * their defaults, not NULL. An error (from the server or from the source iterable) propagates and
 * the caller's transaction rolls back; when the source fails mid-COPY, the COPY is ended with
 * CopyFail so the connection stays usable.
 */
export async function copyRows(
  client: pg.PoolClient,
  table: TableSchema,
  batches: AsyncIterable<Row[]> | Iterable<Row[]>,
  progress: CopyProgress,
): Promise<number> {
  let run: CopyRun | null = null;
  let signature = '';
  let columns: ColumnSchema[] = [];
  /** The previous row's keys as they came: rows built alike skip the sort and join below. */
  let lastKeys: string[] = [];
  let count = 0;
  try {
    for await (const batch of batches) {
      let chunk = '';
      for (const row of batch) {
        const unsorted = Object.keys(row);
        const same = run !== null && sameKeys(unsorted, lastKeys);
        lastKeys = unsorted;
        const keys = same ? [] : [...unsorted].sort(); // key order must not split a COPY
        if (!same && (!run || keys.join('\u0000') !== signature)) {
          if (run) {
            if (chunk) await run.write(chunk);
            chunk = '';
            await run.end();
          }
          columns = columnsOf(table, keys);
          signature = keys.join('\u0000');
          progress.statement = copyStatement(table, columns);
          run = new CopyRun(client, progress.statement);
        }
        chunk += `${columns.map((c) => copyField(c, row[c.name])).join('\t')}\n`;
        count++;
      }
      if (run && chunk) await run.write(chunk);
    }
    if (run) await run.end();
    return count;
  } catch (err) {
    await (run as CopyRun | null)?.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function columnsOf(table: TableSchema, keys: string[]): ColumnSchema[] {
  if (keys.length === 0) throw badRequest('invalid_row', 'bulk load rows need at least one column');
  return keys.map((name) => {
    const column = table.columns.find((c) => c.name === name);
    if (!column)
      throw badRequest('unknown_field', `unknown column "${name}" in table "${table.name}"`, { field: name });
    return column;
  });
}
