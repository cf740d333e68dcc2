import fs from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { createSqliteConnector } from '../../src/connectors/sqlite/index.js';
import { QueryError } from '../../src/model/errors.js';
import type { TableSchema } from '../../src/model/schema.js';
import { createSandbox, tableOf, type SqliteSandbox } from './sqlite-fixtures.js';

const SCHEMA = `
create table parents (id integer primary key, code text not null unique);
create table children (
  id integer primary key,
  parent_id integer not null references parents(id),
  qty integer check (qty > 0),
  a text, b text,
  unique (a, b)
);
create table strict_t (id integer primary key, n integer) strict;
create table guarded (id integer primary key, v text);
create trigger guard before insert on guarded when new.v = 'no' begin select raise(abort, 'v may not be no'); end;
insert into parents (id, code) values (1, 'P1');
`;

describe('SQLite errors', () => {
  let sandbox: SqliteSandbox;
  let file: string;
  let connector: Connector;
  let parents: TableSchema;
  let children: TableSchema;

  beforeAll(async () => {
    sandbox = createSandbox();
    file = sandbox.file();
    sandbox.exec(file, SCHEMA);
    connector = sandbox.connect(file);
    parents = await tableOf(connector, 'parents');
    children = await tableOf(connector, 'children');
  });
  afterAll(() => sandbox.cleanup());

  async function failure(promise: Promise<unknown>): Promise<QueryError> {
    const err = await promise.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(QueryError);
    return err as QueryError;
  }

  it('turns a duplicate primary key into 409 unique_violation naming the column', async () => {
    const err = await failure(connector.insert(parents, [{ id: 1, code: 'other' }]));
    expect(err).toMatchObject({
      status: 409,
      code: 'unique_violation',
      details: expect.objectContaining({ columns: ['id'], table: 'parents' }),
    });
    expect(err.query).toMatch(/insert into "parents"/);
    expect(err.params).toEqual([1, 'other']);
    expect((err.cause as { code: string }).code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
  });

  it('names every column of a composite unique constraint', async () => {
    await connector.insert(children, [{ id: 1, parent_id: 1, a: 'x', b: 'y' }]);
    const err = await failure(connector.insert(children, [{ id: 2, parent_id: 1, a: 'x', b: 'y' }]));
    expect(err).toMatchObject({
      status: 409,
      code: 'unique_violation',
      details: expect.objectContaining({ columns: ['a', 'b'] }),
    });
    expect(err.message).toBe('a row with the same "a", "b" already exists in "children"');
  });

  it('enforces foreign keys: 409 foreign_key_violation', async () => {
    const err = await failure(connector.insert(children, [{ id: 3, parent_id: 42 }]));
    expect(err).toMatchObject({ status: 409, code: 'foreign_key_violation' });
    const parentDelete = await failure(connector.delete(parents, { id: 1 }));
    expect(parentDelete).toMatchObject({ status: 409, code: 'foreign_key_violation' });
  });

  it('turns NOT NULL into 400 missing_value and CHECK into 400 invalid_value', async () => {
    const missing = await failure(connector.insert(parents, [{ id: 5, code: null }]));
    expect(missing).toMatchObject({
      status: 400,
      code: 'missing_value',
      details: expect.objectContaining({ field: 'code' }),
    });
    const check = await failure(connector.insert(children, [{ id: 4, parent_id: 1, qty: 0 }]));
    expect(check).toMatchObject({ status: 400, code: 'invalid_value' });
    expect(check.message).toContain('qty > 0');
  });

  it('turns a STRICT type mismatch into 400 and a trigger refusal into 409', async () => {
    const strict = await failure(connector.rawQuery("insert into strict_t (id, n) values (1, 'abc')"));
    expect(strict).toMatchObject({ status: 400, code: 'invalid_value' });
    const trigger = await failure(connector.rawQuery("insert into guarded (v) values ('no')"));
    expect(trigger).toMatchObject({ status: 409, code: 'constraint_violation' });
    expect(trigger.message).toContain('v may not be no');
  });

  it('answers 503 busy while another process holds the write lock', async () => {
    const quick = createSqliteConnector({ file, timeoutMs: 50 });
    const other = new Database(file);
    try {
      other.exec('begin immediate');
      const err = await failure(quick.rawQuery("insert into parents (code) values ('locked')"));
      expect(err).toMatchObject({ status: 503, code: 'busy' });
      // Through a transaction too: BEGIN IMMEDIATE is where the lock is met.
      const inTransaction = await failure(quick.insert(parents, [{ code: 'locked too' }]));
      expect(inTransaction).toMatchObject({ status: 503, code: 'busy' });
      other.exec('rollback');
      await expect(quick.rawQuery("insert into parents (code) values ('free')")).resolves.toMatchObject({
        affectedRows: 1,
      });
    } finally {
      other.close();
      await quick.close();
    }
  });

  it('answers 400 invalid_query for a statement SQLite rejects as written', async () => {
    const unknown = await failure(connector.rawQuery('select nope from parents where id = :id', { id: 1 }));
    expect(unknown).toMatchObject({ status: 400, code: 'invalid_query', params: [1] });
    expect(unknown.message).toContain('no such column: nope');
    const syntax = await failure(connector.rawQuery('selec 1'));
    expect(syntax).toMatchObject({ status: 400, code: 'invalid_query' });
    const bindings = await failure(connector.rawQuery('select ? as a, ? as b', [1]));
    expect(bindings).toMatchObject({ status: 400, code: 'invalid_query' });
  });

  it("answers 500 query_failed with SQLite's words for anything else", async () => {
    const err = await failure(connector.rawQuery('select abs(-9223372036854775807 - 1) as n'));
    expect(err).toMatchObject({ status: 500, code: 'query_failed' });
    expect(err.message).toContain('integer overflow');
  });

  it('refuses a string longer than its VARCHAR on every write path, which SQLite alone would store', async () => {
    await connector.rawQuery('create table short_names (id integer primary key, name varchar(5))');
    const table = await tableOf(connector, 'short_names');
    await expect(connector.insert(table, [{ id: 1, name: 'toolong' }])).rejects.toMatchObject({
      status: 400,
      code: 'invalid_value',
      details: expect.objectContaining({ field: 'name' }),
    });
    await expect(connector.bulkLoad(table, [[{ id: 2, name: 'toolong' }]])).rejects.toMatchObject({
      status: 400,
    });
    await connector.insert(table, [{ id: 3, name: 'ok' }]);
    await expect(connector.update(table, { id: 3 }, { name: 'toolong' })).rejects.toMatchObject({
      status: 400,
    });
    await expect(connector.upsert(table, [{ id: 3, name: 'toolong' }])).rejects.toMatchObject({
      status: 400,
    });
    // Characters, not UTF-16 units or bytes: five emoji fit in five.
    await expect(connector.insert(table, [{ id: 4, name: '🎉🎉🎉🎉🎉' }])).resolves.toHaveLength(1);
    expect(await connector.count(table)).toBe(2);
  });

  it('answers 403 read_only on a read-only connector', async () => {
    const reader = sandbox.connect(file, { readonly: true });
    expect((await reader.rawQuery('select count(*) as n from parents')).rows[0]!.n).toBeGreaterThan(0);
    const err = await failure(reader.rawQuery("insert into parents (code) values ('ro')"));
    expect(err).toMatchObject({ status: 403, code: 'read_only' });
  });

  it('test() reports the SQLite version', async () => {
    const result = await connector.test();
    expect(result).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^3\.\d+\.\d+$/) });
  });

  it('test() reports a missing file as file_not_found, without creating it', async () => {
    const missing = sandbox.file('missing.db');
    const result = await sandbox.connect(missing).test();
    expect(result).toEqual({
      ok: false,
      code: 'file_not_found',
      message: `the SQLite file "${missing}" does not exist`,
    });
    expect(fs.existsSync(missing)).toBe(false);
    // Queries on it fail the same way, with a status a client can show.
    await expect(sandbox.connect(missing).introspect()).rejects.toMatchObject({
      status: 503,
      code: 'file_not_found',
    });
  });

  it('test() creates the file when asked to', async () => {
    const created = sandbox.file('nested/new.db');
    const result = await sandbox.connect(created, { create: true }).test();
    expect(result.ok).toBe(true);
    expect(fs.existsSync(created)).toBe(true);
  });

  it('test() reports a file that is no database as connection_failed', async () => {
    const text = sandbox.file('notes.txt');
    fs.writeFileSync(text, 'these are not the pages you are looking for '.repeat(100));
    const result = await sandbox.connect(text).test();
    expect(result).toEqual({
      ok: false,
      code: 'connection_failed',
      message: `"${text}" is not an SQLite database (file is not a database)`,
    });
    expect(fs.readFileSync(text, 'utf8').startsWith('these are not')).toBe(true);
  });

  it('test() reports a folder as connection_failed', async () => {
    const result = await sandbox.connect(sandbox.dir).test();
    expect(result).toMatchObject({
      ok: false,
      code: 'connection_failed',
      message: expect.stringContaining('is a folder'),
    });
  });

  it('refuses a configuration without a file', () => {
    expect(() => createSqliteConnector({})).toThrow(
      expect.objectContaining({ status: 400, code: 'invalid_config' }),
    );
  });
});
