// Defensive readers for the synced traits: Python is authoritative, but a malformed value must degrade to a
// sensible default instead of throwing inside render().

import { parseKeymap } from "./keymap";
import type {
  ChatTurn,
  Config,
  Flag,
  Guidelines,
  Item,
  Note,
  PriorLabel,
  Progress,
  RationaleRule,
  Response,
} from "./types";

const RULES: readonly RationaleRule[] = [
  "off",
  "optional",
  "required",
  "required_if_tie",
  "required_if_strong",
  "required_if_flagged",
];

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown, fallback = ""): string {
  return typeof v === "string" ? v : fallback;
}

function int(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : fallback;
}

function strList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

export function parseConfig(raw: unknown): Config {
  const r = isRecord(raw) ? raw : {};
  const flags: Flag[] = [];
  if (Array.isArray(r.flags)) {
    for (const f of r.flags) {
      if (typeof f === "string") flags.push({ id: f, label: f });
      else if (isRecord(f) && typeof f.id === "string") flags.push({ id: f.id, label: str(f.label, f.id) });
    }
  }
  const rule = RULES.find((x) => x === r.rationale) ?? "optional";
  return {
    task: r.task === "ranking" ? "ranking" : "pairwise",
    criteria: strList(r.criteria),
    scale: Math.min(10, Math.max(2, int(r.scale, 5))),
    rationale: rule,
    max_rationale_chars: Math.max(1, int(r.max_rationale_chars, 10_000)),
    flags,
    annotator: str(r.annotator),
    show_diff: r.show_diff === true,
    collapse_chars: Math.max(0, int(r.collapse_chars, 4000)),
    allow_remote_images: r.allow_remote_images === true,
    ratings_required: r.ratings_required === true,
    keymap: parseKeymap(r.keymap),
    durable: r.durable === true, // unknown: never claim the disk
  };
}

export function parseGuidelines(raw: unknown): Guidelines {
  const r = isRecord(raw) ? raw : {};
  return {
    version: typeof r.version === "string" ? r.version : null,
    markdown: str(r.markdown),
    // "" is still a change (Python wants every later version acknowledged); only null marks the first version.
    changes: typeof r.changes === "string" ? r.changes : null,
  };
}

export function parseProgress(raw: unknown): Progress {
  const r = isRecord(raw) ? raw : {};
  return {
    done: int(r.done, 0),
    total: int(r.total, 0),
    skipped: int(r.skipped, 0),
    store_done: int(r.store_done, 0),
    store_total: int(r.store_total, 0),
  };
}

function parsePrompt(v: unknown): string | ChatTurn[] {
  if (Array.isArray(v)) {
    return v.filter(isRecord).map((t) => ({ role: str(t.role, "?"), content: str(t.content) }));
  }
  return str(v);
}

function parseLabel(v: unknown): PriorLabel | null {
  if (!isRecord(v)) return null;
  const ranking = Array.isArray(v.ranking) ? v.ranking.filter(Array.isArray).map(strList) : null;
  let ratings: Record<string, Record<string, number>> | null = null;
  if (isRecord(v.ratings)) {
    ratings = {};
    for (const [rid, per] of Object.entries(v.ratings)) {
      if (!isRecord(per)) continue;
      const out: Record<string, number> = {};
      for (const [c, s] of Object.entries(per)) if (typeof s === "number") out[c] = s;
      ratings[rid] = out;
    }
  }
  return {
    label_id: str(v.label_id),
    status: str(v.status, "submitted"),
    ranking,
    winner: typeof v.winner === "string" ? v.winner : null,
    strength: typeof v.strength === "number" ? v.strength : null,
    ratings,
    rationale: str(v.rationale),
    flags: strList(v.flags),
    flag_note: str(v.flag_note),
    revision: int(v.revision, 1),
  };
}

export function parseItem(raw: unknown): Item | null {
  if (!isRecord(raw) || typeof raw.item_id !== "string" || typeof raw.index !== "number") return null;
  const responses: Response[] = Array.isArray(raw.responses)
    ? raw.responses
        .filter(isRecord)
        .filter((r) => typeof r.response_id === "string")
        .map((r) => ({ response_id: r.response_id as string, text: str(r.text) }))
    : [];
  const order = strList(raw.display_order);
  return {
    index: Math.trunc(raw.index),
    item_id: raw.item_id,
    prompt: parsePrompt(raw.prompt),
    responses,
    display_order: order.length === responses.length ? order : responses.map((r) => r.response_id),
    metadata: isRecord(raw.metadata) ? raw.metadata : {},
    guideline_version: typeof raw.guideline_version === "string" ? raw.guideline_version : null,
    label: parseLabel(raw.label),
    notes: parseNotes(raw.notes),
  };
}

/** A lead's review notes of an item (at most 5 kept; each text cut at 2,000 characters). */
export function parseNotes(raw: unknown): Note[] {
  if (!Array.isArray(raw)) return [];
  const out: Note[] = [];
  for (const n of raw.slice(-5)) {
    if (!isRecord(n) || typeof n.id !== "string" || typeof n.text !== "string") continue;
    out.push({
      kind: n.kind === "requeue" ? "requeue" : "comment",
      id: n.id.slice(0, 300),
      text: n.text.slice(0, 2000),
      by: str(n.by).slice(0, 256),
      at: str(n.at).slice(0, 40),
      queue: typeof n.queue === "string" ? n.queue.slice(0, 64) : undefined,
      read: n.read === true,
    });
  }
  return out;
}

export function parseWindow(raw: unknown): Item[] {
  if (!Array.isArray(raw)) return [];
  return raw.map(parseItem).filter((x): x is Item => x !== null);
}
