import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createConnector } from '../src/connectors/create-connector.js';
import type { Connector } from '../src/connectors/connector.js';
import { TABLES, VIEWS, dropBatches, fixtureBatches, tableName } from './introspect-fixtures.js';
import {
  MYSQL_URL,
  POSTGRES_URL,
  addSource,
  expectJson,
  log,
  median,
  ms,
  ratio,
  registerCleanup,
  startInProcessBraid,
  uniqueName,
  type BenchResult,
} from './support.js';

/**
 * connector.introspect() on a 2,000-table database per engine, against the engine's own schema
 * dump run in the same process lifetime. The dump prints DDL text and Braid builds its portable
 * model, so the ratio says "how Braid's catalog reading compares with the native tool's".
 */

const RUNS = 3;
const TARGET_SECONDS = 5;

interface EngineTiming {
  engine: string;
  braidSeconds: number;
  native: { tool: string; seconds: number } | null;
  nativeMissing?: string;
  objects: string;
  /** p50 of one rows request on this big source through the API (PostgreSQL only). */
  rowsRequestMs?: number;
}

/**
 * A one-row page of one table of the 2,000-table source over HTTP: what a request pays for the
 * size of the source's schema (the services keep it parsed, see SourcesService.schema).
 */
async function rowsRequestP50(schema: string): Promise<number> {
  const braid = await startInProcessBraid();
  try {
    const id = await addSource(braid.baseUrl, braid.headers, {
      name: 'big',
      kind: 'postgres',
      config: { url: POSTGRES_URL, schemas: [schema] },
    });
    const url = `${braid.baseUrl}/api/sources/${id}/tables/${encodeURIComponent(`${schema}.${tableName(0)}`)}/rows?limit=1`;
    const times: number[] = [];
    for (let i = 0; i < 250; i++) {
      const start = performance.now();
      await expectJson(await fetch(url, { headers: braid.headers }), 'rows of the big source');
      if (i >= 50) times.push(performance.now() - start); // the first fetches the schema
    }
    return median(times);
  } finally {
    await braid.close();
  }
}

async function medianSeconds(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await fn();
    times.push((performance.now() - start) / 1000);
  }
  return median(times);
}

/** The first of `names` found on PATH, or null. */
async function findTool(...names: string[]): Promise<string | null> {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
      const candidate = path.join(dir, name);
      if (
        await fs.access(candidate, fs.constants.X_OK).then(
          () => true,
          () => false,
        )
      )
        return candidate;
    }
  }
  return null;
}

/** Runs a tool to completion, draining its output (the dump), and fails on a non-zero exit. */
function runTool(command: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(bytes);
      else reject(new Error(`${path.basename(command)} exited with ${code}: ${stderr.slice(0, 500)}`));
    });
  });
}

/** Introspects RUNS times and checks the model holds every table and view (a wrong answer is not a fast one). */
async function timeIntrospect(connector: Connector): Promise<{ seconds: number; objects: string }> {
  let summary = '';
  const seconds = await medianSeconds(async () => {
    const schema = await connector.introspect();
    const views = schema.tables.filter((t) => t.kind === 'view').length;
    const fks = schema.tables.reduce((n, t) => n + t.foreignKeys.length, 0);
    const uniques = schema.tables.reduce((n, t) => n + t.uniqueIndexes.length, 0);
    if (
      schema.tables.length !== TABLES + VIEWS ||
      views !== VIEWS ||
      fks !== TABLES / 2 ||
      uniques !== TABLES / 2
    ) {
      throw new Error(
        `introspection answered ${schema.tables.length} tables, ${views} views, ${fks} foreign keys, ${uniques} unique indexes`,
      );
    }
    summary = `${schema.tables.length - views} tables, ${views} views, ${fks} foreign keys, ${uniques} unique indexes`;
  });
  return { seconds, objects: summary };
}

async function benchPostgres(): Promise<EngineTiming> {
  const schema = uniqueName('braid_bench_introspect');
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
  const qualify = (name: string) => `${pg.escapeIdentifier(schema)}.${name}`;
  let connector: Connector | undefined;
  const cleanup = registerCleanup(`schema ${schema}`, async () => {
    await connector?.close().catch(() => {});
    try {
      // Dropped in batches: one DROP SCHEMA CASCADE would lock every table and index at once and
      // can exhaust the server's lock table (max_locks_per_transaction).
      for (const batch of dropBatches(qualify)) await pool.query(batch.join(';\n'));
      await pool.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    } finally {
      await pool.end();
    }
  });
  try {
    log(`PostgreSQL: creating ${TABLES} tables in schema ${schema}`);
    await pool.query(`create schema ${pg.escapeIdentifier(schema)}`);
    // A multi-statement simple query runs as one transaction: 100 tables per round trip.
    const created = performance.now();
    for (const batch of fixtureBatches('postgres', qualify)) await pool.query(batch.join(';\n'));
    log(`created in ${((performance.now() - created) / 1000).toFixed(1)} s; timing introspect() and pg_dump`);
    connector = createConnector('postgres', { url: POSTGRES_URL, schemas: [schema] });
    const braid = await timeIntrospect(connector);
    const pgDump = await findTool('pg_dump');
    let native: EngineTiming['native'] = null;
    if (pgDump) {
      const url = new URL(POSTGRES_URL);
      // Connection parts as options and the password in the environment: never on a command line.
      const args = [
        '--schema-only',
        '-n',
        schema,
        '-h',
        url.hostname,
        '-p',
        url.port || '5432',
        '-U',
        decodeURIComponent(url.username || 'postgres'),
        decodeURIComponent(url.pathname.slice(1)),
      ];
      native = {
        tool: 'pg_dump --schema-only',
        seconds: await medianSeconds(() =>
          runTool(pgDump, args, { PGPASSWORD: decodeURIComponent(url.password) }),
        ),
      };
    }
    const rowsRequestMs = await rowsRequestP50(schema);
    return {
      engine: 'PostgreSQL',
      braidSeconds: braid.seconds,
      native,
      objects: braid.objects,
      rowsRequestMs,
      ...(pgDump ? {} : { nativeMissing: 'pg_dump not installed' }),
    };
  } finally {
    await cleanup();
  }
}

