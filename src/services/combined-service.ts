import { parseCombinedDefinition, type CombinedDefinition } from '../combined/combined-definition.js';
import { getCombinedRow, listCombinedRows } from '../combined/combined-reader.js';
import type {
  CombinedDeps,
  CombinedPage,
  CombinedQuery,
  CombinedRow,
  CombinedTable,
  SyncLinksAccess,
} from '../combined/combined-table.js';
import {
  deleteCombinedRow,
  insertCombinedRow,
  updateCombinedRow,
  type CombinedWriteResult,
} from '../combined/combined-writes.js';
import { resolveCombinedTable } from '../combined/resolve-combined-table.js';
import type { MetaStore } from '../meta/index.js';
import type { CombinedTableRecord } from '../meta/combined-tables-repository.js';
import { BraidError, badRequest, isBraidError, notFound } from '../model/errors.js';
import type { PortableType } from '../model/schema.js';
import type { Row } from '../model/values.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { SyncRule } from '../sync/sync-rule.js';
import { pageParams, type ListParams } from './rows-service.js';
import type { SourcesService } from './sources-service.js';

/** A combined table as the API shows it; members name their sources by id. */
export interface CombinedTableView {
  id: string;
  name: string;
  definition: CombinedDefinition;
  createdAt: string;
  updatedAt: string;
}

/** Page parameters of a combined table: those of table rows, without relations. */
export type CombinedListParams = Omit<ListParams, 'include' | 'includeLimit'>;

/** The columns a definition exposes, and where each one's value comes from. */
export interface CombinedColumnView {
  name: string;
  type: PortableType;
  owners: { member: string; column: string }[];
}

export interface CombinedPreview {
  definition: CombinedDefinition;
  columns: CombinedColumnView[];
  page: CombinedPage;
}

/** One entity: the combined row and each member's whole row (null where the member lacks it). */
export interface CombinedRowView {
  row: CombinedRow;
  memberRows: Record<string, Row | null>;
}

export interface CombinedServiceOptions {
  store: MetaStore;
  sources: SourcesService;
  sandbox: Sandbox;
  /** How long a resolved table is reused before its members' schemas are checked again (ms). */
  cacheMs?: number;
}

type Cached = { at: number; updatedAt: string; table: Promise<CombinedTable> };

/**
 * Combined tables for the API and the CLI: definitions (checked against the members' live tables
 * before they are stored) and their rows, read and written through src/combined. Resolving a
 * definition reads every member's schema and compiles its transforms, so the resolved table is
 * kept for `cacheMs` (5 s) per id, and dropped at once when this process updates or deletes it;
 * a change made by another process shows through `updatedAt` on the next request.
 */
export class CombinedService {
  private readonly cache = new Map<string, Cached>();
  private readonly cacheMs: number;

  constructor(private readonly options: CombinedServiceOptions) {
    this.cacheMs = options.cacheMs ?? 5_000;
  }

  async list(): Promise<CombinedTableView[]> {
    return (await this.options.store.combinedTables.list<CombinedDefinition>()).map(toView);
  }

  /** By id or by name (names are unique). */
  async get(ref: string): Promise<CombinedTableView> {
    return toView(await this.record(ref));
  }

  async create(body: unknown): Promise<CombinedTableView> {
    const definition = await this.validated(body, 'new');
    return toView(await this.options.store.combinedTables.create({ name: definition.name, definition }));
  }

  async update(ref: string, body: unknown): Promise<CombinedTableView> {
    const { id } = await this.record(ref);
    await this.refuseIfMaterialized(id, 'changed');
    const definition = await this.validated(body, id);
    const record = await this.options.store.combinedTables.update(id, { name: definition.name, definition });
    this.cache.delete(id);
    return toView(record);
  }

  async remove(ref: string): Promise<void> {
    const { id } = await this.record(ref);
    await this.refuseIfMaterialized(id, 'deleted');
    await this.options.store.combinedTables.delete(id);
    this.cache.delete(id);
  }

  /** Names of the combined tables that use a source (a source in use cannot be deleted). */
  async usersOf(sourceId: string): Promise<string[]> {
    return (await this.options.store.combinedTables.usingSource(sourceId)).map(
      (r) => `combined table "${r.name}"`,
    );
  }

  /** What a definition would show, without storing it: its columns and a first page of rows. */
  async preview(body: unknown, params: CombinedListParams = {}): Promise<CombinedPreview> {
    const definition = await this.withIds(parseCombinedDefinition(body));
    const table = await resolveCombinedTable('preview', definition, this.deps());
    return {
      definition,
      columns: columnsOf(table),
      page: await listCombinedRows(table, combinedQuery(params)),
    };
  }

  async rows(ref: string, params: CombinedListParams = {}): Promise<CombinedPage> {
    const query = combinedQuery(params);
    return listCombinedRows(await this.table(ref), query);
  }

  async getRow(ref: string, key: string): Promise<CombinedRowView> {
    const table = await this.table(ref);
    const found = await getCombinedRow(table, key);
    if (!found) throw notFound(`row "${key}" of combined table "${table.definition.name}"`, { key });
    return {
      row: found.row,
      memberRows: Object.fromEntries(table.members.map((m) => [m.name, found.memberRows[m.index] ?? null])),
    };
  }

  async updateRow(ref: string, key: string, body: unknown): Promise<CombinedWriteResult> {
    return updateCombinedRow(await this.table(ref), key, body);
  }

  async insertRow(ref: string, body: unknown): Promise<CombinedWriteResult> {
    return insertCombinedRow(await this.table(ref), body);
  }

