import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCombinedRow, listCombinedRows } from '../../src/combined/combined-reader.js';
import { combineRow } from '../../src/combined/combined-rows.js';
import type { CombinedRow, CombinedTable } from '../../src/combined/combined-table.js';
import { entityKeyOf } from '../../src/combined/match-keying.js';
import { matchesFilter } from '../../src/combined/row-filter.js';
import { compareSortValue } from '../../src/combined/value-order.js';
import type { Filter } from '../../src/model/filter.js';
import type { SortTerm } from '../../src/model/query.js';
import type { Row } from '../../src/model/values.js';
import {
  createMysqlDatabase,
  createPostgresSchema,
  mysqlAvailable,
  mysqlExec,
  postgresAvailable,
  postgresExec,
  POSTGRES_URL,
  uniqueName,
} from '../support/servers.js';
import { CombinedFixture } from './combined-fixture.js';

const ready = (await postgresAvailable()) && (await mysqlAvailable());

const CITIES = ['Oslo', 'Bergen', 'oslo', 'Åre', 'Zürich', null];
const COUNTRIES = ['NO', 'SE', 'DK', null];

/** Deterministic rows: 300 per side, 240 codes shared, some keys blank. */
function pgRows(): string {
  const values: string[] = [];
  for (let i = 0; i < 300; i++) {
    const code = i % 97 === 5 ? 'null' : `'C${String(i).padStart(4, '0')}'`;
    const city = CITIES[i % CITIES.length];
    values.push(
      `(${code}, 'name ${(i * 7) % 300}', ${city === null ? 'null' : `'${city}'`}, ${((i * 37) % 500) / 4}, date '2024-01-01' + ${i % 40})`,
    );
  }
  return values.join(',');
}

function myRows(normalized: boolean): string {
  const values: string[] = [];
  for (let i = 60; i < 360; i++) {
    const raw = `C${String(i).padStart(4, '0')}`;
    const code = normalized && i % 2 === 0 ? ` ${raw.toLowerCase()} ` : raw;
    const country = COUNTRIES[i % COUNTRIES.length];
    values.push(
      `('${code}', ${i % 11 === 0 ? 'null' : `'u${i}@x.example'`}, ${country === null ? 'null' : `'${country}'`}, ${(i * 13) % 100}, ${i % 5 === 0 ? 'null' : `'note ${String.fromCharCode(97 + (i % 26))}'`})`,
    );
  }
  return values.join(',');
}

function definition(join: string, normalize: string[]) {
  return {
    name: `people ${join}`,
    join,
    members: [
      { name: 'pg', source: 'pg', table: 'people', match: { column: 'code', normalize } },
      { name: 'my', source: 'my', table: 'accounts', match: { column: 'code', normalize } },
    ],
    columns: [
      { name: 'code', owners: ['pg.code', 'my.code'] },
      { name: 'name', owners: ['pg.name'] },
      { name: 'city', owners: ['pg.city'] },
      { name: 'balance', owners: ['pg.balance'] },
      { name: 'joined', owners: ['pg.joined'] },
      { name: 'email', owners: ['my.email'] },
      { name: 'country', owners: ['my.country'] },
      { name: 'score', owners: ['my.score'] },
      { name: 'label', owners: ['my.note', 'pg.city'] },
    ],
  };
}

const FILTERS: (Filter | undefined)[] = [
  undefined,
  { field: 'city', op: 'eq', value: 'Oslo' },
  { field: 'city', op: 'eq', value: 'oslo', caseInsensitive: true },
  { field: 'country', op: 'in', value: ['NO', 'SE'] },
  { field: 'score', op: 'gt', value: 50 },
  { field: 'balance', op: 'lte', value: '20.5' },
  {
    and: [
      { field: 'city', op: 'startsWith', value: 'O' },
      { field: 'score', op: 'gte', value: 30 },
    ],
  },
  {
    or: [
      { field: 'city', op: 'eq', value: 'Bergen' },
      { field: 'country', op: 'eq', value: 'DK' },
    ],
  },
  { field: 'email', op: 'isNull' },
  { field: 'label', op: 'startsWith', value: 'note' },
  { not: { field: 'city', op: 'eq', value: 'Oslo' } },
  { field: 'country', op: 'ne', value: 'NO' },
];

const SORTS: SortTerm[][] = [
  [],
  [{ field: 'city', dir: 'asc' }],
  [{ field: 'score', dir: 'desc' }],
  [{ field: 'label', dir: 'asc' }],
  [
    { field: 'balance', dir: 'desc' },
    { field: 'email', dir: 'asc' },
  ],
  [{ field: 'code', dir: 'asc' }],
];

