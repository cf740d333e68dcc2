import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConsolidationFixture, type ConsolidationFixture } from './consolidation-fixture.js';

/**
 * Records with no shared key (typos, a missing email) merged by fuzzy matching, each merge explained;
 * a field left for manual review, then settled by a decision kept in the job definition.
 */
describe('fuzzy matching and manual review in a consolidation', () => {
  let fx: ConsolidationFixture;

  beforeAll(async () => {
    fx = await openConsolidationFixture();
    const make = (name: string, rows: unknown[][]) => {
      const file = path.join(fx.dataDir, `${name}.db`);
      const db = new Database(file);
      db.exec('create table people (id integer primary key, first text, last text, phone text, city text)');
      const insert = db.prepare('insert into people values (?, ?, ?, ?, ?)');
      for (const row of rows) insert.run(...row);
      db.close();
      return file;
    };
    const a = make('a', [
      [1, 'Jonathan', 'Smith', '555-010-1111', 'Lyon'],
      [2, 'Maria', 'Gonzalez', '555-010-2222', 'Madrid'],
      [3, 'Peter', 'Parker', '555-010-3333', 'New York'],
    ]);
    const b = make('b', [
      [1, 'Jonathon', 'Smith', '(555) 010 1111', 'Lyon'],
      [2, 'Maria', 'Gonzales', '5550102222', 'Barcelona'],
      [3, 'Bruce', 'Wayne', '555-010-9999', 'Gotham'],
    ]);
    const c = make('c', [[1, 'Maria', 'Gonzalez', '555 010 2222', 'Barcelona']]);
    await fx.addSource('a', 'sqlite', { file: a });
    await fx.addSource('b', 'sqlite', { file: b });
    await fx.addSource('c', 'sqlite', { file: c });
    const master = path.join(fx.dataDir, 'master.db');
    new Database(master).close();
    await fx.addSource('master', 'sqlite', { file: master });
  });

  afterAll(async () => {
    await fx?.close();
  });

  const definition = (table: string, extra: Record<string, unknown> = {}) => ({
    name: 'people',
    target: { source: 'master' },
    table,
    create: true,
    key: { column: 'id', generate: 'sequence' },
    inputs: ['a', 'b', 'c'].map((source) => ({
      source,
      name: source,
      table: 'people',
      columns: { first: 'first', last: 'last', phone: 'phone', city: 'city' },
    })),
    match: {
      fuzzy: {
        fields: [
          { field: 'first', comparator: 'jaro_winkler', normalize: ['lower'] },
          { field: 'last', comparator: 'jaro_winkler', normalize: ['lower'] },
          { field: 'phone', comparator: 'digits', weight: 2 },
        ],
        threshold: 0.9,
        blocking: [{ field: 'phone', key: 'digits_last7' }],
      },
    },
    resolve: { default: 'priority', fields: { city: 'most_common', last: 'manual' } },
    ...extra,
  });

  it('merges near-duplicates with the evidence for each pair, and lists what waits for review', async () => {
    const job = await fx.consolidate(definition('people'));
    expect(job.error).toBeNull();
    const table = job.result!.tables[0]!;
    expect(table.records).toBe(7);
    expect(table.entities).toBe(4); // Jonathan, Maria (three spellings), Peter, Bruce
    expect(table.fuzzyPairs).toBeGreaterThanOrEqual(3);
    expect(table.discrepancies.pendingReview).toBe(1); // Gonzalez vs Gonzales

    const [maria] = await fx.app.consolidations.lineage(job.id, { table: 'people', key: '2' });
    expect(maria!.records.map((r) => `${r.input}:${r.sourceKey}`)).toEqual(['a:2', 'b:2', 'c:1']);
    const merge = maria!.merges.find((m) => m.b === 'b:2')!;
    expect(merge.kind).toBe('fuzzy');
    const evidence = merge.evidence as {
      score: number;
      fields: { field: string; score: number | null }[];
      blockedBy: string;
    };
    expect(evidence.score).toBeGreaterThanOrEqual(0.9);
    expect(evidence.fields.find((f) => f.field === 'phone')!.score).toBe(1);
    expect(evidence.fields.find((f) => f.field === 'last')!.score).toBeLessThan(1);
    expect(evidence.blockedBy).toContain('phone');

    const pending = await fx.app.consolidations.discrepancies(job.id, { pending: true });
    expect(pending).toEqual([
      {
        table: 'people',
        entity: 'a:2',
        field: 'last',
        policy: 'manual',
        chosen: 'Gonzalez',
        candidates: [
          { value: 'Gonzalez', records: ['a:2', 'c:1'] },
          { value: 'Gonzales', records: ['b:2'] },
        ],
        pending: true,
      },
    ]);
    // Two of three records say Barcelona: most_common outvotes the preferred input.
    const db = new Database(path.join(fx.dataDir, 'master.db'), { readonly: true });
    expect(db.prepare('select first, last, phone, city from people where id = 2').get()).toEqual({
      first: 'Maria',
      last: 'Gonzalez',
      phone: '555-010-2222',
      city: 'Barcelona',
    });
    db.close();
  });

  it('a decision in the definition settles the pending field', async () => {
    const job = await fx.consolidate(
      definition('people_reviewed', { decisions: [{ entity: 'a:2', field: 'last', input: 'b' }] }),
    );
    expect(job.error).toBeNull();
    expect(job.result!.tables[0]!.discrepancies.pendingReview).toBe(0);
    const db = new Database(path.join(fx.dataDir, 'master.db'), { readonly: true });
    expect(db.prepare('select last from people_reviewed where id = 2').get()).toEqual({ last: 'Gonzales' });
    db.close();
  });

  it('a decision for an entity that does not exist is refused, naming it', async () => {
    const job = await fx.consolidate(
      definition('people_bad_decision', { decisions: [{ entity: 'a:99', field: 'last', value: 'X' }] }),
    );
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('unknown_decision');
    expect(job.error?.message).toContain('a:99');
  });
});
