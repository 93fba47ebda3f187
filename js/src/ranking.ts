// Ranking with tie groups: pure, immutable operations. `groups` is best first; `pool` holds unranked ids.

export interface RankState {
  groups: string[][];
  pool: string[];
  /** Rank numbers typed with the number keys on this item (see placeAt); other operations drop them. */
  typed?: Record<string, number>;
}

export function initialRank(order: readonly string[]): RankState {
  return { groups: [], pool: [...order] };
}

/** A stored ranking restored onto an item (unknown ids dropped, missing ids left in the pool). */
export function rankFromGroups(groups: readonly (readonly string[])[], order: readonly string[]): RankState {
  const known = new Set(order);
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const g of groups) {
    const kept = g.filter((id) => known.has(id) && !seen.has(id));
    for (const id of kept) seen.add(id);
    if (kept.length) out.push(kept);
  }
  return { groups: out, pool: order.filter((id) => !seen.has(id)) };
}

export function isComplete(s: RankState): boolean {
  return s.pool.length === 0 && s.groups.length > 0;
}

export function hasTie(s: RankState): boolean {
  return s.groups.some((g) => g.length > 1);
}

/** 0-based group index of an id, or -1 when it is in the pool. */
export function groupOf(s: RankState, id: string): number {
  return s.groups.findIndex((g) => g.includes(id));
}

function without(s: RankState, id: string): RankState {
  return {
    groups: s.groups.map((g) => g.filter((x) => x !== id)).filter((g) => g.length > 0),
    pool: s.pool.filter((x) => x !== id),
  };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/** Put `id` alone in a new group inserted at `index` (0 = best; clamped), e.g. drop between two groups. */
export function insertGroup(s: RankState, id: string, index: number): RankState {
  const before = groupOf(s, id);
  const rest = without(s, id);
  // Removing the id may have emptied a group above the target: shift the target up to compensate.
  let at = index;
  if (before >= 0 && before < index && s.groups[before]?.length === 1) at -= 1;
  at = clamp(at, 0, rest.groups.length);
  const groups = [...rest.groups.slice(0, at), [id], ...rest.groups.slice(at)];
  return { groups, pool: rest.pool };
}

/** Add `id` to the existing group at `index` (a tie), e.g. drop onto a group. */
export function joinGroup(s: RankState, id: string, index: number): RankState {
  const target = s.groups[index];
  if (target === undefined) return insertGroup(s, id, index);
  if (target.includes(id)) return s;
  const before = groupOf(s, id);
  const rest = without(s, id);
  let at = index;
  if (before >= 0 && before < index && s.groups[before]?.length === 1) at -= 1;
  const groups = rest.groups.map((g, i) => (i === at ? [...g, id] : g));
  return { groups, pool: rest.pool };
}

/** Click-to-rank: the next unranked response clicked becomes the next rank (a new group at the end). */
export function appendRank(s: RankState, id: string): RankState {
  if (groupOf(s, id) >= 0) return s;
  return insertGroup(s, id, s.groups.length);
}

/**
 * Number keys: give `id` the rank number `rank` (1-based). The numbers typed on this item are kept in `typed`,
 * and the ranking is the ids sorted by their numbers: ranks typed in any order give that order (a = 2, b = 1,
 * c = 4, d = 3 gives B > A > D > C), and only the same number typed for two ids ties them. When the ranking
 * was changed another way (drag, move, tie), the numbers start again from the groups as shown (1, 2, ...).
 */
export function placeAt(s: RankState, id: string, rank: number): RankState {
  const numbers = currentNumbers(s);
  if (numbers[id] === Math.max(1, rank)) return { ...s, typed: numbers }; // already there
  numbers[id] = Math.max(1, rank);
  const ids = [...s.groups.flat().filter((x) => x !== id), id]; // a card joining a tie goes last in it
  const values = [...new Set(ids.map((x) => numbers[x] as number))].sort((a, b) => a - b);
  const groups = values.map((v) => ids.filter((x) => numbers[x] === v));
  return { groups, pool: s.pool.filter((x) => x !== id), typed: numbers };
}

/** The rank numbers behind `s`: the typed ones when they still describe its groups, else 1, 2, ... per group. */
function currentNumbers(s: RankState): Record<string, number> {
  const typed = s.typed;
  if (typed && s.groups.every((g) => g.every((x) => typed[x] === typed[g[0] as string]))) {
    const firsts = s.groups.map((g) => typed[g[0] as string] as number);
    if (firsts.every((v, i) => i === 0 || v > (firsts[i - 1] as number))) {
      const out: Record<string, number> = {};
      for (const g of s.groups) for (const x of g) out[x] = typed[x] as number;
      return out;
    }
  }
  const out: Record<string, number> = {};
  s.groups.forEach((g, i) => {
    for (const x of g) out[x] = i + 1;
  });
  return out;
}

/** Back to the pool (unranked). */
export function unrank(s: RankState, id: string): RankState {
  if (groupOf(s, id) < 0) return s;
  const rest = without(s, id);
  return { groups: rest.groups, pool: [...rest.pool, id] };
}

/**
 * Move up (-1) or down (+1) one step. A tied id first leaves its group to stand alone just above/below it;
 * a lone id swaps with the neighbouring group. An unranked id moving up joins the ranking at the bottom.
 */
export function move(s: RankState, id: string, delta: -1 | 1): RankState {
  const g = groupOf(s, id);
  if (g < 0) return delta < 0 ? appendRank(s, id) : s;
  const group = s.groups[g] as string[];
  if (group.length > 1) {
    const rest = without(s, id);
    const at = delta < 0 ? g : g + 1;
    return { groups: [...rest.groups.slice(0, at), [id], ...rest.groups.slice(at)], pool: rest.pool };
  }
  const target = g + delta;
  if (target < 0) return s;
  if (target >= s.groups.length) return s;
  const groups = s.groups.map((x) => [...x]);
  const tmp = groups[target] as string[];
  groups[target] = group.slice();
  groups[g] = tmp;
  return { groups, pool: [...s.pool] };
}

/** Tie `id` with the group above it (no-op for the best group). */
export function tieWithAbove(s: RankState, id: string): RankState {
  const g = groupOf(s, id);
  if (g <= 0) {
    // An unranked id ties with the current last group.
    if (g < 0 && s.groups.length > 0) return joinGroup(s, id, s.groups.length - 1);
    return s;
  }
  return joinGroup(s, id, g - 1);
}

/** Untie: take `id` out of its tie group into its own group just below it. */
export function untie(s: RankState, id: string): RankState {
  const g = groupOf(s, id);
  if (g < 0 || (s.groups[g]?.length ?? 0) < 2) return s;
  const rest = without(s, id);
  return { groups: [...rest.groups.slice(0, g + 1), [id], ...rest.groups.slice(g + 1)], pool: rest.pool };
}

/** Drag-and-drop: `target` is a group (tie) or a gap before group `index` (new group). */
export type DropTarget = { kind: "group"; index: number } | { kind: "gap"; index: number } | { kind: "pool" };

export function drop(s: RankState, id: string, target: DropTarget): RankState {
  switch (target.kind) {
    case "group":
      return joinGroup(s, id, target.index);
    case "gap":
      return insertGroup(s, id, target.index);
    case "pool":
      return unrank(s, id);
  }
}
