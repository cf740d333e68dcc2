import { once } from 'node:events';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import type { PoolConnection } from 'mysql2';
import { badRequest } from '../../model/errors.js';
import type { ColumnSchema, TableSchema } from '../../model/schema.js';
import type { Row } from '../../model/values.js';
import type { MysqlAdapter } from './mysql-adapter.js';
import type { ServerInfo } from './mysql-session.js';
import { encodeValue, SqlNumber } from './mysql-types.js';

/** Rows are written to the LOAD DATA stream in chunks of about this many bytes. */
const CHUNK_BYTES = 256 * 1024;
/**
 * mysql2 writes the file to the socket without waiting for it to drain, so the generator waits
 * here instead: memory stays bounded when the source is faster than the server.
 */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

interface LoadContext {
  conn: PoolConnection;
  db: Kysely<any>;
  adapter: MysqlAdapter;
  server: ServerInfo;
  table: TableSchema;
}

/**
 * Loads rows with LOAD DATA LOCAL INFILE, streaming tab-separated text generated from the batches
 * (constant memory). Runs on the caller's transaction connection, so a failure rolls back all.
 *
 * With LOCAL the server cannot stop the client mid-file, so it treats every data error as a
 * warning and keeps going (as with IGNORE). The warnings are therefore read after each statement
 * and the first one is raised as the error it stands for: the load is all or nothing.
 * Consecutive rows with the same column set share one statement; a different set starts another.
 */
export async function loadDataLocal(
  ctx: LoadContext,
  batches: AsyncIterable<Row[]> | Iterable<Row[]>,
): Promise<number> {
  const rows = flatten(batches);
  let next = await rows.next();
  let loaded = 0;
  while (!next.done) {
    const columns = Object.keys(next.value);
    const schemas = columns.map((name) => findColumn(ctx.table, name));
    const signature = columns.join('\u0000');
    let sent = 0;
    const first = next.value;
    // Pulls rows until the column set changes; the row that differs is kept for the next statement.
    const segment = async function* (): AsyncGenerator<Buffer> {
      let chunk = '';
      let row: Row | undefined = first;
      while (row) {
        chunk += tsvLine(schemas, row);
        sent++;
        if (chunk.length >= CHUNK_BYTES) {
          await drained(ctx.conn);
          yield Buffer.from(chunk, 'utf8');
          chunk = '';
        }
        next = await rows.next();
        row = !next.done && Object.keys(next.value).join('\u0000') === signature ? next.value : undefined;
      }
      if (chunk) yield Buffer.from(chunk, 'utf8');
    };
    const affected = await runLoad(ctx, columns, Readable.from(segment()));
    if (affected !== sent) {
      throw ctx.adapter.translateError(
        { message: `LOAD DATA stored ${affected} of ${sent} rows` },
        `load data local infile into ${ctx.table.name}`,
        [],
      );
    }
    loaded += sent;
  }
  return loaded;
}

async function drained(conn: PoolConnection): Promise<void> {
  const socket = (conn as unknown as { stream?: Socket }).stream;
  while (socket && !socket.destroyed && socket.writableLength > MAX_BUFFERED_BYTES) {
    await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
  }
}

async function* flatten(batches: AsyncIterable<Row[]> | Iterable<Row[]>): AsyncGenerator<Row> {
  for await (const batch of batches) yield* batch;
}

/** Binary goes through base64 and BIT through a number, so no raw bytes meet the text decoder. */
function viaVariable(column: ColumnSchema): 'base64' | 'bit' | null {
  if (column.type === 'binary') return 'base64';
  if (/^bit\b/i.test(column.nativeType)) return 'bit';
  return null;
}

function loadStatement(ctx: LoadContext, columns: string[]): string {
  const targets: ReturnType<typeof sql.id>[] = [];
  const assignments: ReturnType<typeof sql.id>[] = [];
  columns.forEach((name, i) => {
    const column = findColumn(ctx.table, name);
    const mode = viaVariable(column);
    if (!mode) return targets.push(sql.id(name));
    const variable = sql.raw(`@v${i}`);
    targets.push(variable);
    assignments.push(
      mode === 'base64'
        ? sql`${sql.id(name)} = from_base64(${variable})`
        : sql`${sql.id(name)} = cast(${variable} as unsigned)`,
    );
  });
  const set = assignments.length ? sql` set ${sql.join(assignments)}` : sql``;
  // MariaDB: lift the session's statement time limit for this statement only; MySQL's
  // max_execution_time never applies to LOAD DATA.
  const prefix =
    ctx.server.flavor === 'mariadb' ? sql.raw('set statement max_statement_time = 0 for ') : sql``;
  const statement = sql`${prefix}load data local infile 'braid-rows.tsv' into table ${ctx.adapter.table(ctx.table)}
    character set utf8mb4 fields terminated by '\t' escaped by '\\\\' lines terminated by '\n'
    (${sql.join(targets)})${set}`;
  return statement.compile(ctx.db).sql;
}

async function runLoad(ctx: LoadContext, columns: string[], stream: Readable): Promise<number> {
  const text = loadStatement(ctx, columns);
  const result = await new Promise<{ affectedRows: number; warningStatus: number }>((resolve, reject) => {
    ctx.conn.query({ sql: text, infileStreamFactory: () => stream }, (err: unknown, res: unknown) =>
      err
        ? reject(ctx.adapter.translateError(err, text, []))
        : resolve(res as { affectedRows: number; warningStatus: number }),
    );
  });
  if (result.warningStatus > 0) {
    const problem = await firstProblem(ctx.conn);
    if (problem) throw ctx.adapter.translateError(problem, text, []);
  }
  return result.affectedRows;
}

/** The first real warning of the last statement (notes such as decimal rounding are not errors). */
async function firstProblem(conn: PoolConnection): Promise<{ errno: number; sqlMessage: string } | null> {
  const rows = await new Promise<{ Level: string; Code: number; Message: string }[]>((resolve, reject) =>
    conn.query('show warnings limit 20', (err: unknown, res: unknown) =>
      err ? reject(err) : resolve(res as never),
    ),
  );
  const bad = rows.find((r) => r.Level !== 'Note');
  return bad ? { errno: Number(bad.Code), sqlMessage: bad.Message } : null;
}

function findColumn(table: TableSchema, name: string): ColumnSchema {
  const column = table.columns.find((c) => c.name === name);
  if (!column) {
    throw badRequest('unknown_field', `unknown column "${name}" in table "${table.name}"`, {
      field: name,
      table: table.name,
    });
  }
  return column;
}

/** One row as a LOAD DATA line: `\N` is NULL; backslash, tab, newline, CR and NUL are escaped. */
export function tsvLine(columns: ColumnSchema[], row: Row): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) line += '\t';
    line += tsvField(columns[i]!, row[columns[i]!.name]);
  }
  return `${line}\n`;
}

export function tsvField(column: ColumnSchema, value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (column.type === 'binary') {
    return Buffer.isBuffer(value) ? value.toString('base64') : String(value);
  }
  const encoded = encodeValue(column, value);
  if (encoded === null) return '\\N';
  const text =
    encoded instanceof SqlNumber
      ? encoded.text
      : Buffer.isBuffer(encoded)
        ? encoded.toString('utf8')
        : String(encoded);
  return escapeTsv(text);
}

export function escapeTsv(text: string): string {
  if (!/[\\\t\n\r\0]/.test(text)) return text;
  return text.replace(/[\\\t\n\r\0]/g, (ch) =>
    ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : '\\0',
  );
}
