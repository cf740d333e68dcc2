import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Connector } from '../../src/connectors/connector.js';
import { createSqliteConnector, type SqliteConnectorConfig } from '../../src/connectors/sqlite/index.js';
import type { TableSchema } from '../../src/model/schema.js';

/**
 * A temporary folder for SQLite files, removed by `cleanup()`. Tests set up schemas with
 * better-sqlite3 directly (the way another application would) and read them through the connector.
 */
export interface SqliteSandbox {
  dir: string;
  /** Path of a database file in the sandbox. */
  file(name?: string): string;
  /** Runs SQL on the file with a plain better-sqlite3 connection, then closes it. */
  exec(file: string, statements: string): void;
  /** A connector on the file; closed by cleanup(). */
  connect(file: string, options?: Omit<SqliteConnectorConfig, 'file'>): Connector;
  cleanup(): Promise<void>;
}

export function createSandbox(): SqliteSandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braid-sqlite-'));
  const connectors: Connector[] = [];
  return {
    dir,
    file: (name = 'test.db') => path.join(dir, name),
    exec(file, statements) {
      const db = new Database(file);
      try {
        db.exec(statements);
      } finally {
        db.close();
      }
    },
    connect(file, options = {}) {
      const connector = createSqliteConnector({ file, ...options });
      connectors.push(connector);
      return connector;
    },
    async cleanup() {
      for (const c of connectors) await c.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function tableOf(connector: Connector, name: string): Promise<TableSchema> {
  const schema = await connector.introspect();
  const table = schema.tables.find((t) => t.name === name);
  if (!table) throw new Error(`table ${name} not found in ${schema.tables.map((t) => t.name).join(', ')}`);
  return table;
}

/** Collects a stream into one array. */
export async function collect<T>(iterable: AsyncIterable<T[]>): Promise<{ rows: T[]; batches: number }> {
  const rows: T[] = [];
  let batches = 0;
  for await (const batch of iterable) {
    rows.push(...batch);
    batches++;
  }
  return { rows, batches };
}
