import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

describe('built-in tables', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  const definition = {
    name: 'Contacts 2026',
    columns: [
      { name: 'id', type: 'integer', autoIncrement: true },
      { name: 'email', type: 'string', maxLength: 200, nullable: false },
      { name: 'score', type: 'decimal', precision: 30, scale: 10 },
      { name: 'visits', type: 'bigint' },
      { name: 'vip', type: 'boolean', defaultValue: false },
      { name: 'born', type: 'date' },
      { name: 'seen_at', type: 'datetimetz' },
      { name: 'tier', type: 'enum', enumValues: ['free', 'pro'] },
      { name: 'profile', type: 'json' },
      { name: 'avatar', type: 'binary' },
      { name: 'ref', type: 'uuid' },
    ],
    primaryKey: ['id'],
    uniqueIndexes: [{ name: 'contacts_email_uq', columns: ['email'] }],
  };

  it('creates a table from portable types and serves it through the row API', async () => {
    const created = await h.admin({
      method: 'POST',
      url: '/api/sources/builtin/tables',
      payload: definition,
    });
    expect(created.statusCode, created.body).toBe(201);
    const columns = created.json().columns as { name: string; type: string; enumValues?: string[] }[];
    expect(columns.map((c) => [c.name, c.type])).toEqual(definition.columns.map((c) => [c.name, c.type]));
    expect(columns.find((c) => c.name === 'tier')?.enumValues).toEqual(['free', 'pro']);

    const url = `/api/sources/builtin/tables/${encodeURIComponent(definition.name)}/rows`;
    const row = {
      email: 'ada@example.test',
      score: '12345678901234567890.0123456789',
      visits: '9223372036854775807',
      born: '1815-12-10',
      seen_at: '2026-11-24T10:00:00.123456+02:00',
      tier: 'pro',
      profile: { langs: ['en', 'fr'], note: 'Ünïcödé ✓' },
      avatar: Buffer.from([0, 1, 2, 255]).toString('base64'),
      ref: '3F2504E0-4F89-11D3-9A0C-0305E82C3301',
    };
    const inserted = await h.admin({ method: 'POST', url, payload: row });
    expect(inserted.statusCode, inserted.body).toBe(201);
    expect(inserted.json()).toEqual({
      ...row,
      id: 1,
      vip: false,
      seen_at: '2026-11-24T08:00:00.123456Z',
      ref: '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
    });
    const badEnum = await h.admin({
      method: 'POST',
      url,
      payload: { email: 'b@example.test', tier: 'gold' },
    });
    expect(badEnum.statusCode).toBe(400);
    expect(badEnum.json().error.details).toMatchObject({ field: 'tier', value: 'gold' });
  });

  it('alters and drops a built-in table', async () => {
    const name = encodeURIComponent(definition.name);
    const altered = await h.admin({
      method: 'PATCH',
      url: `/api/sources/builtin/tables/${name}`,
      payload: {
        changes: [
          { op: 'addColumn', column: { name: 'city', type: 'string', maxLength: 80 } },
          { op: 'renameColumn', from: 'visits', to: 'visit_count' },
        ],
      },
    });
    expect(altered.statusCode, altered.body).toBe(200);
    const names = altered.json().columns.map((c: { name: string }) => c.name);
    expect(names).toContain('city');
    expect(names).toContain('visit_count');
    expect(names).not.toContain('visits');
    const row = await h.admin({ method: 'GET', url: `/api/sources/builtin/tables/${name}/rows/1` });
    expect(row.json()).toMatchObject({ visit_count: '9223372036854775807', city: null });

    const duplicate = await h.admin({
      method: 'POST',
      url: '/api/sources/builtin/tables',
      payload: definition,
    });
    expect(duplicate.statusCode).toBe(400);
    expect(duplicate.json().error.code).toBe('table_exists');
    const badType = await h.admin({
      method: 'POST',
      url: '/api/sources/builtin/tables',
      payload: { name: 'x', columns: [{ name: 'a', type: 'money' }] },
    });
    expect(badType.statusCode).toBe(400);

    expect((await h.admin({ method: 'DELETE', url: `/api/sources/builtin/tables/${name}` })).statusCode).toBe(
      204,
    );
    const gone = await h.admin({ method: 'GET', url: `/api/sources/builtin/tables/${name}/rows` });
    expect(gone.statusCode).toBe(404);
  });
});
