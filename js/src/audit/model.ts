// AuditWidget's synced state, read defensively (Python is authoritative; a malformed value degrades to a
// default instead of throwing inside render), and the pure helpers the view uses. No DOM here.
import { isRecord } from "../coerce";
import type { ChatTurn, Ranking } from "../types";

export interface AuditConfig {
  adjudicator: string;
  options: Record<string, string[]>;
  filters: string[];
  rationaleRequired: boolean;
  maxRationaleChars: number;
  maxReasonChars: number;
}

export interface AuditRow {
  item_id: string;
  rank: number;
  task: string;
  snippet: string;
  n_labels: number;
  n_annotators: number;
  disagreement: number | null;
  majority: string | null;
  majority_share: number | null;
  outcomes: Record<string, number>;
  flags: string[];
  adjudicated: boolean;
}

export interface AuditLabel {
  label_id: string;
  annotator: string;
  source: string;
  status: string;
  ranking: Ranking | null;
  winner: string | null;
  strength: number | null;
  ratings: Record<string, Record<string, number>>;
  rationale: string;
  flags: string[];
  flag_note: string;
  display_order: string[];
  guideline_version: string | null;
  revision: number;
  submitted_at: string | null;
  active_ms: number | null;
}

export interface HistoryRow {
  label_id: string;
  annotator: string;
  source: string;
  revision: number;
  status: string;
  outcome: string;
  supersedes: string | null;
  submitted_at: string | null;
}

export interface AuditResponse {
  response_id: string;
  text: string;
  model: string | null;
}

export interface AuditDetail {
  item_id: string;
  task: string;
  prompt: string | ChatTurn[];
  responses: AuditResponse[];
  labels: AuditLabel[];
  majority: {
    outcome: string | null;
    share: number | null;
    disagreement: number | null;
    ranking: Ranking;
    strength: number | null;
  };
  history: HistoryRow[];
}

const str = (v: unknown, d = ""): string => (typeof v === "string" ? v : d);
const strOrNull = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown, d = 0): number => (typeof v === "number" && Number.isFinite(v) ? v : d);
const numOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

export function parseRanking(v: unknown): Ranking | null {
  if (!Array.isArray(v)) return null;
  const out = v.map(strList).filter((g) => g.length > 0);
  return out.length ? out : null;
}

export function parseAuditConfig(raw: unknown): AuditConfig {
  const r = isRecord(raw) ? raw : {};
  const options: Record<string, string[]> = {};
  if (isRecord(r.options)) for (const [k, v] of Object.entries(r.options)) options[k] = strList(v);
  return {
    adjudicator: str(r.adjudicator),
    options,
    filters: strList(r.filters),
    rationaleRequired: r.rationale_required !== false,
    maxRationaleChars: num(r.max_rationale_chars, 10000),
    maxReasonChars: num(r.max_reason_chars, 2000),
  };
}

export function parseRows(raw: unknown): AuditRow[] {
  if (!Array.isArray(raw)) return [];
  const out: AuditRow[] = [];
  for (const x of raw) {
    if (!isRecord(x) || typeof x.item_id !== "string") continue;
    const outcomes: Record<string, number> = {};
    if (isRecord(x.outcomes)) for (const [k, v] of Object.entries(x.outcomes)) outcomes[k] = num(v);
    out.push({
      item_id: x.item_id,
      rank: num(x.rank),
      task: str(x.task),
      snippet: str(x.snippet),
      n_labels: num(x.n_labels),
      n_annotators: num(x.n_annotators),
      disagreement: numOrNull(x.disagreement),
      majority: strOrNull(x.majority),
      majority_share: numOrNull(x.majority_share),
      outcomes,
      flags: strList(x.flags),
      adjudicated: x.adjudicated === true,
    });
  }
  return out;
}

function parsePrompt(v: unknown): string | ChatTurn[] {
  if (typeof v === "string") return v;
  if (!Array.isArray(v)) return "";
  return v.filter(isRecord).map((t) => ({ role: str(t.role, "user"), content: str(t.content) }));
}

function parseLabel(x: Record<string, unknown>): AuditLabel {
  const ratings: Record<string, Record<string, number>> = {};
  if (isRecord(x.ratings)) {
    for (const [rid, per] of Object.entries(x.ratings)) {
      if (!isRecord(per)) continue;
      ratings[rid] = {};
      for (const [c, v] of Object.entries(per))
        if (typeof v === "number") (ratings[rid] as Record<string, number>)[c] = v;
    }
  }
  return {
    label_id: str(x.label_id),
    annotator: str(x.annotator),
    source: str(x.source),
    status: str(x.status),
    ranking: parseRanking(x.ranking),
    winner: strOrNull(x.winner),
    strength: numOrNull(x.strength),
    ratings,
    rationale: str(x.rationale),
    flags: strList(x.flags),
    flag_note: str(x.flag_note),
    display_order: strList(x.display_order),
    guideline_version: strOrNull(x.guideline_version),
    revision: num(x.revision, 1),
    submitted_at: strOrNull(x.submitted_at),
    active_ms: numOrNull(x.active_ms),
  };
}

export function parseDetail(raw: unknown): AuditDetail | null {
  if (!isRecord(raw) || typeof raw.item_id !== "string") return null;
  const responses = (Array.isArray(raw.responses) ? raw.responses : []).filter(isRecord).map((r) => ({
    response_id: str(r.response_id),
    text: str(r.text),
    model: strOrNull(r.model),
  }));
  const m = isRecord(raw.majority) ? raw.majority : {};
  const ids = responses.map((r) => r.response_id);
  return {
    item_id: raw.item_id,
    task: str(raw.task, "ranking"),
    prompt: parsePrompt(raw.prompt),
    responses,
    labels: (Array.isArray(raw.labels) ? raw.labels : []).filter(isRecord).map(parseLabel),
    majority: {
      outcome: strOrNull(m.outcome),
      share: numOrNull(m.share),
      disagreement: numOrNull(m.disagreement),
      ranking: parseRanking(m.ranking) ?? [ids],
      strength: numOrNull(m.strength),
    },
    history: (Array.isArray(raw.history) ? raw.history : []).filter(isRecord).map((h) => ({
      label_id: str(h.label_id),
      annotator: str(h.annotator),
      source: str(h.source),
      revision: num(h.revision, 1),
      status: str(h.status),
      outcome: str(h.outcome),
      supersedes: strOrNull(h.supersedes),
      submitted_at: strOrNull(h.submitted_at),
    })),
  };
}

/** "r2 > r1 = r3" */
export function rankingText(r: Ranking | null): string {
  return r ? r.map((g) => g.join(" = ")).join(" > ") : "";
}

export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, pageSize)));
}

/** Filters to send: empty strings become null so Python clears them. */
export function cleanFilters(f: Record<string, string | null>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(f)) out[k] = v === "" || v === undefined ? null : v;
  return out;
}

export function percent(x: number | null): string {
  return x === null ? "–" : `${Math.round(x * 100)}%`;
}
