// The typed anywidget model: a local equivalent of `AnyModel<T>` from @anywidget/types (not a dependency
// here), so a misspelt trait name fails `tsc` instead of reading `undefined` at run time.
//
// One traits interface per widget, mirroring the Python traitlets tagged `sync=True`. Dict and List traits
// are typed as what arrives (unknown contents): Python is authoritative but the view parses them defensively
// (coerce.ts, audit/model.ts), so a malformed value degrades to a default instead of throwing in `render`.

/** RankWidget (src/rank_widget/widget.py). */
export interface RankTraits {
  config: Record<string, unknown>;
  guidelines: Record<string, unknown>;
  window: unknown[];
  position: number;
  queue_length: number;
  progress: Record<string, unknown>;
  guideline_ack: string | null;
  drafts: Record<string, unknown>; // {item_id, draft}: the unsaved draft of the item at `position`, or {}
  stored: number; // labels this widget stored: bumped by the view on each ack (marimo re-runs on it); Python keeps the count
  training?: Record<string, unknown>; // qualification feedback / result (view/feedback.ts), or {}
  suggestion?: Record<string, unknown>; // an LLM judge's verdict (view/suggestion.ts), or {}
}

/** AuditWidget (src/rank_widget/audit.py). */
export interface AuditTraits {
  _view: string; // "audit": the one bundle dispatches on it
  config: Record<string, unknown>;
  filters: Record<string, unknown>;
  page: number;
  page_size: number;
  total: number;
  rows: unknown[];
  detail: Record<string, unknown>;
}

/** Events a view listens to: a trait change, or a custom message from Python. */
export type ModelEvent<T> = `change:${Extract<keyof T, string>}` | "msg:custom";

type Callback = (...args: never[]) => void;

/** The subset of anywidget's model the views use (tests pass a small fake with the same shape). */
export interface Model<T> {
  get<K extends keyof T>(key: K): T[K];
  set<K extends keyof T>(key: K, value: T[K]): void;
  on(event: ModelEvent<T>, cb: Callback): void;
  off(event?: ModelEvent<T> | null, cb?: Callback | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: unknown): void;
  save_changes(): void;
}

/** What the entry point receives before it knows which widget it renders (it reads `_view` to decide). */
export type AnyModel = Model<Record<string, unknown>>;
