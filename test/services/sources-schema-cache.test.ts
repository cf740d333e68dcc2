import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openMetaStore, type MetaStore } from '../../src/meta/index.js';
import { SCHEMA_RECHECK_MS, SourcesService } from '../../src/services/sources-service.js';

// SourcesService keeps the parsed stored schema between requests (parsing megabytes of JSON per
// request was the cost on big sources). Two services over one store stand for two Braid processes.
describe('stored schema reuse', () => {
  let dir: string;
  let store: MetaStore;
  let first: SourcesService;
  let second: SourcesService;
  let sourceFile: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-schema-cache-'));
    sourceFile = path.join(dir, 'source.db');
    const db = new Database(sourceFile);
    db.exec('create table a (id integer primary key)');
    db.close();
    store = await openMetaStore({ dataDir: dir, secretKey: 'a passphrase for this test only' });
    first = new SourcesService(store.sources, dir);
    second = new SourcesService(store.sources, dir);
  });

  afterEach(async () => {
    await first.closeAll();
    await second.closeAll();
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('parses once, sees a refresh made elsewhere, and forgets removed sources', async () => {
    const { id } = await first.create({ name: 'src', kind: 'sqlite', config: { file: sourceFile } });
    await first.schema(id); // fetched from the source and stored
    const schema = await first.schema(id);
    expect(await first.schema(id)).toBe(schema);

    const db = new Database(sourceFile);
    db.exec('create table b (id integer primary key)');
    db.close();
    await new Promise((resolve) => setTimeout(resolve, 5)); // a later fetch time than the first
    await second.refresh(id);
    // Within SCHEMA_RECHECK_MS the first process still answers what it parsed; then it sees the refresh.
    expect((await first.schema(id)).tables.map((t) => t.name)).toEqual(['a']);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + SCHEMA_RECHECK_MS + 1);
      expect((await first.schema(id)).tables.map((t) => t.name).sort()).toEqual(['a', 'b']);

      await second.remove(id);
      vi.setSystemTime(Date.now() + SCHEMA_RECHECK_MS + 1);
      await expect(first.schema(id)).rejects.toMatchObject({ status: 404 });
    } finally {
      vi.useRealTimers();
    }
  });
});
