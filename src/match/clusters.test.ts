import { describe, expect, it } from 'vitest';
import { Clusters } from './clusters.js';

describe('Clusters', () => {
  it('starts with every record alone', () => {
    const clusters = new Clusters(3);
    expect(clusters.groups()).toEqual([[0], [1], [2]]);
    expect(new Clusters(0).groups()).toEqual([]);
  });

  it('joins transitively and answers sorted groups ordered by their smallest member', () => {
    const clusters = new Clusters(7);
    clusters.union(5, 3);
    clusters.union(6, 1);
    clusters.union(3, 1);
    clusters.union(1, 3);
    expect(clusters.find(6)).toBe(clusters.find(5));
    expect(clusters.find(0)).not.toBe(clusters.find(5));
    expect(clusters.groups()).toEqual([[0], [1, 3, 5, 6], [2], [4]]);
  });

  it('stays shallow on a long chain', () => {
    const size = 100_000;
    const clusters = new Clusters(size);
    for (let i = 1; i < size; i++) clusters.union(i - 1, i);
    const groups = clusters.groups();
    expect(groups).toHaveLength(1);
    expect(groups[0]![size - 1]).toBe(size - 1);
  });

  it('refuses ids outside the range', () => {
    const clusters = new Clusters(2);
    expect(() => clusters.find(2)).toThrow(RangeError);
    expect(() => clusters.union(-1, 0)).toThrow(RangeError);
    expect(() => new Clusters(-1)).toThrow(RangeError);
  });
});
