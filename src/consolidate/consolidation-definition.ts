import { parse as parseYaml } from 'yaml';
import { badRequest } from '../model/errors.js';
import { validateFilterShape, type Filter } from '../model/filter.js';
import { PORTABLE_TYPES, type ColumnDefinition } from '../model/schema.js';
import { parseNormalizeSteps, type NormalizeStep } from '../match/normalize.js';
import type { FuzzyConfig } from '../match/dedupe.js';
import { parseFuzzyConfig } from '../match/fuzzy-config.js';

/**
 * A consolidation job as a team writes it (YAML or JSON kept in git): where the master lives, which
 * tables it has, and for each table the inputs, the mapping from each input's columns, how records
 * are matched and how disagreements between matched records are settled.
 *
 * @example
 * ```yaml
 * name: sales-leads
 * target: { source: master }
 * tables:
 *   - table: leads
 *     create: true
 *     key: { column: id, generate: sequence }
 *     inputs:
 *       - { name: east, source: leads_east, table: leads, columns: { email: email, phone: phone } }
 *       - { name: west, source: leads_west, table: leads, columns: { email: email, phone: phone } }
 *     match:
 *       exact: [[{ field: email, normalize: [email] }]]
 *     resolve: { default: priority, fields: { phone: newest } }
 * ```
 */
export interface ConsolidationDefinition {
  name: string;
  target: { source: string };
  /** Parents before children: a table's references point only at tables listed before it. */
  tables: TableDefinition[];
  /** fail (default): any invalid input row stops the job before anything is written. skip: rejected rows are reported and left out. */
  onInvalidRow: 'fail' | 'skip';
}

export type ResolvePolicy = 'priority' | 'newest' | 'most_common' | 'manual';
export const RESOLVE_POLICIES: readonly ResolvePolicy[] = ['priority', 'newest', 'most_common', 'manual'];

export interface TableDefinition {
  /** The target table's name in the target source. */
  table: string;
  /** Create the table when missing: `true` derives column types from the inputs, or give the columns. */
  create: false | true | { columns: ColumnDefinition[]; primaryKey?: string[] };
  /** How target keys are made: generated (sequence from 1 / UUID), or absent when the key columns are mapped. */
  key: { column: string; generate: 'sequence' | 'uuid' } | null;
  inputs: InputDefinition[];
  /** Records sharing the value of any one exact key (all its parts, normalized) are one entity. */
  exact: ExactKey[];
  fuzzy: FuzzyConfig | null;
  resolve: { default: ResolvePolicy; fields: Record<string, ResolvePolicy> };
  /** Manual decisions: for an entity (named by its anchor, see lineage) the value a field gets. */
  decisions: Decision[];
}

export type ExactKey = { field: string; normalize: NormalizeStep[] }[];

export interface Decision {
  entity: string;
  field: string;
  /** Either a value, or the input whose value wins. */
  value?: unknown;
  input?: string;
}

export interface InputDefinition {
  name: string;
  /** A source (id or name) and table, or a CSV file on the server. */
  source: string | null;
  table: string | null;
  file: string | null;
  filter: Filter | null;
  /** Lower wins under the priority policy; default: the input's position (1, 2, ...). */
  priority: number;
  /** Target column -> where its value comes from. */
  columns: Record<string, ColumnSource>;
  /** Source column with the row's last change time, for the `newest` policy. */
  updatedAt: string | null;
  /** Target column -> the parent record it points at, by the parent input's source key. */
  references: Record<string, Reference>;
}

export interface ColumnSource {
  /** Source column (also the transform's `value`). */
  from: string | null;
  /** Sandboxed JavaScript expression over `value` and `row` (the whole source row). */
  transform: string | null;
  /** A constant. */
  constant?: unknown;
  /** Portable type of the target column when the table is created and the type cannot be derived. */
  type: ColumnDefinition['type'] | null;
}

export interface Reference {
  /** The parent table (its target name, listed earlier in `tables`). */
  table: string;
  /** The parent's input whose source key the value refers to (default: the parent input on the same source). */
  input: string | null;
}

