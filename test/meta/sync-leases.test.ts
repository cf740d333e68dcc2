import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetaStore } from '../../src/meta/meta-store.js';
import { META_ENGINES, type MetaFixture } from './meta-engines.js';

describe.each(META_ENGINES)('sync leases on $name', (engine) => {
  describe.skipIf(!engine.available)('', () => {
    let meta: MetaFixture;
    let store: MetaStore;
    let syncId: string;
    beforeEach(async () => {
      meta = await engine.open();
      store = meta.store;
      syncId = (await store.syncs.create({ name: 'contacts', definition: {}, status: 'active' })).id;
    });
    afterEach(async () => {
      await meta.cleanup();
    });

    it('gives a free lease to one owner and refuses it to others until it expires', async () => {
      const t0 = new Date('2026-01-01T00:00:00.000Z');
      expect(await store.syncLeases.acquire(syncId, 'a', 10_000, t0)).toBe(true);
      expect(await store.syncLeases.acquire(syncId, 'b', 10_000, new Date(t0.getTime() + 5_000))).toBe(false);
      // The owner may take it again (a restart of the same process id, a renewal).
      expect(await store.syncLeases.acquire(syncId, 'a', 10_000, new Date(t0.getTime() + 5_000))).toBe(true);
      // 5 s + 10 s later the lease of "a" has expired: "b" takes over and "a" can no longer renew.
      expect(await store.syncLeases.acquire(syncId, 'b', 10_000, new Date(t0.getTime() + 15_001))).toBe(true);
      expect(
        await store.syncLeases.renew(syncId, 'a', 10_000, { x: 1 }, new Date(t0.getTime() + 15_002)),
      ).toBe(false);
      expect((await store.syncLeases.get(syncId))?.owner).toBe('b');
    });

    it('lets exactly one of many concurrent claimants win', async () => {
      const owners = Array.from({ length: 8 }, (_, i) => `owner-${i}`);
      const results = await Promise.all(owners.map((o) => store.syncLeases.acquire(syncId, o, 10_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = owners[results.indexOf(true)];
      expect((await store.syncLeases.get(syncId))?.owner).toBe(winner);
    });

    it('keeps the status snapshot of a renewal, frees the lease on release, and goes with the sync', async () => {
      expect(await store.syncLeases.acquire(syncId, 'a', 10_000)).toBe(true);
      expect(await store.syncLeases.renew(syncId, 'a', 10_000, { running: true, members: [] })).toBe(true);
      expect((await store.syncLeases.get(syncId))?.status).toEqual({ running: true, members: [] });
      expect(await store.syncLeases.isHeld(syncId)).toBe(true);
      await store.syncLeases.release(syncId, 'someone else');
      expect(await store.syncLeases.isHeld(syncId)).toBe(true);
      await store.syncLeases.release(syncId, 'a');
      expect(await store.syncLeases.isHeld(syncId)).toBe(false);
      expect(await store.syncLeases.acquire(syncId, 'b', 10_000)).toBe(true);
      await store.syncs.delete(syncId);
      expect(await store.syncLeases.get(syncId)).toBeNull();
    });
  });
});
