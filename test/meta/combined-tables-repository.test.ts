import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memberKeyText } from '../../src/meta/entity-links-repository.js';
import { META_ENGINES, type MetaFixture } from './meta-engines.js';

const definition = (sources: string[]) => ({
  name: 'customers',
  members: sources.map((source) => ({ name: source, source, table: 't' })),
});

describe.each(META_ENGINES)('combined tables and batched entity links on $name', (engine) => {
  describe.skipIf(!engine.available)('', () => {
    let meta: MetaFixture;
    beforeEach(async () => {
      meta = await engine.open();
    });
    afterEach(async () => {
      await meta.cleanup();
    });

    it('stores definitions under unique names and finds the ones using a source', async () => {
      const repo = meta.store.combinedTables;
      const created = await repo.create({ name: 'customers', definition: definition(['crm', 'billing']) });
      expect(created).toMatchObject({ name: 'customers', definition: definition(['crm', 'billing']) });
      await expect(repo.create({ name: 'customers', definition: {} })).rejects.toMatchObject({
        status: 409,
        code: 'combined_table_exists',
      });
      const other = await repo.create({ name: 'other', definition: definition(['shop', 'billing']) });
      expect((await repo.list()).map((r) => r.name)).toEqual(['customers', 'other']);
      expect((await repo.get(created.id))?.name).toBe('customers');
      expect((await repo.getByName('other'))?.id).toBe(other.id);
      expect((await repo.usingSource('billing')).map((r) => r.name)).toEqual(['customers', 'other']);
      expect((await repo.usingSource('crm')).map((r) => r.name)).toEqual(['customers']);
      expect(await repo.usingSource('nowhere')).toEqual([]);

      const updated = await repo.update(created.id, {
        name: 'clients',
        definition: definition(['crm', 'shop']),
      });
      expect(updated).toMatchObject({ id: created.id, name: 'clients', createdAt: created.createdAt });
      expect(updated.updatedAt >= created.updatedAt).toBe(true);
      await expect(repo.update(created.id, { name: 'other', definition: {} })).rejects.toMatchObject({
        code: 'combined_table_exists',
      });
      await expect(repo.update('missing', { name: 'x', definition: {} })).rejects.toMatchObject({
        status: 404,
      });
      expect(await repo.delete(created.id)).toBe(true);
      expect(await repo.delete(created.id)).toBe(false);
      expect(await repo.get(created.id)).toBeNull();
    });

    it('looks links up by many member keys or entities, chunked past 1,000', async () => {
      const sync = await meta.store.syncs.create({ name: 's', definition: {}, status: 'paused' });
      const links = meta.store.entityLinks;
      // Written in one statement: linking 1,205 rows one by one costs seconds on PostgreSQL.
      const entities = Array.from({ length: 1_205 }, (_, i) => `entity-${i + 1}`);
      const row = (member: number, key: object, entityId: string) => ({
        sync_id: sync.id,
        entity_id: entityId,
        member,
        member_key: memberKeyText(key as Record<string, unknown>),
        match_key: null,
        created_at: sync.createdAt,
        updated_at: sync.createdAt,
      });
      await meta.store.db
        .insertInto('sync_entity_links')
        .values([
          ...entities.map((entityId, i) => row(0, { id: i + 1 }, entityId)),
          ...entities
            .filter((_, i) => (i + 1) % 2 === 0)
            .map((entityId, i) => row(1, { no: 2 * (i + 1) }, entityId)),
        ])
        .execute();
      const keys = Array.from({ length: 1_205 }, (_, i) => memberKeyText({ id: i + 1 }));
      const byKeys = await links.linksByMemberKeys(sync.id, 0, [
        ...keys,
        memberKeyText({ id: 99_999 }),
        keys[0]!,
      ]);
      expect(byKeys).toHaveLength(1_205);
      expect(byKeys.find((l) => l.memberKey === memberKeyText({ id: 7 }))?.entityId).toBe(entities[6]);

      const byEntities = await links.linksByEntities(sync.id, 1, entities);
      expect(byEntities).toHaveLength(602);
      expect(byEntities.find((l) => l.entityId === entities[3])?.memberKey).toBe(memberKeyText({ no: 4 }));
      expect(await links.linksByEntities(sync.id, 1, [])).toEqual([]);
      expect(await links.linksByMemberKeys(sync.id, 1, keys.slice(0, 3))).toEqual([]);
    });
  });
});
