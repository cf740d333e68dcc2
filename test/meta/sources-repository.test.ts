import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/meta/secret-box.js';
import { SourcesRepository } from '../../src/meta/sources-repository.js';
import type { DatabaseSchema } from '../../src/model/schema.js';
import { META_ENGINES, postgresQuery, type MetaFixture } from './meta-engines.js';

const PASSWORD = 'S3cr3t-Plaintext-Pw!';
const URL_PASSWORD = 'UrlPw-xyz';
const SECRET_URL = `postgres://u:${URL_PASSWORD}@h/db`;
// Looked for in the raw storage too, so a leak through a base64 or JSON-escaped copy is caught.
const FORBIDDEN = [
  PASSWORD,
  URL_PASSWORD,
  Buffer.from(PASSWORD).toString('base64'),
  Buffer.from(URL_PASSWORD).toString('base64'),
];

const SCHEMA: DatabaseSchema = {
  introspectedAt: '2026-01-02T03:04:05.000Z',
  tables: [
    {
      schema: 'public',
      name: 'customers',
      kind: 'table',
      columns: [
        {
          name: 'id',
          type: 'integer',
          nativeType: 'int4',
          nullable: false,
          defaultValue: null,
          autoIncrement: true,
          generated: false,
        },
      ],
      primaryKey: ['id'],
      foreignKeys: [],
      uniqueIndexes: [],
    },
  ],
};

