import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  POSTGRES_URL,
  createPostgresSchema,
  postgresAvailable,
  postgresExec,
  uniqueName,
} from '../support/servers.js';
import { ADMIN, startHarness, type Harness } from './harness.js';

const ready = await postgresAvailable();

/** A multipart/form-data body: text fields, then (or before them) one CSV file part. */
function form(
  fields: Record<string, string>,
  csv: string | Buffer | null,
  options: { fileFirst?: boolean; filename?: string } = {},
) {
  const boundary = `----braid${randomBytes(8).toString('hex')}`;
  const fieldParts = Object.entries(fields).map((entry) =>
    Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${entry[0]}"\r\n\r\n${entry[1]}\r\n`),
  );
  const fileParts =
    csv === null
      ? []
      : [
          Buffer.from(
            `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${options.filename ?? 'data.csv'}"\r\ncontent-type: text/csv\r\n\r\n`,
          ),
          Buffer.isBuffer(csv) ? csv : Buffer.from(csv),
          Buffer.from('\r\n'),
        ];
  const parts = options.fileFirst ? [...fileParts, ...fieldParts] : [...fieldParts, ...fileParts];
  return {
    payload: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

describe.skipIf(!ready)('imports API: CSV into PostgreSQL', () => {
  let h: Harness;
  let db: Awaited<ReturnType<typeof createPostgresSchema>>;
  let roots: string;
  let outside: string;
  let source: string;
  const q = (table: string) => `${db.schema}.${table}`;

  const query = async (sql: string) => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`set search_path to "${db.schema}"`);
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  const upload = (fields: Record<string, string>, csv: string | Buffer, options = {}) =>
    h.admin({ method: 'POST', url: '/api/imports?wait=true', ...form(fields, csv, options) });

  beforeAll(async () => {
    db = await createPostgresSchema('api_import');
    await postgresExec(
      db.schema,
      `create table people (id int primary key, name text not null, email text, age int);
       create table strict_people (id int primary key, name text not null, age int);
       create table lenient_people (id int primary key, name text not null, age int);
       create table rooted (id int primary key, name text);
       create table big (id int primary key, payload text);`,
    );
    roots = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-roots-'));
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-outside-'));
    h = await startHarness({ BRAID_FILE_ROOTS: roots });
    const res = await h.admin({
      method: 'POST',
      url: '/api/sources',
      payload: { name: uniqueName('pg'), kind: 'postgres', config: { url: db.url, schemas: [db.schema] } },
    });
    expect(res.statusCode, res.body).toBe(201);
    source = res.json().id;
  });

  afterAll(async () => {
    await h?.close();
    await db?.drop();
    for (const dir of [roots, outside]) if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('imports an uploaded CSV and answers the finished job with wait=true', async () => {
    const csv = 'id,name,email,age\n1,Ada,ada@example.com,36\n2,"Stone, Bob",,41\n3,Zoë,zoe@example.com,\n';
    const res = await upload({ source, table: q('people') }, csv);
    expect(res.statusCode, res.body).toBe(200);
    const job = res.json();
    expect(job).toMatchObject({
      kind: 'import',
      status: 'succeeded',
      result: { rowsRead: 3, rowsLoaded: 3, rowsRejected: 0 },
    });
    expect(await query('select id, name, email, age from people order by id')).toEqual([
      { id: 1, name: 'Ada', email: 'ada@example.com', age: 36 },
      { id: 2, name: 'Stone, Bob', email: null, age: 41 },
      { id: 3, name: 'Zoë', email: 'zoe@example.com', age: null },
    ]);
    // The upload is removed once imported, and the job is visible as any other.
    expect(await fs.readdir(path.join(h.dataDir, 'uploads'))).toEqual([]);
    const shown = await h.admin({ url: `/api/jobs/${job.id}` });
    expect(shown.json()).toMatchObject({ id: job.id, status: 'succeeded' });
    // No rejects file for an import that rejected nothing.
    const rejects = await h.admin({ url: `/api/imports/${job.id}/rejects` });
    expect(rejects.statusCode).toBe(404);
    expect(rejects.json().error.code).toBe('not_found');
  });

  it('answers 202 with the running job without wait, with the fields after the file', async () => {
    const res = await h.admin({
      method: 'POST',
      url: '/api/imports',
      ...form({ source, table: q('people'), mode: 'skip_bad_rows' }, 'id,name\n10,Later\n', {
        fileFirst: true,
      }),
    });
    expect(res.statusCode, res.body).toBe(202);
    const done = await h.app.jobs.wait(res.json().id);
    expect(done.status).toBe('succeeded');
    expect(await query('select name from people where id = 10')).toEqual([{ name: 'Later' }]);
  });

  it('takes a mapping and a dialect as JSON text fields', async () => {
    const csv = 'Key;Full name;Ignored\n20;Semi, Colon;x\n';
    const res = await upload(
      {
        source,
        table: q('people'),
        mapping: JSON.stringify({ Key: 'id', 'Full name': 'name', Ignored: null }),
        dialect: JSON.stringify({ delimiter: ';' }),
      },
      csv,
    );
    expect(res.json()).toMatchObject({ status: 'succeeded', result: { rowsLoaded: 1 } });
    expect(await query('select name from people where id = 20')).toEqual([{ name: 'Semi, Colon' }]);
    const bad = await upload({ source, table: q('people'), dialect: '{nope' }, csv);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details).toEqual({ field: 'dialect' });
  });

  it('rolls back a bad file in all_or_nothing and says which line, column and value', async () => {
    const csv = 'id,name,age\n1,Ada,36\n2,Bob,forty\n3,,20\n';
    const res = await upload({ source, table: q('strict_people') }, csv);
    expect(res.statusCode, res.body).toBe(200);
    const job = res.json();
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('import_rejected');
    expect(job.error.details.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 3, column: 'age', value: 'forty' }),
        expect.objectContaining({ line: 4, column: 'name' }),
      ]),
    );
    expect(await query('select count(*)::int as n from strict_people')).toEqual([{ n: 0 }]);
  });

  it('loads the good rows in skip_bad_rows and serves the rejected ones as CSV', async () => {
    const csv = 'id,name,age\n1,Ada,36\n2,Bob,forty\n3,Cy,20\n';
    const res = await upload({ source, table: q('lenient_people'), mode: 'skip_bad_rows' }, csv);
    const job = res.json();
    expect(job).toMatchObject({ status: 'succeeded', result: { rowsLoaded: 2, rowsRejected: 1 } });
    expect(await query('select id from lenient_people order by id')).toEqual([{ id: 1 }, { id: 3 }]);

    const rejects = await h.admin({ url: `/api/imports/${job.id}/rejects` });
    expect(rejects.statusCode).toBe(200);
    expect(rejects.headers['content-type']).toMatch(/^text\/csv/);
    expect(rejects.headers['content-disposition']).toMatch(/^attachment/);
    const lines = rejects.body.trim().split(/\r?\n/);
    expect(lines[0]).toBe('id,name,age,_line,_column,_reason');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^2,Bob,forty,3,age,/);

    expect((await h.admin({ url: '/api/imports/no-such-job/rejects' })).statusCode).toBe(404);
  });

  it('creates the table from the CSV with create=true', async () => {
    const csv = 'id,name,joined,score\n1,Ada,2026-01-02,1.5\n2,Bob,2026-02-03,2.25\n';
    const res = await upload({ source, table: q('created_people'), create: 'true' }, csv);
    const job = res.json();
    expect(job.error).toBeNull();
    expect(job).toMatchObject({ status: 'succeeded', result: { created: true, rowsLoaded: 2 } });
    expect(await query('select id, name from created_people order by id')).toEqual([
      { id: 1, name: 'Ada' },
      { id: 2, name: 'Bob' },
    ]);
    // A second create into the now existing table is refused before any job.
    const again = await upload({ source, table: q('created_people'), create: 'true' }, csv);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('table_exists');
  });

  it('reads server-side files only inside BRAID_FILE_ROOTS', async () => {
    const secret = path.join(outside, 'rows.csv');
    await fs.writeFile(secret, 'id,name\n1,Nope\n');
    const refused = await h.admin({
      method: 'POST',
      url: '/api/imports?wait=true',
      payload: { source, table: q('rooted'), file: secret },
    });
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().error.code).toBe('file_not_allowed');
    // A link inside the roots that leads outside them is refused as well.
    await fs.symlink(secret, path.join(roots, 'link.csv'));
    const linked = await h.admin({
      method: 'POST',
      url: '/api/imports',
      payload: { source, table: q('rooted'), file: path.join(roots, 'link.csv') },
    });
    expect(linked.statusCode).toBe(403);

    const allowed = path.join(roots, 'rows.csv');
    await fs.writeFile(allowed, 'id,name\n1,Inside\n2,Also inside\n');
    const res = await h.admin({
      method: 'POST',
      url: '/api/imports?wait=true',
      payload: { source, table: q('rooted'), file: allowed },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'succeeded', result: { rowsLoaded: 2 } });
    expect(await query('select name from rooted order by id')).toEqual([
      { name: 'Inside' },
      { name: 'Also inside' },
    ]);
    // A server-side file is the caller's: it is not removed after the import.
    await fs.access(allowed);
  });

  it('refuses bad requests with 400s naming the field', async () => {
    const uploads = () => fs.readdir(path.join(h.dataDir, 'uploads'));
    const kept = await uploads();
    const missing = await h.admin({ method: 'POST', url: '/api/imports', payload: { source, file: 'x' } });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toMatchObject({ code: 'missing_field', details: { field: 'table' } });
    const noFile = await h.admin({
      method: 'POST',
      url: '/api/imports',
      ...form({ source, table: q('people') }, null),
    });
    expect(noFile.statusCode).toBe(400);
    expect(noFile.json().error.details).toEqual({ field: 'file' });
    const badMapping = await upload({ source, table: q('people'), mapping: '{not json' }, 'id\n1\n');
    expect(badMapping.statusCode).toBe(400);
    expect(badMapping.json().error.code).toBe('invalid_mapping');
    const badMode = await upload({ source, table: q('people'), mode: 'sometimes' }, 'id\n1\n');
    expect(badMode.json().error.code).toBe('invalid_mode');
    // Uploads of refused requests are not kept.
    expect(await uploads()).toEqual(kept);
  });

  it('keeps the JSON body limit for JSON bodies', async () => {
    const res = await h.admin({
      method: 'POST',
      url: '/api/imports',
      payload: { source, table: q('people'), file: 'x'.repeat(h.app.config.bodyLimit + 1) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
  });

  it("shows an import's rejects only to whoever submitted it (and admins)", async () => {
    const csv = 'id,name,age\n7,Gus,old\n';
    const job = (await upload({ source, table: q('lenient_people'), mode: 'skip_bad_rows' }, csv)).json();
    await h.app.auth.createUser({
      email: 'builder@example.test',
      password: 'builder-pass-1',
      role: 'builder',
    });
    const login = await h.server.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'builder@example.test', password: 'builder-pass-1' },
    });
    const cookie = login.cookies.find((c) => c.name === 'braid_session')!.value;
    const asBuilder = await h.server.inject({
      url: `/api/imports/${job.id}/rejects`,
      headers: { cookie: `braid_session=${cookie}` },
    });
    expect(asBuilder.statusCode).toBe(404);
    expect((await h.admin({ url: `/api/imports/${job.id}/rejects` })).statusCode).toBe(200);
    const anonymous = await h.server.inject({
      method: 'POST',
      url: '/api/imports',
      ...form({ source }, 'id\n1\n'),
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('documents the routes in OpenAPI under their tags', async () => {
    const doc = (await h.server.inject({ url: '/api/openapi.json' })).json();
    for (const [path, tag] of [
      ['/api/imports', 'imports'],
      ['/api/imports/{id}/rejects', 'imports'],
      ['/api/exports', 'exports'],
      ['/api/consolidations/plan', 'consolidations'],
      ['/api/consolidations', 'consolidations'],
      ['/api/consolidations/{id}/resume', 'consolidations'],
      ['/api/consolidations/{id}/report', 'consolidations'],
      ['/api/consolidations/{id}/discrepancies', 'consolidations'],
      ['/api/consolidations/{id}/lineage', 'consolidations'],
      ['/api/consolidations/{id}/rejects', 'consolidations'],
    ] as const) {
      const ops = Object.values(doc.paths[path] ?? {}) as { tags?: string[] }[];
      expect(ops.length, path).toBeGreaterThan(0);
      expect(
        ops.every((op) => op.tags?.includes(tag)),
        path,
      ).toBe(true);
    }
    expect(Object.keys(doc.paths['/api/imports'].post.requestBody.content)).toEqual([
      'application/json',
      'multipart/form-data',
    ]);
  });

  it('takes an upload larger than the JSON body limit', async () => {
    const rows = 120_000;
    const filler = 'x'.repeat(90);
    let csv = 'id,payload\n';
    for (let i = 1; i <= rows; i++) csv += `${i},${filler}\n`;
    expect(csv.length).toBeGreaterThan(h.app.config.bodyLimit);
    // Over a real socket, as a browser or curl sends it.
    const base = await h.server.listen({ port: 0, host: '127.0.0.1' });
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const body = new FormData();
    body.set('source', source);
    body.set('table', q('big'));
    body.set('file', new Blob([csv], { type: 'text/csv' }), 'big.csv');
    const res = await fetch(`${base}/api/imports?wait=true`, { method: 'POST', headers: { cookie }, body });
    const job = await res.json();
    expect(res.status, JSON.stringify(job)).toBe(200);
    expect(job).toMatchObject({ status: 'succeeded', result: { rowsLoaded: rows } });
    expect(await query('select count(*)::int as n from big')).toEqual([{ n: rows }]);
  }, 60_000);
});
