import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { Connector, SourceConfig, SourceKind } from '../../src/connectors/connector.js';
import { createConnector } from '../../src/connectors/create-connector.js';
import type { ChangeEvent } from '../../src/model/change-event.js';
import type { TableDefinition, TableSchema } from '../../src/model/schema.js';
import type { CaptureStrategy } from '../../src/capture/capture-strategy.js';
import type { PollingRun } from '../../src/capture/triggers/poll-loop.js';
import { createMysqlDatabase, createPostgresSchema, POSTGRES_URL, uniqueName } from '../support/servers.js';

/**
 * Capture tests write as another tool would: through a plain driver connection (`pg`, `mysql2`,
 * `better-sqlite3`), not through Braid. Each file gets its own schema / database / file.
 */
export interface PlainSession {
  /** Runs SQL with `?` placeholders (rewritten to `$n` for PostgreSQL). */
  exec(sqlText: string, params?: unknown[]): Promise<void>;
  query(sqlText: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /**
   * One transaction of `statements`, committed or rolled back. On SQLite it runs synchronously:
   * in one process, a second better-sqlite3 connection waiting for the lock would block the event
   * loop and with it the transaction holding the lock (another program would not).
   */
  transaction(statements: [string, unknown[]][], commit: boolean): Promise<void>;
  close(): Promise<void>;
}

export interface CaptureDb {
  readonly kind: SourceKind;
  readonly connector: Connector;
  /** PostgreSQL schema of the tables, else null. */
  readonly schema: string | null;
  table(name: string): TableSchema;
  refresh(): Promise<void>;
  /** A new plain driver session on the isolated database (close it). */
  session(): Promise<PlainSession>;
  /** One statement on a short-lived plain session. */
  exec(sqlText: string, params?: unknown[]): Promise<void>;
  query(sqlText: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}

const dollarParams = (text: string): string => {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
};

async function plainSession(
  kind: SourceKind,
  target: { url?: string; schema?: string; file?: string },
): Promise<PlainSession> {
  if (kind === 'postgres') {
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    await client.query(`set search_path to "${target.schema}"`);
    return {
      exec: async (text, params = []) => void (await client.query(dollarParams(text), params)),
      query: async (text, params = []) => (await client.query(dollarParams(text), params)).rows,
      transaction: async (statements, commit) => {
        await client.query('begin');
        for (const [text, params] of statements) await client.query(dollarParams(text), params);
        await client.query(commit ? 'commit' : 'rollback');
      },
      close: () => client.end(),
    };
  }
  if (kind === 'mysql') {
    const conn = await mysql.createConnection({
      uri: target.url!,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    return {
      exec: async (text, params = []) => void (await conn.query(text, params)),
      query: async (text, params = []) => (await conn.query(text, params))[0] as Record<string, unknown>[],
      transaction: async (statements, commit) => {
        await conn.query('begin');
        for (const [text, params] of statements) await conn.query(text, params);
        await conn.query(commit ? 'commit' : 'rollback');
      },
      close: () => conn.end(),
    };
  }
  const db = new Database(target.file!, { timeout: 5000 });
  return {
    exec: async (text, params = []) => {
      const statement = db.prepare(text);
      if (statement.reader) statement.all(...params);
      else statement.run(...params);
    },
    query: async (text, params = []) => db.prepare(text).all(...params) as Record<string, unknown>[],
    transaction: async (statements, commit) => {
      db.exec('begin immediate');
      for (const [text, params] of statements) db.prepare(text).run(...params);
      db.exec(commit ? 'commit' : 'rollback');
    },
    close: async () => void db.close(),
  };
}

/** An isolated database with `definitions` created through Braid, plus plain driver access to it. */
export function useCaptureDb(kind: SourceKind, definitions: TableDefinition[]): CaptureDb {
  let connector: Connector | undefined;
  let target: { url?: string; schema?: string; file?: string } = {};
  let drop: () => Promise<void> = async () => undefined;
  let tables: TableSchema[] = [];

  const db: CaptureDb = {
    kind,
    get connector() {
      if (!connector) throw new Error('connector not open (did beforeAll fail?)');
      return connector;
    },
    get schema() {
      return target.schema ?? null;
    },
    table(name) {
      const found = tables.find((t) => t.name === name);
      if (!found) throw new Error(`table ${name} not found`);
      return found;
    },
    async refresh() {
      const all = (await db.connector.introspect()).tables;
      tables = all.filter((t) => (target.schema ? t.schema === target.schema : true));
    },
    session: () => plainSession(kind, target),
    async exec(text, params) {
      const s = await db.session();
      try {
        await s.exec(text, params);
      } finally {
        await s.close();
      }
    },
    async query(text, params) {
      const s = await db.session();
      try {
        return await s.query(text, params);
      } finally {
        await s.close();
      }
    },
  };

  beforeAll(async () => {
    let config: SourceConfig;
    if (kind === 'postgres') {
      const created = await createPostgresSchema('capture');
      target = { url: POSTGRES_URL, schema: created.schema };
      config = { url: POSTGRES_URL, schemas: [created.schema] };
      drop = created.drop;
    } else if (kind === 'mysql') {
      const created = await createMysqlDatabase('capture');
      target = { url: created.url };
      config = { url: created.url };
      drop = created.drop;
    } else {
      const file = join(tmpdir(), `${uniqueName('braid-capture')}.sqlite`);
      target = { file };
      config = { file, create: true } as SourceConfig;
      drop = async () => {
        await Promise.all(['', '-wal', '-shm', '-journal'].map((s) => rm(file + s, { force: true })));
      };
    }
    connector = createConnector(kind, config);
    for (const definition of definitions)
      await connector.createTable({ ...definition, schema: target.schema ?? null });
    await db.refresh();
  });

  afterAll(async () => {
    await connector?.close();
    await drop();
  });

  return db;
}

/** A started run whose events are collected, with a bounded wait for them. */
export interface Collector {
  run: PollingRun;
  events: ChangeEvent[];
  /** Polls until at least `count` events arrived (fails after `timeoutMs`); answers all of them. */
  waitFor(count: number, timeoutMs?: number): Promise<ChangeEvent[]>;
  /** Polls a few times and answers what arrived (for "nothing more arrives" checks). */
  settle(polls?: number): Promise<ChangeEvent[]>;
}

export async function collect(
  strategy: CaptureStrategy,
  from: string | null,
  handler?: (events: ChangeEvent[]) => Promise<void>,
): Promise<Collector> {
  const events: ChangeEvent[] = [];
  const run = (await strategy.start(from, async (batch) => {
    if (handler) await handler(batch);
    events.push(...batch);
  })) as PollingRun;
  let failure: unknown = null;
  run.done.catch((err: unknown) => {
    failure = err;
  });
  return {
    run,
    events,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (failure) throw failure;
        if (Date.now() > deadline) {
          const seen = events.map((e) => `${e.op} ${JSON.stringify(e.key)} @${e.position}`).slice(-10);
          throw new Error(
            `expected ${count} events within ${timeoutMs} ms, got ${events.length}; last: ${seen.join(', ')}`,
          );
        }
        await run.pollNow();
      }
      return events;
    },
    async settle(polls = 3) {
      for (let i = 0; i < polls; i++) await run.pollNow();
      return events;
    },
  };
}
