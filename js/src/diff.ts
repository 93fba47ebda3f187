// Word-level diff between two texts (Myers' O(ND) algorithm on word/space tokens), for the pairwise diff view.

export type DiffOp = "same" | "del" | "ins";
export interface DiffPart {
  op: DiffOp;
  text: string;
}

/** Words, runs of whitespace and single punctuation marks, so a changed comma does not mark a whole word. */
export function tokenize(s: string): string[] {
  return s.match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) ?? [];
}

/** Shortest edit script between token arrays; gives up (one big replace) beyond `maxEdits`. */
function myers(a: readonly string[], b: readonly string[], maxEdits: number): DiffPart[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxEdits);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    // Keep only the diagonals the backtrack can read at this d (memory grows with d^2, not d * (n+m)).
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && (v[off + k - 1] ?? 0) < (v[off + k + 1] ?? 0))) x = v[off + k + 1] ?? 0;
      else x = (v[off + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(trace, a, b, d);
    }
  }
  return null;
}

function backtrack(trace: Int32Array[], a: readonly string[], b: readonly string[], dEnd: number): DiffPart[] {
  const parts: DiffPart[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = dEnd; d > 0; d--) {
    const v = trace[d] as Int32Array;
    const at = (kk: number): number => v[kk + d + 1] ?? 0;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      parts.push({ op: "same", text: a[--x] as string });
      y--;
    }
    if (x === prevX) parts.push({ op: "ins", text: b[--y] as string });
    else parts.push({ op: "del", text: a[--x] as string });
  }
  while (x > 0 && y > 0) {
    parts.push({ op: "same", text: a[--x] as string });
    y--;
  }
  return parts.reverse();
}

function merge(parts: DiffPart[]): DiffPart[] {
  const out: DiffPart[] = [];
  for (const p of parts) {
    if (!p.text) continue;
    const last = out[out.length - 1];
    if (last && last.op === p.op) last.text += p.text;
    else out.push({ ...p });
  }
  return out;
}

/**
 * Diff `a` -> `b`. Common prefix/suffix are trimmed first (cheap and usual for near-duplicate responses);
 * when the middles need more than `maxEdits` edits the middle is reported as one replacement.
 */
export function wordDiff(a: string, b: string, maxEdits = 1500): DiffPart[] {
  const ta = tokenize(a);
  const tb = tokenize(b);
  let pre = 0;
  while (pre < ta.length && pre < tb.length && ta[pre] === tb[pre]) pre++;
  let suf = 0;
  while (suf < ta.length - pre && suf < tb.length - pre && ta[ta.length - 1 - suf] === tb[tb.length - 1 - suf]) {
    suf++;
  }
  const ma = ta.slice(pre, ta.length - suf);
  const mb = tb.slice(pre, tb.length - suf);
  const middle = myers(ma, mb, maxEdits) ?? [
    { op: "del" as const, text: ma.join("") },
    { op: "ins" as const, text: mb.join("") },
  ];
  return merge([
    { op: "same", text: ta.slice(0, pre).join("") },
    ...middle,
    { op: "same", text: ta.slice(ta.length - suf).join("") },
  ]);
}

/** The text of one side: `a` keeps same+del, `b` keeps same+ins. */
export function side(parts: readonly DiffPart[], which: "a" | "b"): DiffPart[] {
  return parts.filter((p) => p.op === "same" || p.op === (which === "a" ? "del" : "ins"));
}