/** Reads a definition from YAML or JSON text (JSON is YAML) and validates it. */
export function parseDefinitionText(text: string, origin = 'definition'): ConsolidationDefinition {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw badRequest('invalid_definition', `${origin} is not valid YAML or JSON: ${(err as Error).message}`);
  }
  return parseDefinition(raw);
}

type Obj = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw badRequest('invalid_definition', `${path}: ${message}`, { path });
}

function object(value: unknown, path: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(path, 'must be an object');
  return value as Obj;
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') fail(path, 'must be a non-empty string');
  return value;
}

function optionalText(value: unknown, path: string): string | null {
  return value === undefined || value === null ? null : text(value, path);
}

function only(obj: Obj, allowed: string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(`${path}.${key}`, `unknown setting; allowed: ${allowed.join(', ')}`);
  }
}

function list(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, 'must be a list');
  return value;
}

function policy(value: unknown, path: string): ResolvePolicy {
  if (!RESOLVE_POLICIES.includes(value as ResolvePolicy))
    fail(path, `must be one of ${RESOLVE_POLICIES.join(', ')}`);
  return value as ResolvePolicy;
}

/** Validates a parsed definition; a single table may be written at the top level (no `tables`). */
export function parseDefinition(input: unknown): ConsolidationDefinition {
  const raw = object(input, 'definition');
  only(raw, ['name', 'target', 'tables', 'onInvalidRow', ...TABLE_KEYS], 'definition');
  const target = object(raw.target, 'target');
  only(target, ['source', 'table'], 'target');
  const tablesRaw =
    raw.tables !== undefined
      ? list(raw.tables, 'tables')
      : [{ ...Object.fromEntries(TABLE_KEYS.map((k) => [k, raw[k]])), table: target.table ?? raw.table }];
  if (raw.tables !== undefined && target.table !== undefined)
    fail('target.table', 'name each table under tables[] instead');
  if (tablesRaw.length === 0) fail('tables', 'needs at least one table');
  const onInvalidRow = raw.onInvalidRow ?? 'fail';
  if (onInvalidRow !== 'fail' && onInvalidRow !== 'skip') fail('onInvalidRow', 'must be fail or skip');
  const tables: TableDefinition[] = [];
  tablesRaw.forEach((t, i) => tables.push(parseTable(t, `tables[${i}]`, tables)));
  return {
    name: text(raw.name, 'name'),
    target: { source: text(target.source, 'target.source') },
    tables,
    onInvalidRow,
  };
}

const TABLE_KEYS = ['table', 'create', 'key', 'inputs', 'match', 'resolve', 'decisions'];

function parseTable(input: unknown, path: string, earlier: TableDefinition[]): TableDefinition {
  const raw = object(input, path);
  for (const key of Object.keys(raw)) if (raw[key] === undefined) delete raw[key];
  only(raw, TABLE_KEYS, path);
  const table = text(raw.table, `${path}.table`);
  if (earlier.some((t) => t.table === table)) fail(`${path}.table`, `table "${table}" is listed twice`);
  const inputs = list(raw.inputs, `${path}.inputs`).map((inp, i) =>
    parseInput(inp, `${path}.inputs[${i}]`, i, earlier),
  );
  if (inputs.length === 0) fail(`${path}.inputs`, 'needs at least one input');
  const names = new Set<string>();
  for (const [i, inp] of inputs.entries()) {
    if (names.has(inp.name)) fail(`${path}.inputs[${i}].name`, `input name "${inp.name}" is used twice`);
    names.add(inp.name);
  }
  const fields = new Set(inputs.flatMap((inp) => Object.keys(inp.columns)));
  const match = raw.match === undefined ? {} : object(raw.match, `${path}.match`);
  only(match, ['exact', 'fuzzy'], `${path}.match`);
  const exact = match.exact === undefined ? [] : parseExact(match.exact, `${path}.match.exact`, fields);
  const fuzzy = match.fuzzy === undefined ? null : parseFuzzyConfig(match.fuzzy, `${path}.match.fuzzy`);
  for (const f of [...(fuzzy?.fields ?? []), ...(fuzzy?.blocking ?? [])]) {
    if (!fields.has(f.field)) fail(`${path}.match.fuzzy`, `field "${f.field}" is not mapped by any input`);
  }
  const resolve = raw.resolve === undefined ? {} : object(raw.resolve, `${path}.resolve`);
  only(resolve, ['default', 'fields'], `${path}.resolve`);
  const perField: Record<string, ResolvePolicy> = {};
  for (const [field, p] of Object.entries(
    resolve.fields === undefined ? {} : object(resolve.fields, `${path}.resolve.fields`),
  )) {
    if (!fields.has(field)) fail(`${path}.resolve.fields.${field}`, 'is not mapped by any input');
    perField[field] = policy(p, `${path}.resolve.fields.${field}`);
  }
  return {
    table,
    create: parseCreate(raw.create, `${path}.create`),
    key: parseKey(raw.key, `${path}.key`),
    inputs,
    exact,
    fuzzy,
    resolve: {
      default:
        resolve.default === undefined ? 'priority' : policy(resolve.default, `${path}.resolve.default`),
      fields: perField,
    },
    decisions: raw.decisions === undefined ? [] : parseDecisions(raw.decisions, `${path}.decisions`, names),
  };
}

