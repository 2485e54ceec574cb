/**
 * Reduction plans along one line of cores (a row or a column of a region; positions 0 … L−1 along
 * the line): who streams into whom, level by level. Pure data, shared by the generator
 * (allreduce-emit.ts) and the cost function (allreduce-timing.ts), so both read one plan.
 *
 * A plan is a list of levels. The members of level 1 are all positions; the members of level l+1
 * are the roots of level l. Each level partitions its members into contiguous groups; in a group,
 * the members left of the root (lower positions) stream toward + (east / south) and those right of
 * it toward − (west / north), each member combining its own partial into the stream as it passes
 * (a chain of `forward`s), and the root receives both streams. The root of the single group of the
 * last level is the global root.
 *
 * - chain: one level, one group, root at L − 1 (every core streams toward +): L − 1 combining
 *   stages in series.
 * - K-tree (WaferLLM's MeshGEMV): K levels; level 1 has `groups` groups of ~L/groups cores, every
 *   later level divides the remaining roots by the same factor, the last level has one group. With
 *   K = 2 and ⌈√L⌉ groups, ~√L/2 combining stages per level.
 *
 * Group sizes differ by at most one; the larger groups are put farthest from the middle group (whose
 * root is the next level's root). That keeps the level-l roots far from
 * the global root finishing no earlier than the nearer ones, which is what lets a small (eager)
 * level-(l+1) stream pass through a nearer group's territory without meeting its level-l streams
 * (allreduce-timing.ts verifies this for every plan it times).
 */

/** One group of one level. */
export interface PlanGroup {
  /** Position of the group's root. */
  root: number;
  /** Members below the root, farthest first (increasing positions): they stream toward +. */
  left: number[];
  /** Members above the root, farthest first (decreasing positions): they stream toward −. */
  right: number[];
}

export interface TreePlan {
  /** Cores on the line. */
  length: number;
  /** levels[l] holds the groups of level l + 1 (groups with no member besides the root are kept). */
  levels: PlanGroup[][];
  /** Position that holds the result after the reduction. */
  root: number;
}

const range = (a: number, b: number): number[] => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

/** The chain (pipeline) reduction: everyone streams toward the root at position L − 1. */
export function chainPlan(length: number): TreePlan {
  if (length <= 1) return { length, levels: [], root: 0 };
  return { length, levels: [[{ root: length - 1, left: range(0, length - 1), right: [] }]], root: length - 1 };
}

/** Default level-1 group count of a K-tree over L cores: ⌈L^((K−1)/K)⌉, i.e. groups of ~L^(1/K) cores. */
export function defaultGroups(length: number, k: number): number {
  if (k <= 1) return 1;
  // Smallest g with g^k ≥ L^(k−1), computed without trusting a floating-point root at integer edges.
  let g = Math.max(1, Math.floor(length ** ((k - 1) / k)));
  while (g ** k < length ** (k - 1)) g++;
  while (g > 1 && (g - 1) ** k >= length ** (k - 1)) g--;
  return Math.min(g, length);
}

/**
 * Sizes of `count` contiguous groups over n members, differing by at most one: the extra members go
 * to the groups farthest from the middle group (index ⌊(count − 1)/2⌋, the one whose root becomes
 * the next level's root), the lower index first between two at the same distance.
 */
export function endHeavySizes(n: number, count: number): number[] {
  const q = Math.floor(n / count);
  const sizes = new Array<number>(count).fill(q);
  const mid = Math.floor((count - 1) / 2);
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => Math.abs(b - mid) - Math.abs(a - mid) || a - b);
  for (let i = 0; i < n - q * count; i++) sizes[order[i]]++;
  return sizes;
}

/** The root of a group of sorted members: the middle one (the − side no longer than the + side). */
function groupOf(members: number[]): PlanGroup {
  const r = Math.floor((members.length - 1) / 2);
  return { root: members[r], left: members.slice(0, r), right: members.slice(r + 1).reverse() };
}

/**
 * The K-tree plan: k levels with `groups` groups at level 1 (default defaultGroups(L, k)), built top
 * down so that the size ordering holds at every level: a subtree of level l over a range of
 * positions splits into round(size / span) contiguous subtrees of level l − 1 (span: positions a
 * level-(l−1) subtree covers on average — L / groups for level 1, times groups^(1/(k−1)) per level
 * above), sized by endHeavySizes, and its group is the subtrees' roots with the middle one as root.
 * For k = 2 this is exactly `groups` level-1 groups of ⌊L/groups⌋ or ⌈L/groups⌉ cores.
 */
export function ktreePlan(length: number, k: number, groups = defaultGroups(length, k)): TreePlan {
  if (length <= 1) return { length, levels: [], root: 0 };
  const levels: PlanGroup[][] = Array.from({ length: k }, () => []);
  const branch = k > 1 ? groups ** (1 / (k - 1)) : 1;
  // span[l]: positions a subtree of level l covers on average (span[0] = 1: one position).
  const span = [1, length / groups];
  for (let l = 2; l <= k; l++) span.push(span[l - 1] * branch);
  const build = (lo: number, hi: number, l: number): number => {
    const size = hi - lo;
    if (l === 0) return lo;
    const count = l === 1 ? size : Math.max(1, Math.min(size, Math.round(size / span[l - 1])));
    let at = lo;
    const roots = endHeavySizes(size, count).map((s) => { const r = build(at, at + s, l - 1); at += s; return r; });
    const g = groupOf(roots);
    levels[l - 1].push(g);
    return g.root;
  };
  const root = build(0, length, k);
  // Drop the levels where every group is a lone root (nothing moves there).
  const used = levels.filter((lv) => lv.some((g) => g.left.length || g.right.length));
  return { length, levels: used, root };
}

/** Longest chain of a plan's level (members on one side of a root), for reports. */
export function levelStages(plan: TreePlan): number[] {
  return plan.levels.map((lv) => Math.max(0, ...lv.map((g) => Math.max(g.left.length, g.right.length))));
}