/** The combined table computed naively from full reads of both members: the oracle. */
async function oracle(
  table: CombinedTable,
  filter: Filter | undefined,
  sort: SortTerm[],
): Promise<CombinedRow[]> {
  const entities = new Map<string, (Row | null)[]>();
  for (const member of table.members) {
    const { rows } = await member.connector.select(member.table, { limit: 10_000 });
    for (const row of rows) {
      const key = entityKeyOf(member, row);
      const slot = entities.get(key) ?? table.members.map(() => null);
      slot[member.index] ??= row; // rows come in primary-key order: the first is the entity's
      entities.set(key, slot);
    }
  }
  const out: CombinedRow[] = [];
  for (const [key, rows] of entities) {
    if (table.definition.join === 'inner' && rows.some((r) => !r)) continue;
    if (table.definition.join === 'left' && !rows[0]) continue;
    const row = await combineRow(table, key, rows);
    const typeOf = (f: string) => table.columns.find((c) => c.name === f)!.schema.type;
    if (filter && !matchesFilter(filter, row, typeOf)) continue;
    out.push(row);
  }
  const typeOf = (f: string) => table.columns.find((c) => c.name === f)!.schema.type;
  return out.sort((a, b) => {
    for (const t of sort) {
      const c = compareSortValue(typeOf(t.field), t.dir, a[t.field], b[t.field]);
      if (c !== 0) return c;
    }
    return 0;
  });
}

async function walk(
  table: CombinedTable,
  filter: Filter | undefined,
  sort: SortTerm[],
  limit: number,
  between?: () => Promise<void>,
) {
  const rows: CombinedRow[] = [];
  let cursor: string | undefined;
  do {
    const page = await listCombinedRows(table, {
      ...(filter ? { filter } : {}),
      sort,
      limit,
      ...(cursor ? { cursor } : {}),
    });
    rows.push(...page.rows);
    cursor = page.next ?? undefined;
    await between?.();
  } while (cursor);
  return rows;
}

const sortValues = (rows: CombinedRow[], sort: SortTerm[]) =>
  rows.map((r) => sort.map((t) => r[t.field] ?? null));

/**
 * Walks every filter x sort in pages of `limit` and compares with the oracle: the same entities and
 * the same sequence of sort values. Answers how many rows were compared.
 */
async function compareAll(
  table: CombinedTable,
  filters: (Filter | undefined)[],
  sorts: SortTerm[][],
  limit: number,
) {
  let compared = 0;
  for (const filter of filters) {
    for (const sort of sorts) {
      const expected = await oracle(table, filter, sort);
      const got = await walk(table, filter, sort, limit);
      const what = JSON.stringify({ filter, sort });
      expect(got.map((r) => r._key).sort(), what).toEqual(expected.map((r) => r._key).sort());
      expect(sortValues(got, sort), what).toEqual(sortValues(expected, sort));
      compared += got.length;
    }
  }
  return compared;
}

for (const mode of ['exact keys', 'normalized keys'] as const) {
  describe.skipIf(!ready)(`combined reads against an oracle (${mode}, PostgreSQL + MariaDB)`, () => {
    const fx = new CombinedFixture();
    let drop: (() => Promise<void>)[] = [];
    let myUrl = '';
    let pgSchema = '';
    const normalize = mode === 'exact keys' ? [] : ['trim', 'upper'];

    beforeAll(async () => {
      const pg = await createPostgresSchema('comb_oracle');
      const my = await createMysqlDatabase('comb_oracle');
      drop = [pg.drop, my.drop];
      myUrl = my.url;
      pgSchema = pg.schema;
      await postgresExec(
        pg.schema,
        `create table people (id serial primary key, code text, name text, city text, balance numeric(10,2), joined date);
         insert into people (code, name, city, balance, joined) values ${pgRows()};`,
      );
      await mysqlExec(
        my.url,
        `create table accounts (id int auto_increment primary key, code varchar(20), email varchar(80), country varchar(4), score int, note text);
         insert into accounts (code, email, country, score, note) values ${myRows(mode === 'normalized keys')};`,
      );
      fx.add('pg', 'postgres', { url: POSTGRES_URL, schemas: [pg.schema] });
      fx.add('my', 'mysql', { url: my.url });
    });
    afterAll(async () => {
      await fx.close();
      for (const d of drop) await d();
    });

    for (const join of ['full', 'left', 'inner'] as const) {
      it(`answers every filter and sort like the oracle, walking pages (${join} join)`, async () => {
        const table = await fx.table(definition(join, normalize));
        const filters = join === 'full' ? FILTERS : FILTERS.slice(0, 8);
        const compared = await compareAll(table, filters, SORTS, 45);
        // Not a comparison of empty answers: hundreds of rows per filter on average.
        expect(compared).toBeGreaterThan(filters.length * SORTS.length * 60);
      }, 120_000);
    }

    it('serves a deep offset page and reads single entities', async () => {
      const table = await fx.table(definition('full', normalize));
      const sort: SortTerm[] = [{ field: 'score', dir: 'asc' }];
      const all = await walk(table, undefined, sort, 1000);
      const page = await listCombinedRows(table, { sort, offset: 200, limit: 10 });
      expect(page.rows.map((r) => r._key)).toEqual(all.slice(200, 210).map((r) => r._key));
      const one = await getCombinedRow(table, all[123]!._key);
      expect(one!.row._key).toBe(all[123]!._key);
    });

    it('walks pages to the end with no row lost or repeated while rows are inserted concurrently', async () => {
      const table = await fx.table(definition('full', normalize));
      for (const sort of [
        [{ field: 'city', dir: 'asc' }],
        [{ field: 'score', dir: 'desc' }],
        [],
      ] as SortTerm[][]) {
        const before = (await oracle(table, undefined, sort)).map((r) => r._key);
        expect(before.length).toBeGreaterThan(300);
        let n = 0;
        const insert = async () => {
          n++;
          // New entities on both sides, one in each member only, one in both; sorted anywhere.
          const code = `N${sort.length}${String(n).padStart(4, '0')}${Math.random().toString(36).slice(2, 6)}`;
          await postgresExec(
            pgSchema,
            `insert into people (code, name, city, balance) values ('${code}', 'new', '${CITIES[n % 5]}', ${n})`,
          );
          await mysqlExec(
            myUrl,
            `insert into accounts (code, email, score) values ('${code}B', 'n@x', ${n % 100})`,
          );
        };
        const seen = (await walk(table, undefined, sort, 25, insert)).map((r) => r._key);
        expect(new Set(seen).size, 'no row repeated').toBe(seen.length);
        const missing = before.filter((k) => !seen.includes(k));
        expect(missing, 'no row lost').toEqual([]);
        expect(n).toBeGreaterThan(5);
      }
    }, 60_000);
  });
}