describe.each(META_ENGINES)('sources repository on $name', (engine) => {
  describe.skipIf(!engine.available)('', () => {
    let meta: MetaFixture;
    let sources: SourcesRepository;
    beforeEach(async () => {
      meta = await engine.open();
      sources = meta.store.sources;
    });
    afterEach(async () => {
      await meta.cleanup();
    });

    /** Everything the store wrote, as raw text: file bytes for SQLite, every column of every table for PostgreSQL. */
    async function rawStorage(): Promise<{ where: string; text: string }[]> {
      if (engine.name === 'sqlite') {
        const out: { where: string; text: string }[] = [];
        for (const suffix of ['', '-wal', '-shm']) {
          const file = path.join(meta.dataDir, `braid.db${suffix}`);
          const bytes = await fs.readFile(file).catch(() => null);
          if (bytes) out.push({ where: `braid.db${suffix}`, text: bytes.toString('latin1') });
        }
        return out;
      }
      const tables = await postgresQuery<{ name: string }>(
        'select table_name as name from information_schema.tables where table_schema = $1',
        [meta.options.pgSchema],
      );
      const out: { where: string; text: string }[] = [];
      for (const { name } of tables) {
        const rows = await postgresQuery<{ raw: string }>(
          `select t::text as raw from "${meta.options.pgSchema}"."${name}" t`,
        );
        out.push({ where: name, text: rows.map((r) => r.raw).join('\n') });
      }
      return out;
    }

    it('never stores a source password in plaintext, and gives it back decrypted', async () => {
      const a = await sources.create({
        name: 'secret-source-a',
        kind: 'postgres',
        config: { host: 'db.internal', user: 'app', password: PASSWORD, database: 'crm' },
      });
      const b = await sources.create({
        name: 'secret-source-b',
        kind: 'postgres',
        config: { url: SECRET_URL },
      });
      // An update writes the secret again: it must be sealed on that path too.
      await sources.update(a.id, {
        config: { host: 'db2.internal', user: 'app', password: PASSWORD, database: 'crm' },
      });

      const storage = await rawStorage();
      if (engine.name === 'sqlite') {
        // WAL mode: recent writes sit in braid.db-wal, so that file must exist and hold the rows.
        expect(storage.map((s) => s.where)).toContain('braid.db-wal');
      } else {
        expect(storage.map((s) => s.where)).toContain('sources');
      }
      // The reads do see the rows (a positive control, so the absence below means something).
      expect(storage.some((s) => s.text.includes('secret-source-b') && s.text.includes('db2.internal'))).toBe(
        true,
      );
      for (const { where, text } of storage) {
        for (const secret of FORBIDDEN) expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
      }

      expect((await sources.get(a.id))?.config).toEqual({
        host: 'db2.internal',
        user: 'app',
        password: PASSWORD,
        database: 'crm',
      });
      expect((await sources.get(b.id))?.config).toEqual({ url: SECRET_URL });
      const listed = await sources.list();
      expect(listed.find((s) => s.id === b.id)?.config.url).toBe(SECRET_URL);

      const shown = JSON.stringify(await sources.listPublic());
      for (const secret of FORBIDDEN) expect(shown).not.toContain(secret);
      expect(await sources.getPublic(b.id)).toMatchObject({
        config: { url: 'postgres://u@h/db' },
        hasSecrets: true,
      });

      if (engine.name === 'sqlite') {
        await meta.store.close(); // checkpoints the WAL into braid.db
        for (const { where, text } of await rawStorage()) {
          for (const secret of FORBIDDEN)
            expect(text.includes(secret), `${secret} in ${where} after close`).toBe(false);
        }
      }
    });

    it('creates, lists, updates and deletes sources', async () => {
      const shop = await sources.create({ name: ' shop ', kind: 'sqlite', config: { file: 'shop.db' } });
      expect(shop).toMatchObject({ name: 'shop', kind: 'sqlite', config: { file: 'shop.db' }, schema: null });
      expect(shop.id).toMatch(/^[a-z0-9]{12}$/);
      await sources.create({ id: 'crm', name: 'crm', kind: 'mysql', config: { url: 'mysql://root@h/crm' } });

      expect((await sources.list()).map((s) => s.name)).toEqual(['crm', 'shop']);
      expect(await sources.getPublic('crm')).toMatchObject({
        hasSecrets: false,
        config: { url: 'mysql://root@h/crm' },
      });

      const renamed = await sources.update(shop.id, { name: 'store' });
      expect(renamed).toMatchObject({ name: 'store', config: { file: 'shop.db' } });
      expect(renamed.updatedAt >= shop.updatedAt).toBe(true);
      expect((await sources.update('crm', { config: { url: 'mysql://root:pw@h/crm' } })).config.url).toBe(
        'mysql://root:pw@h/crm',
      );

      await sources.delete(shop.id);
      expect(await sources.get(shop.id)).toBeNull();
      await expect(sources.delete(shop.id)).rejects.toMatchObject({ status: 404, code: 'not_found' });
      await expect(sources.require(shop.id)).rejects.toMatchObject({ status: 404 });
      await expect(sources.update(shop.id, { name: 'x' })).rejects.toMatchObject({ status: 404 });
    });

    it('refuses duplicate names, reserved and bad ids, and unknown kinds', async () => {
      await sources.create({ name: 'crm', kind: 'sqlite', config: { file: 'a.db' } });
      const other = await sources.create({ name: 'other', kind: 'sqlite', config: { file: 'b.db' } });
      await expect(sources.create({ name: 'crm', kind: 'sqlite', config: {} })).rejects.toMatchObject({
        status: 409,
        code: 'source_name_taken',
      });
      await expect(sources.update(other.id, { name: 'crm' })).rejects.toMatchObject({
        code: 'source_name_taken',
      });
      await expect(
        sources.create({ id: other.id, name: 'x', kind: 'sqlite', config: {} }),
      ).rejects.toMatchObject({
        code: 'source_id_taken',
      });
      await expect(
        sources.create({ id: 'builtin', name: 'b', kind: 'sqlite', config: {} }),
      ).rejects.toMatchObject({
        status: 400,
        code: 'reserved_id',
      });
      await expect(
        sources.create({ id: 'Bad Id', name: 'b', kind: 'sqlite', config: {} }),
      ).rejects.toMatchObject({
        code: 'invalid_source_id',
      });
      await expect(sources.create({ name: 'o', kind: 'oracle' as never, config: {} })).rejects.toMatchObject({
        code: 'invalid_kind',
      });
      await expect(sources.create({ name: '  ', kind: 'sqlite', config: {} })).rejects.toMatchObject({
        code: 'invalid_source_name',
      });
    });

    it('stores and reads the schema cache', async () => {
      const src = await sources.create({ name: 'cached', kind: 'sqlite', config: { file: 'c.db' } });
      expect(await sources.getSchema(src.id)).toBeNull();
      const fetchedAt = new Date('2026-01-02T03:04:05.678Z');
      await sources.saveSchema(src.id, SCHEMA, fetchedAt);
      expect(await sources.getSchema(src.id)).toEqual({ schema: SCHEMA, fetchedAt: fetchedAt.toISOString() });
      expect(await sources.get(src.id)).toMatchObject({
        schema: SCHEMA,
        schemaFetchedAt: fetchedAt.toISOString(),
      });
      await expect(sources.saveSchema('missing', SCHEMA)).rejects.toMatchObject({ status: 404 });
    });

    it('fails clearly on a tampered sealed config, without hiding the other sources', async () => {
      const src = await sources.create({
        name: 'tampered',
        kind: 'postgres',
        config: { password: PASSWORD },
      });
      const row = await meta.store.db
        .selectFrom('sources')
        .select('config_secret')
        .where('id', '=', src.id)
        .executeTakeFirstOrThrow();
      const raw = Buffer.from(row.config_secret!.slice(3), 'base64');
      raw[raw.length - 1] = raw[raw.length - 1]! ^ 0xff;
      await meta.store.db
        .updateTable('sources')
        .set({ config_secret: `v1:${raw.toString('base64')}` })
        .where('id', '=', src.id)
        .execute();
      const err = await sources.get(src.id).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 500, code: 'secret_undecryptable' });
      expect(String((err as Error).message)).not.toContain(PASSWORD);
      expect((await sources.listPublic()).map((s) => s.name)).toEqual(['tampered']);
    });

    it('cannot open secrets with another key', async () => {
      const src = await sources.create({ name: 'keyed', kind: 'postgres', config: { password: PASSWORD } });
      const foreign = new SourcesRepository(meta.store.db, createSecretBox(randomBytes(32)));
      await expect(foreign.get(src.id)).rejects.toMatchObject({ code: 'secret_undecryptable' });
      expect((await sources.get(src.id))?.config.password).toBe(PASSWORD);
    });
  });
});