function parseCreate(value: unknown, path: string): TableDefinition['create'] {
  if (value === undefined || value === false) return false;
  if (value === true) return true;
  const raw = object(value, path);
  only(raw, ['columns', 'primaryKey'], path);
  const columns = list(raw.columns, `${path}.columns`).map((c, i) => {
    const col = object(c, `${path}.columns[${i}]`);
    text(col.name, `${path}.columns[${i}].name`);
    if (!PORTABLE_TYPES.includes(col.type as never))
      fail(`${path}.columns[${i}].type`, `must be one of ${PORTABLE_TYPES.join(', ')}`);
    return col as unknown as ColumnDefinition;
  });
  const primaryKey =
    raw.primaryKey === undefined
      ? undefined
      : list(raw.primaryKey, `${path}.primaryKey`).map((k, i) => text(k, `${path}.primaryKey[${i}]`));
  return { columns, ...(primaryKey ? { primaryKey } : {}) };
}

function parseKey(value: unknown, path: string): TableDefinition['key'] {
  if (value === undefined || value === null) return null;
  const raw = object(value, path);
  only(raw, ['column', 'generate'], path);
  const generate = raw.generate ?? 'sequence';
  if (generate !== 'sequence' && generate !== 'uuid') fail(`${path}.generate`, 'must be sequence or uuid');
  return { column: text(raw.column, `${path}.column`), generate };
}

function parseExact(value: unknown, path: string, fields: Set<string>): ExactKey[] {
  return list(value, path).map((key, i) => {
    // A key is one part or a list of parts; a part is a field name or {field, normalize}.
    const parts = Array.isArray(key) ? key : [key];
    if (parts.length === 0) fail(`${path}[${i}]`, 'needs at least one field');
    return parts.map((part, j) => {
      const p = `${path}[${i}]${Array.isArray(key) ? `[${j}]` : ''}`;
      const raw = typeof part === 'string' ? { field: part } : object(part, p);
      only(raw, ['field', 'normalize'], p);
      const field = text(raw.field, `${p}.field`);
      if (!fields.has(field)) fail(`${p}.field`, `"${field}" is not mapped by any input`);
      const normalize =
        raw.normalize === undefined
          ? ['trim' as const]
          : parseNormalizeSteps(raw.normalize, `${p}.normalize`);
      return { field, normalize };
    });
  });
}

