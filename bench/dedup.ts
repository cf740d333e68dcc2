import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Clusters } from '../src/match/clusters.js';
import { fuzzyMatch, type FuzzyConfig, type MatchRecord } from '../src/match/dedupe.js';
import { log, seededRandom, type BenchResult } from './support.js';

/**
 * Fuzzy de-duplication of 100,000 synthetic people, about 20% of them near-duplicates of another
 * (typos, case, first and last name swapped, phone written differently, email missing): how fast
 * findFuzzyPairs and the clustering run, and how close the clusters come to the known truth.
 * Everything happens in memory; no server is needed.
 */

const RECORDS = 100_000;
const DUPLICATE_SHARE = 0.2;
const SEED = 20_251_125;
const TARGET_SECONDS = 60;
const TARGET_PRECISION = 0.95;
const TARGET_RECALL = 0.9;

const NAME_STEPS = ['trim', 'lower', 'unaccent'] as const;

export const DEDUP_CONFIG: FuzzyConfig = {
  fields: [
    { field: 'first_name', comparator: 'jaro_winkler', weight: 1, normalize: [...NAME_STEPS] },
    { field: 'last_name', comparator: 'jaro_winkler', weight: 1, normalize: [...NAME_STEPS] },
    // An equal email or phone says more about a person than an equal name, which many people share.
    { field: 'email', comparator: 'exact', weight: 2, normalize: ['email'] },
    { field: 'phone', comparator: 'digits', weight: 2 },
  ],
  threshold: 0.8,
  blocking: [
    { field: 'last_name', key: 'soundex' },
    { field: 'phone', key: 'digits_last7' },
    { field: 'email', key: 'exact' },
  ],
};

// Common names, drawn with a skew (a few very frequent), plus made-up ones for the long tail.
const FIRST_NAMES = (
  'James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan ' +
  'Joseph Jessica Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa Matthew Betty Anthony Margaret ' +
  'Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua Michelle Kenneth Dorothy Kevin ' +
  'Carol Brian Amanda George Melissa Edward Deborah José Chloé Zoë Björn Søren Ana Luis Mei Wei Aisha ' +
  'Fatima Omar Priya Raj'
).split(' ');
const LAST_NAMES = (
  'Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez ' +
  'Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark ' +
  'Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams ' +
  "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Müller O'Brien Schmidt Kowalski"
).split(' ');
const SYLLABLES = (
  'ka lo ri men dor vas tel bri son nak ul ex pha gri bel tor wen ash quin zed mar lin ost ev ra ko ' +
  'sti ber gan hol mi fen dra cu nel'
).split(' ');
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example', 'post.example'];
const LETTERS = [...'abcdefghijklmnopqrstuvwxyz'];

interface Person {
  entity: number;
  values: Record<string, string | null>;
}

interface Generator {
  random: () => number;
  int(below: number): number;
  pick<T>(items: readonly T[]): T;
  /** Low indexes much more often than high ones, like name frequencies. */
  skewed<T>(items: readonly T[]): T;
}

function generator(seed: number): Generator {
  const random = seededRandom(seed);
  const int = (below: number): number => Math.floor(random() * below);
  return {
    random,
    int,
    pick: (items) => items[int(items.length)]!,
    skewed: (items) => items[Math.floor(random() ** 2 * items.length)]!,
  };
}

function madeUpName(g: Generator): string {
  let name = '';
  for (let i = 2 + g.int(2); i > 0; i--) name += g.pick(SYLLABLES);
  return name[0]!.toUpperCase() + name.slice(1);
}

function phoneDigits(g: Generator): string {
  return `${200 + g.int(800)}${200 + g.int(800)}${String(g.int(10_000)).padStart(4, '0')}`;
}

function formatPhone(digits: string, style: number): string {
  const [area, exchange, line] = [digits.slice(0, 3), digits.slice(3, 6), digits.slice(6)];
  switch (style) {
    case 0:
      return `${area}-${exchange}-${line}`;
    case 1:
      return `(${area}) ${exchange}-${line}`;
    case 2:
      return `+1 ${area} ${exchange} ${line}`;
    case 3:
      return `${area}.${exchange}.${line}`;
    default:
      return digits;
  }
}

function original(g: Generator, entity: number): Person {
  const first = g.random() < 0.6 ? g.skewed(FIRST_NAMES) : madeUpName(g);
  const last = g.random() < 0.6 ? g.skewed(LAST_NAMES) : madeUpName(g);
  const local = `${first}.${last}`
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z.]/g, '');
  return {
    entity,
    values: {
      first_name: first,
      last_name: last,
      // The entity number keeps two people's addresses apart, as a real mailbox is one person's.
      email: g.random() < 0.05 ? null : `${local}${entity}@${g.pick(DOMAINS)}`,
      phone: formatPhone(phoneDigits(g), 0),
    },
  };
}

/** One keyboard slip: a letter dropped, added, replaced, or two letters swapped. */
function typo(g: Generator, text: string): string {
  if (text.length < 3) return text;
  const at = 1 + g.int(text.length - 2);
  switch (g.int(4)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + g.pick(LETTERS) + text.slice(at);
    case 2:
      return text.slice(0, at) + g.pick(LETTERS) + text.slice(at + 1);
    default:
      return text.slice(0, at - 1) + text[at]! + text[at - 1]! + text.slice(at + 1);
  }
}

