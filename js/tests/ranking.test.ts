import { describe, expect, it } from "vitest";
import * as rk from "../src/ranking";

const S = (groups: string[][], pool: string[] = []): rk.RankState => ({ groups, pool });

describe("ranking operations", () => {
  it("starts with everything unranked and completes when the pool is empty", () => {
    const s = rk.initialRank(["a", "b", "c"]);
    expect(s).toEqual(S([], ["a", "b", "c"]));
    expect(rk.isComplete(s)).toBe(false);
    expect(rk.isComplete(S([["a"], ["b", "c"]]))).toBe(true);
  });

  it("click-to-rank appends new groups in click order and ignores ranked ids", () => {
    let s = rk.initialRank(["a", "b", "c"]);
    s = rk.appendRank(s, "c");
    s = rk.appendRank(s, "a");
    s = rk.appendRank(s, "c");
    expect(s).toEqual(S([["c"], ["a"]], ["b"]));
    s = rk.appendRank(s, "b");
    expect(s).toEqual(S([["c"], ["a"], ["b"]]));
  });

  it("placeAt gives the id that rank number; the same number as another id ties them", () => {
    const G = (x: rk.RankState): rk.RankState => ({ groups: x.groups, pool: x.pool });
    const s = S([["a"], ["b"], ["c"]]);
    expect(G(rk.placeAt(s, "c", 1))).toEqual(S([["a", "c"], ["b"]]));
    expect(G(rk.placeAt(s, "a", 3))).toEqual(S([["b"], ["c", "a"]]));
    expect(G(rk.placeAt(s, "a", 4))).toEqual(S([["b"], ["c"], ["a"]]));
    expect(G(rk.placeAt(s, "a", 9))).toEqual(S([["b"], ["c"], ["a"]]));
    expect(G(rk.placeAt(s, "b", 2))).toEqual(s); // already there
    expect(G(rk.placeAt(S([["a", "x"], ["b"]]), "a", 1))).toEqual(S([["a", "x"], ["b"]]));
    expect(G(rk.placeAt(S([["a", "x"], ["b"]]), "a", 3))).toEqual(S([["x"], ["b"], ["a"]]));
    expect(G(rk.placeAt(S([["a"]], ["b"]), "b", 1))).toEqual(S([["a", "b"]]));
    expect(G(rk.placeAt(S([["a"]], ["b"]), "b", 2))).toEqual(S([["a"], ["b"]]));
    expect(G(rk.placeAt(S([], ["a", "b"]), "b", 5))).toEqual(S([["b"]], ["a"]));
  });

  it("number keys in a row: the same number for two cards ties them", () => {
    let s = rk.initialRank(["a", "b", "c", "d"]);
    s = rk.placeAt(s, "a", 1);
    s = rk.placeAt(s, "b", 2);
    s = rk.placeAt(s, "c", 2);
    s = rk.placeAt(s, "d", 3);
    expect(s.groups).toEqual([["a"], ["b", "c"], ["d"]]);
    expect(s.pool).toEqual([]);
  });

  it("issue 14 finding 3: ranks typed in any order give that order, never a silent tie", () => {
    let s = rk.initialRank(["a", "b", "c", "d"]);
    s = rk.placeAt(s, "a", 2);
    s = rk.placeAt(s, "b", 1);
    s = rk.placeAt(s, "c", 4);
    s = rk.placeAt(s, "d", 3);
    expect(s.groups).toEqual([["b"], ["a"], ["d"], ["c"]]);
    expect(rk.hasTie(s)).toBe(false);
    // every order of typing the same numbers gives the same ranking
    const perms = [
      ["d", "c", "b", "a"],
      ["c", "a", "d", "b"],
      ["b", "d", "a", "c"],
    ];
    const want: Record<string, number> = { a: 2, b: 1, c: 4, d: 3 };
    for (const p of perms) {
      let t = rk.initialRank(["a", "b", "c", "d"]);
      for (const id of p) t = rk.placeAt(t, id, want[id] as number);
      expect(t.groups).toEqual([["b"], ["a"], ["d"], ["c"]]);
    }
    // a retyped number moves the card; after another kind of edit the numbers restart from the groups shown
    s = rk.placeAt(s, "c", 1);
    expect(s.groups).toEqual([["b", "c"], ["a"], ["d"]]);
    s = rk.untie(s, "c");
    s = rk.placeAt(s, "d", 1);
    expect(s.groups).toEqual([["b", "d"], ["c"], ["a"]]);
  });

  it("joinGroup ties an id with a group (drop onto a group)", () => {
    expect(rk.joinGroup(S([["a"], ["b"], ["c"]]), "a", 2)).toEqual(S([["b"], ["c", "a"]]));
    expect(rk.joinGroup(S([["a"], ["b"]], ["c"]), "c", 0)).toEqual(S([["a", "c"], ["b"]]));
    expect(rk.joinGroup(S([["a", "b"]]), "a", 0)).toEqual(S([["a", "b"]]));
    expect(rk.joinGroup(S([["c"], ["a", "b"]]), "c", 1)).toEqual(S([["a", "b", "c"]]));
  });

  it("move swaps a lone id with its neighbour and splits a tied id out of its group", () => {
    const s = S([["a"], ["b"], ["c"]]);
    expect(rk.move(s, "b", -1)).toEqual(S([["b"], ["a"], ["c"]]));
    expect(rk.move(s, "b", 1)).toEqual(S([["a"], ["c"], ["b"]]));
    expect(rk.move(s, "a", -1)).toEqual(s);
    expect(rk.move(s, "c", 1)).toEqual(s);
    const t = S([["a"], ["b", "c"], ["d"]]);
    expect(rk.move(t, "c", -1)).toEqual(S([["a"], ["c"], ["b"], ["d"]]));
    expect(rk.move(t, "b", 1)).toEqual(S([["a"], ["c"], ["b"], ["d"]]));
    // An unranked id moving up joins the ranking at the bottom; moving down does nothing.
    expect(rk.move(S([["a"]], ["b"]), "b", -1)).toEqual(S([["a"], ["b"]]));
    expect(rk.move(S([["a"]], ["b"]), "b", 1)).toEqual(S([["a"]], ["b"]));
  });

  it("tie with the group above, and untie", () => {
    const s = S([["a"], ["b"], ["c"]]);
    const tied = rk.tieWithAbove(s, "c");
    expect(tied).toEqual(S([["a"], ["b", "c"]]));
    expect(rk.hasTie(tied)).toBe(true);
    expect(rk.tieWithAbove(s, "a")).toEqual(s);
    expect(rk.tieWithAbove(tied, "c")).toEqual(S([["a", "c"], ["b"]]));
    expect(rk.untie(tied, "b")).toEqual(S([["a"], ["c"], ["b"]]));
    expect(rk.untie(s, "b")).toEqual(s);
    expect(rk.tieWithAbove(S([["a"]], ["b"]), "b")).toEqual(S([["a", "b"]]));
  });

  it("unrank returns an id to the pool", () => {
    expect(rk.unrank(S([["a"], ["b"]]), "a")).toEqual(S([["b"]], ["a"]));
    expect(rk.unrank(S([["a"]], ["b"]), "b")).toEqual(S([["a"]], ["b"]));
  });

  it("drop dispatches to join / insert / unrank", () => {
    const s = S([["a"], ["b"]], ["c"]);
    expect(rk.drop(s, "c", { kind: "group", index: 1 })).toEqual(S([["a"], ["b", "c"]]));
    expect(rk.drop(s, "c", { kind: "gap", index: 1 })).toEqual(S([["a"], ["c"], ["b"]]));
    expect(rk.drop(s, "c", { kind: "gap", index: 0 })).toEqual(S([["c"], ["a"], ["b"]]));
    expect(rk.drop(s, "a", { kind: "pool" })).toEqual(S([["b"]], ["c", "a"]));
    expect(rk.drop(s, "a", { kind: "gap", index: 2 })).toEqual(S([["b"], ["a"]], ["c"]));
  });

  it("restores a stored ranking, dropping unknown ids and pooling missing ones", () => {
    expect(rk.rankFromGroups([["b"], ["a", "zz"], ["a"]], ["a", "b", "c"])).toEqual(S([["b"], ["a"]], ["c"]));
  });

  it("never loses or duplicates an id under random operations", () => {
    const ids = ["a", "b", "c", "d", "e"];
    let s = rk.initialRank(ids);
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 2000; step++) {
      const id = ids[rand(ids.length)] as string;
      const op = rand(8);
      if (op === 0) s = rk.appendRank(s, id);
      else if (op === 1) s = rk.placeAt(s, id, 1 + rand(6));
      else if (op === 2) s = rk.move(s, id, rand(2) ? 1 : -1);
      else if (op === 3) s = rk.tieWithAbove(s, id);
      else if (op === 4) s = rk.untie(s, id);
      else if (op === 5) s = rk.unrank(s, id);
      else if (op === 6) s = rk.joinGroup(s, id, rand(s.groups.length + 1));
      else s = rk.insertGroup(s, id, rand(s.groups.length + 2));
      const all = [...s.groups.flat(), ...s.pool].sort();
      expect(all).toEqual(ids);
      expect(s.groups.every((g) => g.length > 0)).toBe(true);
    }
  });
});
