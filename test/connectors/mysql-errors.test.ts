import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlConnector } from '../../src/connectors/mysql/index.js';
import { QueryError } from '../../src/model/errors.js';
import type { TableSchema } from '../../src/model/schema.js';
import { MYSQL_URL } from '../support/servers.js';
import { expectFailure, MYSQL_AVAILABLE, MysqlRelay, useMysqlDatabase } from './mysql-fixture.js';

const DDL = `
create table parents (id int primary key, name varchar(10) not null);
create table children (
  id int primary key, parent_id int not null, tiny tinyint, day date, note varchar(5),
  positive int check (positive > 0),
  unique key uq_note (note),
  constraint fk_child_parent foreign key (parent_id) references parents (id)
);
insert into parents values (1, 'one'), (2, 'two');
insert into children (id, parent_id, note) values (10, 1, 'taken');
`;

describe.skipIf(!MYSQL_AVAILABLE)('MySQL error translation and recovery', () => {
  const db = useMysqlDatabase('errs', DDL);
  const relays: MysqlRelay[] = [];
  afterAll(async () => Promise.all(relays.map((r) => r.close())));
  let parents: TableSchema;
  let children: TableSchema;
  beforeAll(async () => {
    if (!MYSQL_AVAILABLE) return;
    parents = await db.table('parents');
    children = await db.table('children');
  });

  it('duplicate key -> 409 unique_violation naming the key and the value, keeping query and params', async () => {
    const err = await expectFailure(
      () => db.connector.insert(children, [{ id: 11, parent_id: 1, note: 'taken' }]),
      409,
      'unique_violation',
      ['uq_note', '"taken"'],
    );
    expect(err).toBeInstanceOf(QueryError);
    expect((err as QueryError).query).toMatch(/^insert into `children`/);
    expect((err as QueryError).params).toContain('taken');
    expect(err.details).toMatchObject({ constraint: 'uq_note', value: 'taken', errno: 1062 });
    await expectFailure(
      () => db.connector.insert(parents, [{ id: 1, name: 'again' }]),
      409,
      'unique_violation',
      ['primary key'],
    );
  });

  it('foreign keys -> 409 foreign_key_violation, both directions (1451, 1452)', async () => {
    await expectFailure(() => db.connector.delete(parents, { id: 1 }), 409, 'foreign_key_violation', [
      'children',
      'fk_child_parent',
    ]);
    const err = await expectFailure(
      () => db.connector.insert(children, [{ id: 12, parent_id: 99 }]),
      409,
      'foreign_key_violation',
      ['parent_id', 'parents'],
    );
    expect(err.details).toMatchObject({
      constraint: 'fk_child_parent',
      columns: ['parent_id'],
      referencedTable: 'parents',
    });
  });

  it('NULL or nothing for a required column -> 400 missing_value naming the column (1048, 1364)', async () => {
    await expectFailure(() => db.connector.update(parents, { id: 2 }, { name: null }), 400, 'missing_value', [
      'name',
    ]);
    await expectFailure(() => db.connector.insert(children, [{ id: 13 }]), 400, 'missing_value', [
      'parent_id',
    ]);
  });

  it('values the column cannot hold -> 400 invalid_value (1366, 1292, 1264, 1406, check constraint)', async () => {
    await expectFailure(
      () => db.connector.insert(children, [{ id: 14, parent_id: 'abc' }]),
      400,
      'invalid_value',
      ['abc', 'parent_id'],
    );
    await expectFailure(
      () => db.connector.insert(children, [{ id: 14, parent_id: 1, day: '2024-02-30' }]),
      400,
      'invalid_value',
      ['2024-02-30', 'day'],
    );
    await expectFailure(
      () => db.connector.insert(children, [{ id: 14, parent_id: 1, tiny: 1000 }]),
      400,
      'invalid_value',
      ['tiny'],
    );
    await expectFailure(
      () => db.connector.insert(children, [{ id: 14, parent_id: 1, note: 'too long' }]),
      400,
      'invalid_value',
      ['note'],
    );
    await expectFailure(
      () => db.connector.insert(children, [{ id: 14, parent_id: 1, positive: -1 }]),
      400,
      'invalid_value',
      ['positive'],
    );
    expect(await db.connector.getByKey(children, { id: 14 })).toBeNull();
  });

  it('an invalid statement -> 400 invalid_query; anything else -> 500 query_failed', async () => {
    await expectFailure(() => db.connector.rawQuery('selec 1'), 400, 'invalid_query');
    await expectFailure(() => db.connector.rawQuery('select nope from parents'), 400, 'invalid_query', [
      'nope',
    ]);
    await expectFailure(
      () => db.connector.rawQuery("signal sqlstate '45000' set message_text = 'custom'"),
      500,
      'query_failed',
      ['custom'],
    );
  });

  it('a statement over the time limit -> 504 timeout, and the connector stays usable', async () => {
    const quick = db.open({ timeoutMs: 1000 });
    const started = Date.now();
    // A cross join of 10^10 rows; SLEEP() would not do: MySQL ends it early without an error.
    const heavy =
      'select count(*) from information_schema.collations a, information_schema.collations b, ' +
      'information_schema.collations c, information_schema.collations d';
    await expectFailure(() => quick.rawQuery(heavy), 504, 'timeout', ['1 s']);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await quick.rawQuery('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('the next query succeeds after the server killed every pooled connection', async () => {
    const connector = db.open();
    const before = await connectionIds(connector);
    expect(before.length).toBeGreaterThan(1);
    const admin = await mysql.createConnection({ uri: MYSQL_URL });
    try {
      for (const id of before) await admin.query(`kill connection ${id}`);
    } finally {
      await admin.end();
    }
    expect(await connector.count(parents)).toBe(2);
    const after = await connectionIds(connector);
    expect(after.some((id) => before.includes(id))).toBe(false);
    expect(await connector.insert(parents, [{ id: 3, name: 'three' }])).toEqual([{ id: 3, name: 'three' }]);
  });

  it('server gone -> 502 source_unavailable; the pool recovers when it is back', async () => {
    const relay = await openRelay(relays);
    const connector = db.open({ url: relayUrl(relay.port, db.database) });
    expect(await connector.count(parents)).toBeGreaterThan(0);
    await relay.close();
    await expectFailure(() => connector.count(parents), 502, 'source_unavailable');
    await relay.listen();
    expect(await connector.count(parents)).toBeGreaterThan(0);
  });

  it(
    'a server that stops answering -> 504 timeout from the client-side backstop, then recovery',
    { timeout: 20_000 },
    async () => {
      const relay = await openRelay(relays);
      const connector = db.open({ url: relayUrl(relay.port, db.database), timeoutMs: 500 });
      expect(await connector.count(parents)).toBeGreaterThan(0);
      relay.freeze();
      const started = Date.now();
      await expectFailure(() => connector.count(parents), 504, 'timeout');
      expect(Date.now() - started).toBeLessThan(15_000);
      relay.freeze(false);
      expect(await connector.count(parents)).toBeGreaterThan(0);
    },
  );

  it('messages never contain the password or the connection URL', async () => {
    const password = 'braid-probe-pw-secret';
    const relay = await openRelay(relays);
    const url = relayUrl(relay.port, db.database, `braid_pw_probe:${password}`);
    await relay.close();
    const connector = createMysqlConnector({ url });
    try {
      const err = await expectFailure(() => connector.introspect(), 502, 'source_unavailable');
      expect(JSON.stringify({ message: err.message, details: err.details })).not.toContain(password);
      expect(err.message).not.toContain(url);
      const result = await connector.test();
      expect(JSON.stringify(result)).not.toContain(password);
    } finally {
      await connector.close();
    }
  });
});

/** Server thread ids of the connector's pool, after opening a few connections at once. */
async function connectionIds(connector: ReturnType<typeof createMysqlConnector>): Promise<number[]> {
  const answers = await Promise.all(
    [1, 2, 3].map(() => connector.rawQuery('select connection_id() as id, sleep(0.2) as s')),
  );
  return [...new Set(answers.map((a) => Number(a.rows[0]!.id)))];
}

async function openRelay(relays: MysqlRelay[]): Promise<MysqlRelay> {
  const target = new URL(MYSQL_URL);
  const relay = new MysqlRelay({ host: target.hostname, port: Number(target.port || 3306) });
  await relay.listen();
  relays.push(relay);
  return relay;
}

function relayUrl(port: number, database: string, credentials?: string): string {
  const url = new URL(MYSQL_URL);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  url.pathname = `/${database}`;
  if (credentials) {
    const [user, pass] = credentials.split(':');
    url.username = user!;
    url.password = pass!;
  }
  return url.toString();
}
