import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { createPostgresConnector } from '../../src/connectors/postgres/index.js';
import type { Filter } from '../../src/model/filter.js';
import type { TableSchema } from '../../src/model/schema.js';
import { postgresAvailable, POSTGRES_URL, uniqueName } from '../support/servers.js';

const available = await postgresAvailable();

/**
 * The filter language compares by code point and folds case with Unicode rules whatever the
 * database's locale. The connector adapts per database (COLLATE "C" only where needed, a Unicode
 * fold where LC_CTYPE is C), so each variant gets its own database here.
 */
const LOCALES: { label: string; options: string }[] = [
  { label: 'ICU en-US default collation', options: "locale_provider icu icu_locale 'en-US'" },
  { label: 'C collation and ctype', options: "lc_collate 'C' lc_ctype 'C'" },
];

const WORDS = ['b', 'B', 'a', '_', 'é', 'É', 'z', 'Zoë', 'ZOË', 'a b', null];

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

describe.skipIf(!available).each(LOCALES)('PostgreSQL strings in a database with $label', ({ options }) => {
  const database = uniqueName('braid_locale');
  let connector: Connector;
  let words: TableSchema;

  const select = async (filter?: Filter): Promise<unknown[]> =>
    (
      await connector.select(words, { ...(filter ? { filter } : {}), sort: [{ field: 'word', dir: 'asc' }] })
    ).rows.map((r) => r.word);

  beforeAll(async () => {
    await admin(`create database "${database}" template template0 encoding 'UTF8' ${options}`);
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${database}`;
    connector = createPostgresConnector({ url: url.toString(), schemas: ['public'] });
    await connector.createTable({
      schema: 'public',
      name: 'words',
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'word', type: 'text' },
      ],
      primaryKey: ['id'],
    });
    words = (await connector.introspect()).tables.find((t) => t.name === 'words')!;
    await connector.insert(
      words,
      WORDS.map((word, id) => ({ id, word })),
    );
  });

  afterAll(async () => {
    await connector?.close();
    await admin(`drop database if exists "${database}" with (force)`);
  });

  it('sorts and pages by code point', async () => {
    const order = [null, 'B', 'ZOË', 'Zoë', '_', 'a', 'a b', 'b', 'z', 'É', 'é'];
    expect(await select()).toEqual(order);
    const seen: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await connector.select(words, {
        sort: [{ field: 'word', dir: 'asc' }],
        limit: 3,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.rows.map((r) => r.word));
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(seen).toEqual(order);
  });

  it('compares by code point in range filters', async () => {
    expect(await select({ field: 'word', op: 'gt', value: 'Z' })).toEqual([
      'ZOË',
      'Zoë',
      '_',
      'a',
      'a b',
      'b',
      'z',
      'É',
      'é',
    ]);
    expect(await select({ field: 'word', op: 'lt', value: 'a' })).toEqual(['B', 'ZOË', 'Zoë', '_']);
  });

  it('is exact by default and folds non-ASCII case on request', async () => {
    expect(await select({ field: 'word', op: 'eq', value: 'é' })).toEqual(['é']);
    expect(await select({ field: 'word', op: 'eq', value: 'É', caseInsensitive: true })).toEqual(['É', 'é']);
    expect(await select({ field: 'word', op: 'startsWith', value: 'zoë', caseInsensitive: true })).toEqual([
      'ZOË',
      'Zoë',
    ]);
    expect(await select({ field: 'word', op: 'gte', value: 'é', caseInsensitive: true })).toEqual(['É', 'é']);
    expect(await select({ field: 'word', op: 'contains', value: '_' })).toEqual(['_']);
  });
});