  async deleteRow(ref: string, key: string): Promise<CombinedWriteResult> {
    return deleteCombinedRow(await this.table(ref), key);
  }

  /** The definition resolved against the live tables (cached, see the class comment). */
  resolved(ref: string): Promise<CombinedTable> {
    return this.table(ref);
  }

  /** Its generated sync and table follow the definition as it was: dematerialize first. */
  private async refuseIfMaterialized(id: string, verb: string): Promise<void> {
    const materialized = await this.options.store.combinedMaterializations.get(id);
    if (!materialized) return;
    throw new BraidError(
      409,
      'combined_table_materialized',
      `combined table "${id}" is materialized into table "${materialized.tableName}" and cannot be ${verb}: dematerialize it first`,
      { table: materialized.tableName },
    );
  }

  private async record(ref: string): Promise<CombinedTableRecord<CombinedDefinition>> {
    const repository = this.options.store.combinedTables;
    const record =
      (await repository.get<CombinedDefinition>(ref)) ??
      (await repository.getByName<CombinedDefinition>(ref));
    if (!record) throw notFound(`combined table "${ref}"`, { id: ref });
    return record;
  }

  /** The resolved table, shared by concurrent requests and reused while fresh and unchanged. */
  private async table(ref: string): Promise<CombinedTable> {
    const record = await this.record(ref);
    const hit = this.cache.get(record.id);
    if (hit && hit.updatedAt === record.updatedAt && Date.now() - hit.at < this.cacheMs) {
      if (await this.connectorsCurrent(await hit.table)) return hit.table;
    }
    const table = resolveCombinedTable(record.id, record.definition, this.deps());
    const entry = { at: Date.now(), updatedAt: record.updatedAt, table };
    this.cache.set(record.id, entry);
    // A failure (a source down, a column dropped) is not kept: the next request tries again.
    table.catch(() => {
      if (this.cache.get(record.id) === entry) this.cache.delete(record.id);
    });
    return table;
  }

  /** False once a member's source was changed or removed here: its old connector is closed. */
  private async connectorsCurrent(table: CombinedTable): Promise<boolean> {
    for (const member of table.members)
      if ((await this.options.sources.connector(member.sourceId)) !== member.connector) return false;
    return true;
  }

  /** Parses, names sources by id and checks a definition against the live tables. */
  private async validated(body: unknown, id: string): Promise<CombinedDefinition> {
    const definition = await this.withIds(parseCombinedDefinition(body));
    await resolveCombinedTable(id, definition, this.deps());
    return definition;
  }

  /**
   * Members may name their source, and `links` its sync, by name; the stored definition keeps ids
   * so renaming a source or a sync does not break it. An unknown reference is kept as given for
   * resolving to report with its path.
   */
  private async withIds(definition: CombinedDefinition): Promise<CombinedDefinition> {
    const members = [];
    for (const member of definition.members) {
      members.push({
        ...member,
        source: await orAsGiven(member.source, this.options.sources.resolveId(member.source)),
      });
    }
    let links = definition.links;
    if (links && !(await this.options.store.syncs.get(links.sync))) {
      const named = (await this.options.store.syncs.list()).find((s) => s.name === links!.sync);
      if (named) links = { sync: named.id };
    }
    return { ...definition, members, ...(links ? { links } : {}) };
  }

  private deps(): CombinedDeps {
    const { sources, sandbox, store } = this.options;
    return {
      resolveSourceId: (ref) => sources.resolveId(ref),
      resolveTable: (sourceId, name) => sources.resolveTable(sourceId, name),
      sandbox,
      syncLinks: syncLinksOf(store),
    };
  }
}

/** A sync rule's members and entity links, read from the metadata store. */
function syncLinksOf(store: MetaStore): SyncLinksAccess {
  return {
    async members(syncId) {
      const record = await store.syncs.get<SyncRule>(syncId);
      if (!record) throw notFound(`sync "${syncId}"`, { id: syncId });
      return record.definition.members.map((m) => ({ source: m.source, table: m.table, match: m.match }));
    },
    linksByMemberKeys: (syncId, member, keys) => store.entityLinks.linksByMemberKeys(syncId, member, keys),
    linksByEntities: (syncId, member, ids) => store.entityLinks.linksByEntities(syncId, member, ids),
  };
}

async function orAsGiven(given: string, lookup: Promise<string>): Promise<string> {
  try {
    return await lookup;
  } catch (err) {
    if (isBraidError(err) && err.status === 404) return given;
    throw err;
  }
}

/** Query-string parameters (or the CLI's) as a combined query, checked like a table's. */
export function combinedQuery(params: CombinedListParams): CombinedQuery {
  const { count, ...page } = params;
  const parsed: CombinedQuery = pageParams(page);
  if (count === true || count === 'true') parsed.count = true;
  else if (count === 'estimate') parsed.count = 'estimate';
  else if (count !== undefined && count !== false && count !== 'false' && count !== '')
    throw badRequest('invalid_count', `count must be "true", "false" or "estimate", got "${String(count)}"`, {
      count,
    });
  return parsed;
}

function columnsOf(table: CombinedTable): CombinedColumnView[] {
  return table.columns.map((c) => ({
    name: c.name,
    type: c.schema.type,
    owners: c.owners.map((o) => ({ member: table.members[o.member]!.name, column: o.column.name })),
  }));
}

function toView(record: CombinedTableRecord<CombinedDefinition>): CombinedTableView {
  return {
    id: record.id,
    name: record.name,
    definition: record.definition,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
