import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConsolidationFixture, type ConsolidationFixture } from './consolidation-fixture.js';

/** More rejected rows than a report lists in full, so every one must reach the work store. */
const ROWS = 2_400;

/** One input, nothing to match: the streaming path, with the same accounting as a staged job. */
describe('a direct copy', () => {
  let fx: ConsolidationFixture;
  const master = () => new Database(path.join(fx.dataDir, 'master.db'), { readonly: true });

  beforeAll(async () => {
    fx = await openConsolidationFixture();
    const file = path.join(fx.dataDir, 'shop.db');
    const db = new Database(file);
    db.exec('create table items (id integer primary key, label text, qty text)');
    const insert = db.prepare('insert into items values (?, ?, ?)');
    for (let i = 1; i <= ROWS; i++) insert.run(i, `item ${i}`, i % 2 === 0 ? `${i}` : `about ${i}`);
    db.close();
    new Database(path.join(fx.dataDir, 'master.db')).close();
    await fx.addSource('shop', 'sqlite', { file });
    await fx.addSource('master', 'sqlite', { file: path.join(fx.dataDir, 'master.db') });
  });

  afterAll(async () => {
    await fx?.close();
  });

  const definition = (table: string, onInvalidRow: 'fail' | 'skip') => ({
    name: 'items',
    target: { source: 'master' },
    onInvalidRow,
    table,
    create: {
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'label', type: 'string' },
        { name: 'qty', type: 'integer' },
      ],
      primaryKey: ['id'],
    },
    key: { column: 'id', generate: 'sequence' },
    inputs: [{ source: 'shop', table: 'items', columns: { label: 'label', qty: 'qty' } }],
  });

  it('skip: every rejected row is recorded and counted, the rest written and verified', async () => {
    const job = await fx.consolidate(definition('items_skip', 'skip'));
    expect(job.error).toBeNull();
    const report = job.result!;
    expect(report.verdict).toBe('verified');
    expect(report.accounted).toBe(true);
    expect(report.tables[0]!.inputs).toEqual([
      { input: 'items', read: ROWS, staged: ROWS / 2, rejected: ROWS / 2 },
    ]);
    expect(report.rejected).toBe(ROWS / 2);
    expect((await fx.app.consolidations.rejects(job.id, { limit: ROWS })).map((r) => r.sourceKey)).toEqual(
      Array.from({ length: ROWS / 2 }, (_, i) => String(2 * i + 1)),
    );
    const db = master();
    expect(db.prepare('select count(*) as n, min(qty) as low from items_skip').get()).toEqual({
      n: ROWS / 2,
      low: 2,
    });
    db.close();
  });

  it('fail: the job fails naming the first bad rows, and the target stays empty', async () => {
    const job = await fx.consolidate(definition('items_fail', 'fail'));
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('invalid_rows');
    expect(job.error?.details?.rejected).toBe(ROWS / 2);
    expect((job.error?.details?.rejects as unknown[]).length).toBe(20);
    const db = master();
    expect(db.prepare('select count(*) as n from items_fail').get()).toEqual({ n: 0 });
    db.close();
  });
});
