/**
 * Groups of matched records: a union-find (disjoint set) over dense record ids 0..size-1, with union
 * by size and path halving, so building clusters from millions of matched pairs stays near linear.
 *
 * @example
 * ```ts
 * const clusters = new Clusters(5);
 * clusters.union(3, 1);
 * clusters.union(1, 4);
 * clusters.groups(); // [[0], [1, 3, 4], [2]]
 * ```
 */
export class Clusters {
  readonly size: number;
  private readonly parent: Int32Array;
  private readonly members: Int32Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 0)
      throw new RangeError(`cluster size must be a whole number >= 0, got ${size}`);
    this.size = size;
    this.parent = new Int32Array(size);
    this.members = new Int32Array(size).fill(1);
    for (let i = 0; i < size; i++) this.parent[i] = i;
  }

  /** Puts `a` and `b` (and everything already with either) in one group. */
  union(a: number, b: number): void {
    let rootA = this.find(a);
    let rootB = this.find(b);
    if (rootA === rootB) return;
    if (this.members[rootA]! < this.members[rootB]!) [rootA, rootB] = [rootB, rootA];
    this.parent[rootB] = rootA;
    this.members[rootA]! += this.members[rootB]!;
  }

  /** The representative of the group of `a`: two ids are in one group when their finds are equal. */
  find(a: number): number {
    if (!Number.isInteger(a) || a < 0 || a >= this.size)
      throw new RangeError(`record id ${a} is outside 0..${this.size - 1}`);
    let node = a;
    while (this.parent[node] !== node) {
      const grandparent = this.parent[this.parent[node]!]!;
      this.parent[node] = grandparent;
      node = grandparent;
    }
    return node;
  }

  /** Every group (singletons included), each sorted ascending, groups ordered by their smallest member. */
  groups(): number[][] {
    const groupOfRoot = new Int32Array(this.size).fill(-1);
    const groups: number[][] = [];
    // Ascending ids: a group is created at its smallest member and filled in ascending order.
    for (let id = 0; id < this.size; id++) {
      const root = this.find(id);
      let index = groupOfRoot[root]!;
      if (index === -1) {
        index = groups.length;
        groupOfRoot[root] = index;
        groups.push([]);
      }
      groups[index]!.push(id);
    }
    return groups;
  }
}
