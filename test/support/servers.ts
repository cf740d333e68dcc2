import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { pingRedis } from './redis-ping.js';

/**
 * The test servers, from the environment with this machine's defaults. Under CI=true a server that
 * cannot be reached fails the run; locally the tests that need it are skipped with a warning.
 */
export const POSTGRES_URL = process.env.BRAID_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.BRAID_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const REDIS_URL = process.env.BRAID_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const reachable = new Map<string, Promise<boolean>>();

async function probe(name: string, check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (err) {
    if (process.env.CI === 'true') {
      throw new Error(`${name} is not reachable and CI=true: ${(err as Error).message}`);
    }
    console.warn(`skipping ${name} tests: ${(err as Error).message}`);
    return false;
  }
}

export function postgresAvailable(): Promise<boolean> {
  if (!reachable.has('pg')) {
    reachable.set(
      'pg',
      probe('PostgreSQL', async () => {
        const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
        await client.connect();
        await client.end();
      }),
    );
  }
  return reachable.get('pg')!;
}

export function mysqlAvailable(): Promise<boolean> {
  if (!reachable.has('mysql')) {
    reachable.set(
      'mysql',
      probe('MariaDB/MySQL', async () => {
        const conn = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 });
        await conn.end();
      }),
    );
  }
  return reachable.get('mysql')!;
}

export function redisAvailable(): Promise<boolean> {
  if (!reachable.has('redis'))
    reachable.set(
      'redis',
      probe('Redis', () => pingRedis(REDIS_URL)),
    );
  return reachable.get('redis')!;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** A fresh PostgreSQL schema; `drop()` removes it with everything in it. */
export async function createPostgresSchema(
  prefix = 't',
): Promise<{ schema: string; url: string; drop(): Promise<void> }> {
  const schema = uniqueName(prefix);
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`create schema "${schema}"`);
  await client.end();
  return {
    schema,
    url: POSTGRES_URL,
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`drop schema if exists "${schema}" cascade`);
      await c.end();
    },
  };
}

/** Runs SQL on PostgreSQL with search_path set to `schema`. */
export async function postgresExec(schema: string, statements: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`set search_path to "${schema}"`);
    await client.query(statements);
  } finally {
    await client.end();
  }
}

/** A fresh MariaDB/MySQL database; `url` points at it. */
export async function createMysqlDatabase(
  prefix = 't',
): Promise<{ database: string; url: string; drop(): Promise<void> }> {
  const database = uniqueName(prefix);
  const conn = await mysql.createConnection({ uri: MYSQL_URL });
  await conn.query(`create database \`${database}\` character set utf8mb4 collate utf8mb4_general_ci`);
  await conn.end();
  const url = new URL(MYSQL_URL);
  url.pathname = `/${database}`;
  return {
    database,
    url: url.toString(),
    async drop() {
      const c = await mysql.createConnection({ uri: MYSQL_URL });
      await c.query(`drop database if exists \`${database}\``);
      await c.end();
    },
  };
}

export async function mysqlExec(url: string, statements: string): Promise<void> {
  const conn = await mysql.createConnection({ uri: url, multipleStatements: true });
  try {
    await conn.query(statements);
  } finally {
    await conn.end();
  }
}
