import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BraidError } from '../../src/model/errors.js';
import type { MetaStore } from '../../src/meta/meta-store.js';
import { META_ENGINES, type MetaFixture } from '../meta/meta-engines.js';

async function rejection(promise: Promise<unknown>): Promise<BraidError> {
  const err = await promise.then(
    () => new Error('resolved'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BraidError);
  return err as BraidError;
}

describe.each(META_ENGINES)('sync repositories on $name', (engine) => {
  describe.skipIf(!engine.available)('', () => {
    let meta: MetaFixture;
    let store: MetaStore;
    let syncId: string;
    beforeEach(async () => {
      meta = await engine.open();
      store = meta.store;
      syncId = (
        await store.syncs.create({
          name: 'customer contacts',
          definition: { members: [1, 2] },
          status: 'active',
        })
      ).id;
    });
    afterEach(async () => {
      await meta.cleanup();
    });

    it('stores sync rules with their definition, status and unique name', async () => {
      const got = await store.syncs.get<{ members: number[] }>(syncId);
      expect(got).toMatchObject({
        name: 'customer contacts',
        definition: { members: [1, 2] },
        status: 'active',
      });
      await store.syncs.setStatus(syncId, 'paused');
      await store.syncs.updateDefinition(syncId, { members: [3] });
      expect(await store.syncs.get(syncId)).toMatchObject({ status: 'paused', definition: { members: [3] } });
      const dup = await rejection(
        store.syncs.create({ name: 'customer contacts', definition: {}, status: 'active' }),
      );
      expect([dup.status, dup.code]).toEqual([409, 'sync_name_taken']);
      expect((await store.syncs.list()).map((s) => s.name)).toEqual(['customer contacts']);
      expect((await rejection(store.syncs.setStatus('nope', 'active'))).status).toBe(404);
    });

    it('links member rows to entities and keeps the link when the match key changes', async () => {
      const entityId = await store.entityLinks.link({
        syncId,
        member: 0,
        key: { id: 7 },
        matchKey: 'blue bakery',
      });
      expect(
        await store.entityLinks.link({
          syncId,
          entityId,
          member: 1,
          key: { id: 3 },
          matchKey: 'blue bakery',
        }),
      ).toBe(entityId);
      // The business is renamed in one tool: linking the same row again keeps its entity.
      const again = await store.entityLinks.link({
        syncId,
        member: 0,
        key: { id: 7 },
        matchKey: 'blue bakery & co',
      });
      expect(again).toBe(entityId);
      expect(await store.entityLinks.linkFor(syncId, 0, { id: 7 })).toEqual({
        syncId,
        entityId,
        member: 0,
        key: { id: 7 },
        matchKey: 'blue bakery & co',
      });
      expect(await store.entityLinks.linkFor(syncId, 0, { id: '7' })).toBeNull();
      expect((await store.entityLinks.membersOf(entityId)).map((l) => [l.member, l.key])).toEqual([
        [0, { id: 7 }],
        [1, { id: 3 }],
      ]);
      expect(
        (await store.entityLinks.findByMatchKey(syncId, 1, 'blue bakery')).map((l) => l.entityId),
      ).toEqual([entityId]);
      const taken = await rejection(
        store.entityLinks.link({ syncId, entityId, member: 1, key: { id: 4 }, matchKey: null }),
      );
      expect([taken.status, taken.code]).toEqual([409, 'entity_member_taken']);
      expect(await store.entityLinks.unlink(syncId, 1, { id: 3 })).toBe(true);
      expect(await store.entityLinks.unlink(syncId, 1, { id: 3 })).toBe(false);
      expect(await store.entityLinks.membersOf(entityId)).toHaveLength(1);
    });

    it('stores composite member keys in one form whatever the column order', async () => {
      const entityId = await store.entityLinks.link({
        syncId,
        member: 0,
        key: { b: 'x', a: 1 },
        matchKey: 'k',
      });
      expect((await store.entityLinks.linkFor(syncId, 0, { a: 1, b: 'x' }))?.entityId).toBe(entityId);
    });

    it('streams every link of a sync in pages', async () => {
      for (let i = 0; i < 25; i++) {
        const entityId = await store.entityLinks.link({
          syncId,
          member: 0,
          key: { id: i },
          matchKey: `k${i}`,
        });
        await store.entityLinks.link({
          syncId,
          entityId,
          member: 1,
          key: { id: 100 + i },
          matchKey: `k${i}`,
        });
      }
      const links = [];
      for await (const link of store.entityLinks.allOf(syncId, 7)) links.push(link);
      expect(links).toHaveLength(50);
      expect(new Set(links.map((l) => `${l.member}:${JSON.stringify(l.key)}`)).size).toBe(50);
    });

    it('saves positions per member', async () => {
      expect(await store.syncPositions.get(syncId, 0)).toBeNull();
      await store.syncPositions.save(syncId, 0, '0/16B3748');
      await store.syncPositions.save(syncId, 0, '0/16B3800');
      await store.syncPositions.save(syncId, 1, 'gtid:0-1-42');
      expect(await store.syncPositions.get(syncId, 0)).toBe('0/16B3800');
      expect((await store.syncPositions.forSync(syncId)).map((p) => [p.member, p.position])).toEqual([
        [0, '0/16B3800'],
        [1, 'gtid:0-1-42'],
      ]);
      await store.syncPositions.clear(syncId, 0);
      expect(await store.syncPositions.get(syncId, 0)).toBeNull();
    });

    it('queues conflicts until they are resolved, once', async () => {
      const sides = [
        { member: 0, value: '5551234567', commitTime: '2026-03-01T10:00:00Z' },
        { member: 1, value: '5550000000', commitTime: null },
      ];
      const conflict = await store.syncConflicts.open({ syncId, entityId: 'e1', field: 'phone', sides });
      expect((await store.syncConflicts.openFor(syncId, 'e1', 'phone'))?.id).toBe(conflict.id);
      expect((await store.syncConflicts.list(syncId)).map((c) => c.sides)).toEqual([sides]);
      expect(await store.syncConflicts.countOpen(syncId)).toBe(1);
      const resolved = await store.syncConflicts.resolve(conflict.id, { value: '5551234567', by: 'ada' });
      expect(resolved).toMatchObject({ status: 'resolved', resolution: { value: '5551234567', by: 'ada' } });
      expect(resolved.resolvedAt).not.toBeNull();
      expect(await store.syncConflicts.list(syncId)).toEqual([]);
      expect(await store.syncConflicts.countOpen(syncId)).toBe(0);
      expect(await store.syncConflicts.list(syncId, 'all')).toHaveLength(1);
      expect((await rejection(store.syncConflicts.resolve(conflict.id, null))).code).toBe(
        'conflict_already_resolved',
      );
      expect((await rejection(store.syncConflicts.resolve('nope', null))).status).toBe(404);
    });

    it('keeps dead letters with their reason and attempts', async () => {
      const event = { source: 'crm', table: 't', op: 'update', key: { id: 1 }, after: { phone: 'x' } };
      const letter = await store.syncDeadLetters.add({
        syncId,
        member: 1,
        event,
        reason: 'not null violation',
      });
      expect(await store.syncDeadLetters.recordAttempt(letter.id, 'still failing')).toBe(true);
      expect(await store.syncDeadLetters.list(syncId)).toEqual([
        { ...letter, attempts: 2, reason: 'still failing' },
      ]);
      expect(await store.syncDeadLetters.count(syncId)).toBe(1);
      expect(await store.syncDeadLetters.delete(letter.id)).toBe(true);
      expect(await store.syncDeadLetters.count(syncId)).toBe(0);
      expect(await store.syncDeadLetters.get(letter.id)).toBeNull();
    });

    it('stores converged values and applied positions per entity: insert, replace, read several, delete', async () => {
      expect(await store.syncEntityState.get(syncId, 'e1')).toBeNull();
      await store.syncEntityState.set(syncId, 'e1', {
        converged: { email: 'a@b.example', phone: '5550100001' },
        applied: { 0: 'binlog:p1' },
        echoes: {},
      });
      await store.syncEntityState.set(syncId, 'e2', {
        converged: { email: null, tags: ['x', { y: 1 }] },
        applied: {},
        echoes: {},
      });
      // A second set replaces the state (one upsert statement on both engines).
      await store.syncEntityState.set(syncId, 'e1', {
        converged: { email: 'new@b.example' },
        applied: { 0: 'binlog:p2', 1: 'logical:q1' },
        echoes: { 1: [{ email: 'new@b.example' }] },
      });
      expect(await store.syncEntityState.get(syncId, 'e1')).toEqual({
        converged: { email: 'new@b.example' },
        applied: { 0: 'binlog:p2', 1: 'logical:q1' },
        echoes: { 1: [{ email: 'new@b.example' }] },
      });
      const many = await store.syncEntityState.getMany(syncId, ['e1', 'e2', 'e3']);
      expect([...many.keys()].sort()).toEqual(['e1', 'e2']);
      expect(many.get('e2')).toEqual({
        converged: { email: null, tags: ['x', { y: 1 }] },
        applied: {},
        echoes: {},
      });
      expect((await store.syncEntityState.getMany(syncId, [])).size).toBe(0);
      expect(await store.syncEntityState.delete(syncId, 'e1')).toBe(true);
      expect(await store.syncEntityState.delete(syncId, 'e1')).toBe(false);
      expect(await store.syncEntityState.get(syncId, 'e1')).toBeNull();
    });

    it('deleting a sync removes all its state', async () => {
      const entityId = await store.entityLinks.link({ syncId, member: 0, key: { id: 1 }, matchKey: 'k' });
      await store.syncPositions.save(syncId, 0, 'p');
      await store.syncConflicts.open({ syncId, entityId, field: 'phone', sides: [] });
      await store.syncDeadLetters.add({ syncId, member: 0, event: {}, reason: 'r' });
      await store.syncEntityState.set(syncId, entityId, {
        converged: { phone: '1' },
        applied: {},
        echoes: {},
      });
      expect(await store.syncs.delete(syncId)).toBe(true);
      expect(await store.syncEntityState.get(syncId, entityId)).toBeNull();
      expect(await store.entityLinks.membersOf(entityId)).toEqual([]);
      expect(await store.syncPositions.get(syncId, 0)).toBeNull();
      expect(await store.syncConflicts.list(syncId, 'all')).toEqual([]);
      expect(await store.syncDeadLetters.list(syncId)).toEqual([]);
    });
  });
});
