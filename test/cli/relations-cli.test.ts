import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { braid } from './run-braid.js';

describe('braid relations and rows list --include', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-relations-'));
    const shop = new Database(path.join(dataDir, 'shop.db'));
    shop.exec(`create table orders (id integer primary key, customer integer, item text);
      insert into orders values (1, 10, 'tea'), (2, 11, 'coffee'), (3, 10, 'cocoa');`);
    shop.close();
    const crm = new Database(path.join(dataDir, 'crm.db'));
    crm.exec(`create table people (id integer primary key, name text);
      insert into people values (10, 'Ada'), (11, 'Bob'), (12, 'Cy');`);
    crm.close();
    for (const name of ['shop', 'crm'])
      expect(
        braid(dataDir, [
          'sources',
          'add',
          name,
          '--kind',
          'sqlite',
          '--file',
          path.join(dataDir, `${name}.db`),
        ]).code,
      ).toBe(0);
  });

  afterAll(async () => fs.rm(dataDir, { recursive: true, force: true }));

  it('adds a relation across sources and lists rows with the related ones', () => {
    const added = braid(dataDir, [
      'relations',
      'add',
      'buyer',
      'shop:orders.customer',
      'crm:people',
      '--reverse',
      'orders',
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(braid(dataDir, ['relations', 'list']).stdout).toMatch(
      /buyer\s+orders\.customer\s+people\.id\s+orders/,
    );

    const listed = braid(dataDir, ['--json', 'rows', 'list', 'shop', 'orders', '--include', 'buyer']);
    expect(listed.code, listed.stderr).toBe(0);
    const page = JSON.parse(listed.stdout);
    expect(page.included.buyer.rows.map((r: { name: string }) => r.name).sort()).toEqual(['Ada', 'Bob']);

    const reverse = braid(dataDir, ['rows', 'list', 'crm', 'people', '--include', 'orders']);
    expect(reverse.code, reverse.stderr).toBe(0);
    expect(reverse.stdout).toContain('orders (orders, by id = customer):');
    expect(reverse.stdout).toContain('cocoa');
  });
});