async function benchMysql(): Promise<EngineTiming> {
  const database = uniqueName('braid_bench_introspect');
  const url = new URL(MYSQL_URL);
  const admin = await mysql.createConnection({ uri: MYSQL_URL, multipleStatements: true });
  let connector: Connector | undefined;
  const cleanup = registerCleanup(`database ${database}`, async () => {
    await connector?.close().catch(() => {});
    try {
      await admin.query(`drop database if exists \`${database}\``);
    } finally {
      await admin.end();
    }
  });
  try {
    log(`MariaDB/MySQL: creating ${TABLES} tables in database ${database}`);
    await admin.query(`create database \`${database}\``);
    await admin.query(`use \`${database}\``);
    const created = performance.now();
    for (const batch of fixtureBatches('mysql', (name) => name)) await admin.query(batch.join(';\n'));
    log(
      `created in ${((performance.now() - created) / 1000).toFixed(1)} s; timing introspect() and the dump`,
    );
    url.pathname = `/${database}`;
    connector = createConnector('mysql', { url: url.toString() });
    const braid = await timeIntrospect(connector);
    const dump = await findTool('mariadb-dump', 'mysqldump');
    let native: EngineTiming['native'] = null;
    if (dump) {
      const args = [
        '--no-data',
        '-h',
        url.hostname,
        '-P',
        url.port || '3306',
        '-u',
        decodeURIComponent(url.username || 'root'),
        database,
      ];
      const seconds = await medianSeconds(() =>
        runTool(dump, args, url.password ? { MYSQL_PWD: decodeURIComponent(url.password) } : {}),
      );
      native = { tool: `${path.basename(dump)} --no-data`, seconds };
    }
    return {
      engine: 'MariaDB',
      braidSeconds: braid.seconds,
      native,
      objects: braid.objects,
      ...(dump ? {} : { nativeMissing: 'mariadb-dump/mysqldump not installed' }),
    };
  } finally {
    await cleanup();
  }
}

async function benchSqlite(): Promise<EngineTiming> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-bench-introspect-'));
  const file = path.join(dir, 'introspect.db');
  let connector: Connector | undefined;
  const cleanup = registerCleanup(`file ${file}`, async () => {
    await connector?.close().catch(() => {});
    await fs.rm(dir, { recursive: true, force: true });
  });
  try {
    log(`SQLite: creating ${TABLES} tables in a temporary file`);
    const db = new Database(file);
    try {
      db.exec(
        `begin;\n${fixtureBatches('sqlite', (name) => name)
          .flat()
          .join(';\n')};\ncommit;`,
      );
    } finally {
      db.close();
    }
    connector = createConnector('sqlite', { file });
    const braid = await timeIntrospect(connector);
    const sqlite3 = await findTool('sqlite3');
    const native = sqlite3
      ? { tool: 'sqlite3 .schema', seconds: await medianSeconds(() => runTool(sqlite3, [file, '.schema'])) }
      : null;
    return {
      engine: 'SQLite',
      braidSeconds: braid.seconds,
      native,
      objects: braid.objects,
      ...(sqlite3 ? {} : { nativeMissing: 'sqlite3 CLI not installed: no comparison' }),
    };
  } finally {
    await cleanup();
  }
}

export async function runIntrospect(): Promise<BenchResult> {
  const timings: EngineTiming[] = [];
  // Each engine cleans up after itself; run them one after the other so they do not compete for the two cores.
  timings.push(await benchPostgres());
  timings.push(await benchMysql());
  timings.push(await benchSqlite());
  const metrics: BenchResult['metrics'] = [];
  const notes: string[] = [];
  for (const t of timings) {
    metrics.push([`${t.engine} introspect`, `${t.braidSeconds.toFixed(3)} s`]);
    if (t.native) {
      metrics.push([`${t.engine} ${t.native.tool}`, `${t.native.seconds.toFixed(3)} s`]);
      metrics.push([`${t.engine} Braid/native`, ratio(t.braidSeconds / t.native.seconds)]);
    }
    if (t.rowsRequestMs !== undefined) metrics.push([`${t.engine} rows request p50`, ms(t.rowsRequestMs)]);
    if (t.nativeMissing) notes.push(`${t.engine}: ${t.nativeMissing}`);
    notes.push(`${t.engine}: ${t.objects}; median of ${RUNS} runs each`);
  }
  return {
    name: 'introspection',
    metrics,
    target: `introspect() < ${TARGET_SECONDS} s on every engine`,
    met: timings.every((t) => t.braidSeconds < TARGET_SECONDS),
    notes,
  };
}
