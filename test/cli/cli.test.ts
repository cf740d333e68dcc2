import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, braid } from './run-braid.js';

describe('braid CLI', () => {
  let dataDir: string;
  let dbFile: string;
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-cli-'));
    // A person's existing SQLite database.
    dbFile = path.join(dataDir, 'shop.db');
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(dbFile);
    db.exec(
      "create table products (id integer primary key, name text, price decimal(10,2)); insert into products (name, price) values ('Tea', '3.50'), ('Coffee', '4.20'), ('Cocoa', '2.90')",
    );
    db.close();
  });
  afterAll(async () => fs.rm(dataDir, { recursive: true, force: true }));

  it('creates an admin, adds a source, lists tables and rows, runs a query', () => {
    const admin = braid(dataDir, [
      'admin',
      'create',
      '--email',
      'ops@example.test',
      '--password',
      'a-long-password',
      '--json',
    ]);
    expect(admin.code, admin.stderr).toBe(0);
    expect(JSON.parse(admin.stdout)).toMatchObject({ email: 'ops@example.test', role: 'admin' });

    const added = braid(dataDir, ['sources', 'add', 'shop', '--kind', 'sqlite', '--file', dbFile]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/shop\s+sqlite/);

    const tables = braid(dataDir, ['sources', 'tables', 'shop']);
    expect(tables.stdout).toMatch(/products\s+table\s+3\s+id/);

    const rows = braid(dataDir, [
      'rows',
      'list',
      'shop',
      'products',
      '--where',
      '{"field":"name","op":"startsWith","value":"C"}',
      '--sort',
      '-name',
      '--json',
    ]);
    expect(rows.code, rows.stderr).toBe(0);
    expect(JSON.parse(rows.stdout).rows.map((r: { name: string }) => r.name)).toEqual(['Coffee', 'Cocoa']);

    const query = braid(dataDir, [
      'query',
      'shop',
      'select name from products where price > :min order by name',
      '--bind',
      'min=3',
      '--json',
    ]);
    expect(JSON.parse(query.stdout).rows).toEqual([{ name: 'Coffee' }, { name: 'Tea' }]);
  });

  it("leaves a person's SQLite file in the journal mode its application chose", async () => {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(dbFile, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    db.close();
  });

  it('fails with a non-zero exit code and a one-line reason', () => {
    const unknown = braid(dataDir, ['rows', 'list', 'shop', 'nope']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toContain('table "nope" was not found');
    const badFilter = braid(dataDir, ['rows', 'list', 'shop', 'products', '--where', '{oops']);
    expect(badFilter.code).not.toBe(0);
    expect(badFilter.stderr).toMatch(/filter is not valid JSON/);
    const noSource = braid(dataDir, ['sources', 'test', 'ghost']);
    expect(noSource.code).not.toBe(0);
    expect(noSource.stderr).toContain('no source with id or name "ghost"');
  });
});

describe('first start', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-first-'));
  });
  afterAll(async () => fs.rm(dataDir, { recursive: true, force: true }));

  /** Starts `braid start` on a free port and resolves with the banner once it is listening. */
  function start(env: Record<string, string>): Promise<{ banner: string; stop: () => Promise<void> }> {
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: { ...process.env, BRAID_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', ...env },
    });
    let out = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner in 60 s: ${out}`)), 60_000);
      child.stdout.on('data', (d) => {
        out += d.toString();
        if (/Braid is running at .*\n[\s\S]*\n\n/.test(out)) {
          clearTimeout(timer);
          resolve({
            banner: out,
            stop: () =>
              new Promise((done) => {
                child.once('exit', () => done());
                child.kill('SIGTERM');
              }),
          });
        }
      });
      child.stderr.on('data', (d) => (out += d.toString()));
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
  }

  it('starts on the embedded store with the demo workspace and prints how to log in', async () => {
    const { banner, stop } = await start({});
    try {
      const url = /Braid is running at (\S+)/.exec(banner)![1]!;
      const password = /admin login: admin@braid\.local \/ (\S+)/.exec(banner)![1]!;
      const login = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@braid.local', password }),
      });
      expect(login.status).toBe(200);
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const sources = (await (await fetch(`${url}/api/sources`, { headers: { cookie } })).json()) as {
        sources: { id: string; name: string }[];
      };
      expect(sources.sources.map((s) => s.name)).toEqual(['Built-in tables', 'crm', 'invoicing']);
      const crm = sources.sources.find((s) => s.name === 'crm')!;
      const invoicing = sources.sources.find((s) => s.name === 'invoicing')!;
      const count = async (id: string, table: string) =>
        (
          (await (
            await fetch(`${url}/api/sources/${id}/tables/${table}/rows?count=true&limit=1`, {
              headers: { cookie },
            })
          ).json()) as { total: number }
        ).total;
      const crmCount = await count(crm.id, 'crm_business_information');
      const invoicingCount = await count(invoicing.id, 'invoice_customers');
      expect(crmCount).toBeGreaterThan(150);
      expect(invoicingCount).toBeGreaterThan(150);
      const schema = (await (
        await fetch(`${url}/api/sources/${invoicing.id}/tables/invoice_customers`, { headers: { cookie } })
      ).json()) as { columns: { name: string; type: string }[] };
      expect(schema.columns.find((c) => c.name === 'phone')?.type).toBe('integer');
    } finally {
      await stop();
    }
    const mode = (await fs.stat(path.join(dataDir, 'initial-admin-password'))).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it('does not recreate the demo or the admin on the next start, and BRAID_DEMO=0 skips the demo', async () => {
    const again = await start({});
    await again.stop();
    expect(again.banner).not.toContain('demo workspace');
    expect(again.banner).toContain('password in');
    const otherDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-nodemo-'));
    const child = spawnSync(process.execPath, [BIN, 'sources', 'list', '--json'], {
      env: { ...process.env, BRAID_DATA_DIR: otherDir, BRAID_DEMO: '0' },
      encoding: 'utf8',
    });
    expect(JSON.parse(child.stdout).map((s: { name: string }) => s.name)).toEqual(['Built-in tables']);
    await fs.rm(otherDir, { recursive: true, force: true });
  });
});