function nearDuplicate(g: Generator, of: Person): Person {
  const values = { ...of.values };
  let changed = false;
  const sometimes = (p: number, change: () => void): void => {
    if (g.random() < p) {
      change();
      changed = true;
    }
  };
  while (!changed) {
    sometimes(0.25, () => (values.first_name = typo(g, values.first_name!)));
    sometimes(0.25, () => (values.last_name = typo(g, values.last_name!)));
    sometimes(0.25, () => {
      const upper = g.random() < 0.5;
      values.first_name = upper ? values.first_name!.toUpperCase() : values.first_name!.toLowerCase();
      values.last_name = upper ? values.last_name!.toUpperCase() : values.last_name!.toLowerCase();
      if (values.email) values.email = ` ${values.email.toUpperCase()}`;
    });
    sometimes(0.1, () => ([values.first_name, values.last_name] = [values.last_name!, values.first_name!]));
    sometimes(0.4, () => (values.phone = formatPhone(values.phone!.replace(/\D/g, ''), 1 + g.int(4))));
    sometimes(0.25, () => (values.email = null));
  }
  return { entity: of.entity, values };
}

/** The people in a shuffled order, duplicates anywhere: the same list on every run. */
export function syntheticPeople(count = RECORDS, seed = SEED): Person[] {
  const g = generator(seed);
  const originals = Math.round(count * (1 - DUPLICATE_SHARE));
  const people: Person[] = [];
  for (let entity = 0; entity < originals; entity++) people.push(original(g, entity));
  while (people.length < count) people.push(nearDuplicate(g, people[g.int(originals)]!));
  for (let i = people.length - 1; i > 0; i--) {
    const j = g.int(i + 1);
    [people[i], people[j]] = [people[j]!, people[i]!];
  }
  return people;
}

const pairsIn = (size: number): number => (size * (size - 1)) / 2;

/** Pairwise precision and recall of clusters against the entities the records came from. */
function score(groups: number[][], people: Person[]): { precision: number; recall: number; found: number } {
  const entitySizes = new Map<number, number>();
  for (const p of people) entitySizes.set(p.entity, (entitySizes.get(p.entity) ?? 0) + 1);
  let truePairs = 0;
  for (const size of entitySizes.values()) truePairs += pairsIn(size);
  let found = 0;
  let correct = 0;
  for (const group of groups) {
    found += pairsIn(group.length);
    const perEntity = new Map<number, number>();
    for (const id of group) perEntity.set(people[id]!.entity, (perEntity.get(people[id]!.entity) ?? 0) + 1);
    for (const size of perEntity.values()) correct += pairsIn(size);
  }
  return {
    precision: found === 0 ? 1 : correct / found,
    recall: truePairs === 0 ? 1 : correct / truePairs,
    found,
  };
}

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

export async function runDedup(): Promise<BenchResult> {
  const people = syntheticPeople();
  const records: MatchRecord[] = people.map((p, id) => ({ id, values: p.values }));
  log(`${count(records.length)} records generated; matching`);

  const started = performance.now();
  const { pairs, stats } = fuzzyMatch(records, DEDUP_CONFIG);
  const matched = performance.now();
  const clusters = new Clusters(records.length);
  for (const pair of pairs) clusters.union(pair.a, pair.b);
  const groups = clusters.groups();
  const clustered = performance.now();
  const seconds = (clustered - started) / 1000;

  const quality = score(groups, people);
  const truePairs = pairs.filter((p) => people[p.a]!.entity === people[p.b]!.entity).length;
  const duplicateGroups = groups.filter((g) => g.length > 1).length;
  const met =
    seconds < TARGET_SECONDS && quality.precision >= TARGET_PRECISION && quality.recall >= TARGET_RECALL;
  return {
    name: 'dedup',
    metrics: [
      ['records', count(records.length)],
      ['time (match + cluster)', `${seconds.toFixed(2)} s`],
      ['throughput', `${count(records.length / seconds)} records/s`],
      ['pairs compared', count(stats.comparedPairs)],
      ['pairs matched', count(stats.matchedPairs)],
      ['clusters with duplicates', count(duplicateGroups)],
      ['precision (cluster pairs)', quality.precision.toFixed(4)],
      ['recall (cluster pairs)', quality.recall.toFixed(4)],
      [
        'precision (matched pairs)',
        (stats.matchedPairs === 0 ? 1 : truePairs / stats.matchedPairs).toFixed(4),
      ],
    ],
    target: `${count(RECORDS)} records < ${TARGET_SECONDS} s, precision >= ${TARGET_PRECISION}, recall >= ${TARGET_RECALL}`,
    met,
    notes: [
      `matching ${((matched - started) / 1000).toFixed(2)} s, clustering ${((clustered - matched) / 1000).toFixed(2)} s; ` +
        `${stats.blocks} blocks, ${stats.windowedBlocks} over ${DEDUP_CONFIG.maxBlockSize ?? 500} ` +
        `records compared with a sliding window; ${os.cpus().length} CPUs, one used`,
      `threshold ${DEDUP_CONFIG.threshold}, weights first/last name 1, email and phone 2; ` +
        `precision and recall count record pairs in the same cluster against the generated truth`,
    ],
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runDedup();
  const width = Math.max(...result.metrics.map(([label]) => label.length));
  const lines = [
    `${result.name}`,
    ...result.metrics.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
  ];
  lines.push(`  ${'target'.padEnd(width)}  ${result.target}: ${result.met ? 'met' : 'MISSED'}`);
  for (const note of result.notes) lines.push(`  ${note}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