function parseDecisions(value: unknown, path: string, inputs: Set<string>): Decision[] {
  return list(value, path).map((d, i) => {
    const raw = object(d, `${path}[${i}]`);
    only(raw, ['entity', 'field', 'value', 'input'], `${path}[${i}]`);
    const decision: Decision = {
      entity: text(raw.entity, `${path}[${i}].entity`),
      field: text(raw.field, `${path}[${i}].field`),
    };
    if ('value' in raw === (raw.input !== undefined)) fail(`${path}[${i}]`, 'give either value or input');
    if ('value' in raw) decision.value = raw.value;
    else {
      decision.input = text(raw.input, `${path}[${i}].input`);
      if (!inputs.has(decision.input)) fail(`${path}[${i}].input`, `no input named "${decision.input}"`);
    }
    return decision;
  });
}

function parseInput(
  value: unknown,
  path: string,
  index: number,
  earlier: TableDefinition[],
): InputDefinition {
  const raw = object(value, path);
  only(
    raw,
    ['name', 'source', 'table', 'file', 'filter', 'priority', 'columns', 'updatedAt', 'references'],
    path,
  );
  const source = optionalText(raw.source, `${path}.source`);
  const table = optionalText(raw.table, `${path}.table`);
  const file = optionalText(raw.file, `${path}.file`);
  if (file ? source || table : !source || !table)
    fail(path, 'give either source and table, or file (a CSV path)');
  const columns: Record<string, ColumnSource> = {};
  for (const [target, spec] of Object.entries(object(raw.columns, `${path}.columns`))) {
    columns[target] = parseColumnSource(spec, `${path}.columns.${target}`);
  }
  if (Object.keys(columns).length === 0) fail(`${path}.columns`, 'map at least one column');
  const priority = raw.priority ?? index + 1;
  if (typeof priority !== 'number' || !Number.isFinite(priority))
    fail(`${path}.priority`, 'must be a number');
  const references: Record<string, Reference> = {};
  for (const [column, ref] of Object.entries(
    raw.references === undefined ? {} : object(raw.references, `${path}.references`),
  )) {
    const r = object(ref, `${path}.references.${column}`);
    only(r, ['table', 'input'], `${path}.references.${column}`);
    const parent = earlier.find((t) => t.table === r.table);
    if (!parent)
      fail(
        `${path}.references.${column}.table`,
        `must name a table listed before this one (got ${JSON.stringify(r.table)})`,
      );
    const parentInput = optionalText(r.input, `${path}.references.${column}.input`);
    if (parentInput && !parent.inputs.some((p) => p.name === parentInput))
      fail(`${path}.references.${column}.input`, `table "${parent.table}" has no input "${parentInput}"`);
    if (!parentInput && !parent.inputs.some((p) => p.source !== null && p.source === source))
      fail(`${path}.references.${column}`, `name the input of "${parent.table}" these values refer to`);
    if (!columns[column]) fail(`${path}.references.${column}`, 'map this column in columns as well');
    references[column] = { table: parent.table, input: parentInput };
  }
  return {
    name: raw.name === undefined ? (table ?? file ?? `input${index + 1}`) : text(raw.name, `${path}.name`),
    source,
    table,
    file,
    filter: raw.filter === undefined ? null : validateFilterShape(raw.filter, `${path}.filter`),
    priority,
    columns,
    updatedAt: optionalText(raw.updatedAt, `${path}.updatedAt`),
    references,
  };
}

function parseColumnSource(spec: unknown, path: string): ColumnSource {
  if (typeof spec === 'string') return { from: spec, transform: null, type: null };
  const raw = object(spec, path);
  only(raw, ['from', 'transform', 'value', 'type'], path);
  const from = optionalText(raw.from, `${path}.from`);
  const transform = optionalText(raw.transform, `${path}.transform`);
  if (raw.type !== undefined && !PORTABLE_TYPES.includes(raw.type as never))
    fail(`${path}.type`, `must be one of ${PORTABLE_TYPES.join(', ')}`);
  const type = (raw.type as ColumnDefinition['type'] | undefined) ?? null;
  if ('value' in raw) {
    if (from || transform) fail(path, 'a constant value takes neither from nor transform');
    return { from: null, transform: null, constant: raw.value, type };
  }
  if (!from && !transform) fail(path, 'give from (a source column), transform, or value');
  return { from, transform, type };
}
