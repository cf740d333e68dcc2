import { Clusters } from '../match/clusters.js';
import { findFuzzyPairs, type MatchRecord } from '../match/dedupe.js';
import type { TableDefinition } from './consolidation-definition.js';
import type { WorkStore } from './work-store.js';

export interface MatchResult {
  records: number;
  entities: number;
  /** Pairs joined by a shared exact key / by fuzzy score (each pair's evidence is in `merges`). */
  exactPairs: number;
  fuzzyPairs: number;
}

const PAGE = 10_000;

/**
 * Groups a table's staged records into entities: records sharing any exact key, or a fuzzy pair
 * over the threshold, are one entity (transitively, with union-find). Entities are numbered by
 * their first record, so the numbering is a function of the inputs alone and a resumed job numbers
 * them exactly as an uninterrupted one. Every merge is stored with its evidence: for exact keys the
 * key and its fields, for fuzzy pairs each field's comparator and score.
 */
export function matchEntities(work: WorkStore, def: TableDefinition): MatchResult {
  const { first, last, count } = work.recordRange(def.table);
  if (count !== last - first + 1)
    throw new Error(`internal: records of "${def.table}" are not numbered contiguously`);
  const clusters = new Clusters(count);
  const insertMerge = work.db.prepare(
    'insert into merges (tbl, a, b, kind, evidence) values (?, ?, ?, ?, ?)',
  );
  let exactPairs = 0;
  work.db.exec('create index if not exists match_keys_sorted on match_keys (tbl, k, key, record_id)');
  const page = work.db.prepare(
    `select k, key, record_id from match_keys where tbl = ? and (k, key, record_id) > (?, ?, ?)
     order by k, key, record_id limit ${PAGE}`,
  );
  let cursor: [number, string, number] = [-1, '', -1];
  let groupKey = '';
  let groupFirst = -1;
  for (;;) {
    const rows = page.all(def.table, ...cursor) as { k: number; key: string; record_id: number }[];
    for (const row of rows) {
      const key = `${row.k}\u0001${row.key}`;
      if (key !== groupKey) {
        groupKey = key;
        groupFirst = row.record_id;
        continue;
      }
      clusters.union(groupFirst - first, row.record_id - first);
      const parts = def.exact[row.k]!;
      insertMerge.run(
        def.table,
        groupFirst,
        row.record_id,
        'exact',
        JSON.stringify({ key: row.k, fields: parts.map((p) => p.field), value: row.key.split('\u0000') }),
      );
      exactPairs++;
    }
    if (rows.length < PAGE) break;
    const lastRow = rows[rows.length - 1]!;
    cursor = [lastRow.k, lastRow.key, lastRow.record_id];
  }

  let fuzzyPairs = 0;
  if (def.fuzzy) {
    // Blocking fields need their values too, even when no comparator reads them.
    const fields = [
      ...new Set([...def.fuzzy.fields.map((f) => f.field), ...def.fuzzy.blocking.map((b) => b.field)]),
    ];
    const records: MatchRecord[] = [];
    for (const record of work.records(def.table)) {
      const values: Record<string, string | null> = {};
      for (const field of fields) {
        const v = record.values[field];
        values[field] = v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v);
      }
      records.push({ id: record.id - first, values });
    }
    for (const pair of findFuzzyPairs(records, def.fuzzy)) {
      clusters.union(pair.a, pair.b);
      insertMerge.run(
        def.table,
        pair.a + first,
        pair.b + first,
        'fuzzy',
        JSON.stringify({ score: pair.score, fields: pair.fields, blockedBy: pair.blockedBy }),
      );
      fuzzyPairs++;
    }
  }

  // Entity ordinals by first record: walking records in id order, a root seen first opens the next.
  const ordinalOfRoot = new Int32Array(count).fill(0);
  const insertLineage = work.db.prepare('insert into lineage (record_id, tbl, ordinal) values (?, ?, ?)');
  let entities = 0;
  for (let i = 0; i < count; i++) {
    const root = clusters.find(i);
    if (ordinalOfRoot[root] === 0) ordinalOfRoot[root] = ++entities;
    insertLineage.run(i + first, def.table, ordinalOfRoot[root]);
  }
  return { records: count, entities, exactPairs, fuzzyPairs };
}
