// Shapes that cross the wire (docs/protocol.md). Everything here comes from Python and is untrusted.

export type Task = "pairwise" | "ranking";
export type RationaleRule =
  | "off"
  | "optional"
  | "required"
  | "required_if_tie"
  | "required_if_strong"
  | "required_if_flagged";

export interface Flag {
  id: string;
  label: string;
}

export interface Config {
  task: Task;
  criteria: string[];
  scale: number;
  rationale: RationaleRule;
  max_rationale_chars: number;
  flags: Flag[];
  annotator: string;
  show_diff: boolean;
  collapse_chars: number;
  allow_remote_images: boolean;
  ratings_required: boolean;
  /** The active hotkeys, action -> keys (RankWidget(keymap=...); js/src/keymap.ts DEFAULT_KEYMAP). */
  keymap: Record<string, readonly string[]>;
  durable: boolean; // false: the store is in memory (`:memory:`), labels are lost with the kernel
}

export interface Guidelines {
  version: string | null;
  markdown: string;
  changes: string | null;
}

export interface ChatTurn {
  role: string;
  content: string;
}

export interface Response {
  response_id: string;
  text: string;
}

export type Ranking = string[][];
export type Ratings = Record<string, Record<string, number>>;

export interface PriorLabel {
  label_id?: string;
  status?: string;
  ranking?: Ranking | null;
  winner?: string | null;
  strength?: number | null;
  ratings?: Ratings | null;
  rationale?: string | null;
  flags?: string[] | null;
  flag_note?: string | null;
  revision?: number;
}

export interface Item {
  index: number;
  item_id: string;
  prompt: string | ChatTurn[];
  responses: Response[];
  display_order: string[];
  metadata: Record<string, unknown>;
  guideline_version: string | null;
  label: PriorLabel | null;
  /** A lead's review notes on this item: re-queue reasons and comments (untrusted text, shown as text). */
  notes?: Note[];
}

export interface Note {
  kind: "requeue" | "comment";
  id: string;
  text: string;
  by: string;
  at: string;
  queue?: string;
  read: boolean;
}

export interface Progress {
  done: number;
  total: number;
  skipped: number;
  store_done: number;
  store_total: number;
}

/** The label part of a `submit` message. */
export interface LabelPayload {
  status: "submitted" | "skipped";
  ranking: Ranking | null;
  winner: string | null;
  strength: number | null;
  ratings: Ratings;
  rationale: string;
  flags: string[];
  flag_note: string;
  display_order: string[];
  guideline_version: string | null;
  started_at: string;
  active_ms: number;
}

export interface SubmitMessage {
  type: "submit";
  client_id: string;
  item_id: string;
  index: number;
  label: LabelPayload;
}

/** The labeler's unsaved draft of one item as it crosses the wire (`draft` message, `drafts` trait). */
export interface WireDraft {
  choice: string | null;
  ranking: string[][];
  ratings: Ratings;
  rationale: string;
  flags: string[];
  flag_note: string;
  started_at: string;
}

export interface DraftMessage {
  type: "draft";
  item_id: string;
  draft: WireDraft;
}
