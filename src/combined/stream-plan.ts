import type { Filter } from '../model/filter.js';
import type { PortableType } from '../model/schema.js';
import type { SortTerm } from '../model/query.js';
import type { CombinedTable, ResolvedColumn, ResolvedOwner } from './combined-table.js';
import type { DriverSortTerm } from './keyset-filter.js';
import { conjuncts, fieldsOf, matchesFilter, rejectsNulls, renameFields } from './row-filter.js';

/**
 * One stream of a combined read: the entities whose first present member, in the partition order,
 * is `driver`. Streams are disjoint and together hold every visible entity, so a page is a k-way
 * merge of streams, each read from its driver in sort order with keyset pages.
 */
export interface StreamPlan {
  index: number;
  driver: number;
  /** Members that must not hold the entity (they come earlier in the partition order). */
  absent: number[];
  /** Members that must hold it besides the driver (the join kind's rule). */
  present: number[];
  /** Conjuncts of the filter answered by the driver's own columns, renamed to them. */
  pushed: Filter[];
  /** Conjuncts answered by one other member that must then hold the entity: semi-join filters. */
  dynamic: { member: number; filter: Filter }[];
  /** Each combined sort term on the driver, or null when the driver cannot order by it. */
  sort: (DriverSortTerm & { type: PortableType })[] | null;
  /** The filter is false for every entity of the stream (a condition on columns NULL in it). */
  empty: boolean;
}

type Source =
  | { kind: 'null' }
  /** The value is this owner's (`certain`: its member holds every entity of the stream). */
  | { kind: 'owner'; owner: ResolvedOwner; certain: boolean }
  | { kind: 'mixed' };

/** Where a column's value comes from in a stream: priority order, skipping members known absent. */
function sourceOf(column: ResolvedColumn, driver: number, absent: Set<number>, present: Set<number>): Source {
  const remaining = column.owners.filter((o) => !absent.has(o.member));
  const first = remaining[0];
  if (!first) return { kind: 'null' };
  if (first.member === driver || present.has(first.member))
    return { kind: 'owner', owner: first, certain: true };
  // An owner that may be missing: its value, or the next owner's. Only a lone owner is predictable.
  return remaining.length === 1 ? { kind: 'owner', owner: first, certain: false } : { kind: 'mixed' };
}

/**
 * Types whose values another member's column of the same family takes as they are: a cursor or
 * filter value of one owner is then bound against the other's column. Decimals, floats and enums
 * are left out: "12.5" from a decimal owner is no value for an integer column, nor any text for an
 * enum.
 */
const FAMILIES: Partial<Record<PortableType, string>> = {
  string: 'text',
  text: 'text',
  integer: 'whole',
  bigint: 'whole',
};

/** The member column can stand for the exposed one in SQL: no transform, same kind of value. */
function pushable(owner: ResolvedOwner, column: ResolvedColumn): boolean {
  if (owner.read) return false;
  const a = owner.column.type;
  const b = column.schema.type;
  return a === b || (FAMILIES[a] !== undefined && FAMILIES[a] === FAMILIES[b]);
}

/** Members in partition order: the first sort column's owners by priority, then the rest. */
function partitionOrder(table: CombinedTable, sort: SortTerm[]): number[] {
  const order: number[] = [];
  const first = sort[0] && table.columns.find((c) => c.name === sort[0]!.field);
  for (const owner of first?.owners ?? []) if (!order.includes(owner.member)) order.push(owner.member);
  for (const member of table.members) if (!order.includes(member.index)) order.push(member.index);
  return order;
}

/**
 * Plans the streams of a read. `filter` is bound to the combined columns and `sort` holds the
 * user's terms only (the tie-break is the stream, then the driver's primary key).
 */
export function planStreams(
  table: CombinedTable,
  filter: Filter | undefined,
  sort: SortTerm[],
): StreamPlan[] {
  const order = partitionOrder(table, sort);
  const join = table.definition.join;
  const positions = join === 'inner' ? 1 : join === 'left' ? order.indexOf(0) + 1 : order.length;
  const column = (name: string) => table.columns.find((c) => c.name === name)!;
  const plans: StreamPlan[] = [];
  for (let p = 0; p < positions; p++) {
    const driver = order[p]!;
    const absent = new Set(order.slice(0, p));
    const present = new Set<number>(
      join === 'inner' ? order.filter((m) => m !== driver) : join === 'left' && driver !== 0 ? [0] : [],
    );
    const plan: StreamPlan = {
      index: p,
      driver,
      absent: [...absent],
      present: [...present],
      pushed: [],
      dynamic: [],
      sort: [],
      empty: false,
    };
    for (const conjunct of conjuncts(filter)) {
      const sources = fieldsOf(conjunct).map(
        (f) => [f, sourceOf(column(f), driver, absent, present)] as const,
      );
      if (sources.every(([, s]) => s.kind === 'null')) {
        if (!matchesFilter(conjunct, {}, (f) => column(f).schema.type)) plan.empty = true;
        continue;
      }
      const owners = sources.map(([f, s]) => (s.kind === 'owner' && pushable(s.owner, column(f)) ? s : null));
      if (owners.some((o) => o === null)) continue;
      const member = owners[0]!.owner.member;
      if (!owners.every((o) => o!.owner.member === member)) continue;
      const renamed = renameFields(
        conjunct,
        (f) => owners[sources.findIndex(([g]) => g === f)]!.owner.column.name,
      );
      if (member === driver) plan.pushed.push(renamed);
      // Entities failing it cannot show: when the member must hold them, or when a row it lacks
      // (all NULL there) fails it anyway.
      else if (owners.every((o) => o!.certain) || rejectsNulls(conjunct))
        plan.dynamic.push({ member, filter: renamed });
    }
    plan.sort = driverSort(sort, (name) => sourceOf(column(name), driver, absent, present), column, driver);
    plans.push(plan);
  }
  return plans;
}

function driverSort(
  sort: SortTerm[],
  sourceFor: (name: string) => Source,
  column: (name: string) => ResolvedColumn,
  driver: number,
): StreamPlan['sort'] {
  const terms: NonNullable<StreamPlan['sort']> = [];
  for (const term of sort) {
    const source = sourceFor(term.field);
    const type = column(term.field).schema.type;
    if (source.kind === 'null') terms.push({ dir: term.dir, column: null, type });
    else if (
      source.kind === 'owner' &&
      source.owner.member === driver &&
      pushable(source.owner, column(term.field))
    )
      terms.push({ dir: term.dir, column: source.owner.column.name, type });
    else return null;
  }
  return terms;
}