/** A third member on SQLite: tiers for some codes of both others and codes of its own. */
function threeMembers(join: string) {
  const two = definition(join, []);
  return {
    ...two,
    name: `three ${join}`,
    members: [
      ...two.members,
      { name: 'lite', source: 'lite', table: 'tiers', match: { column: 'code', normalize: [] } },
    ],
    columns: [
      ...two.columns.filter((c) => c.name !== 'label' && c.name !== 'code'),
      { name: 'code', owners: ['pg.code', 'my.code', 'lite.code'] },
      { name: 'tier', owners: ['lite.tier'] },
      { name: 'label', owners: ['lite.tier', 'my.note', 'pg.city'] },
    ],
  };
}

describe.skipIf(!ready)(
  'combined reads against an oracle (three members: PostgreSQL, MariaDB, SQLite)',
  () => {
    const fx = new CombinedFixture();
    const drop: (() => Promise<void>)[] = [];
    const file = join(tmpdir(), `${uniqueName('comb_oracle')}.sqlite`);

    beforeAll(async () => {
      const pg = await createPostgresSchema('comb_oracle3');
      const my = await createMysqlDatabase('comb_oracle3');
      drop.push(pg.drop, my.drop, () => rm(file, { force: true }));
      await postgresExec(
        pg.schema,
        `create table people (id serial primary key, code text, name text, city text, balance numeric(10,2), joined date);
       insert into people (code, name, city, balance, joined) values ${pgRows()};`,
      );
      await mysqlExec(
        my.url,
        `create table accounts (id int auto_increment primary key, code varchar(20), email varchar(80), country varchar(4), score int, note text);
       insert into accounts (code, email, country, score, note) values ${myRows(false)};`,
      );
      const db = new Database(file);
      db.exec('create table tiers (id integer primary key, code text, tier text)');
      const insert = db.prepare('insert into tiers (code, tier) values (?, ?)');
      // Every third code of 0..419: some in both others, some in one, some (400+) in none.
      for (let i = 0; i < 420; i += 3) insert.run(`C${String(i).padStart(4, '0')}`, i % 2 ? 'gold' : null);
      db.close();
      fx.add('pg', 'postgres', { url: POSTGRES_URL, schemas: [pg.schema] });
      fx.add('my', 'mysql', { url: my.url });
      fx.add('lite', 'sqlite', { file });
    });
    afterAll(async () => {
      await fx.close();
      for (const d of drop) await d();
    });

    const filters: (Filter | undefined)[] = [
      undefined,
      { field: 'tier', op: 'eq', value: 'gold' },
      { field: 'tier', op: 'isNull' },
      {
        and: [
          { field: 'country', op: 'eq', value: 'SE' },
          { field: 'city', op: 'notNull' },
        ],
      },
      { field: 'label', op: 'startsWith', value: 'note' },
    ];
    const sorts: SortTerm[][] = [
      [],
      [{ field: 'tier', dir: 'asc' }],
      [{ field: 'score', dir: 'desc' }],
      [{ field: 'label', dir: 'desc' }],
      [{ field: 'code', dir: 'asc' }],
    ];

    for (const join of ['full', 'left', 'inner'] as const) {
      it(`answers like the oracle (${join} join)`, async () => {
        const table = await fx.table(threeMembers(join));
        const compared = await compareAll(table, filters, sorts, 40);
        expect(compared).toBeGreaterThan(filters.length * sorts.length * 20);
      }, 120_000);
    }
  },
);
