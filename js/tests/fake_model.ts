// A small stand-in for the anywidget model (get/set/on/off/send/save_changes) that records sent messages.
import widget from "../src/index";
import type { AnyModel } from "../src/model";

type Cb = (...args: never[]) => void;

export class FakeModel implements AnyModel {
  data: Record<string, unknown>;
  sent: Record<string, unknown>[] = [];
  handlers = new Map<string, Set<Cb>>();

  constructor(data: Record<string, unknown>) {
    this.data = { ...data };
  }

  get(key: string): unknown {
    return this.data[key];
  }

  set(key: string, value: unknown): void {
    this.data[key] = value;
  }

  /** Python side changing a trait: set it and fire change:<key>. */
  update(key: string, value: unknown): void {
    this.data[key] = value;
    this.emit(`change:${key}`);
  }

  on(event: string, cb: Cb): void {
    const s = this.handlers.get(event) ?? new Set<Cb>();
    this.handlers.set(event, s);
    s.add(cb);
  }

  off(event?: string | null, cb?: Cb | null): void {
    if (!event) {
      this.handlers.clear();
      return;
    }
    if (!cb) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(cb);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const cb of [...(this.handlers.get(event) ?? [])]) (cb as (...a: unknown[]) => void)(...args);
  }

  /** Python sending a custom message to the view. */
  receive(msg: Record<string, unknown>): void {
    this.emit("msg:custom", msg, []);
  }

  send(content: unknown): void {
    this.sent.push(content as Record<string, unknown>);
  }

  save_changes(): void {}

  listenerCount(): number {
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }
}

export interface ItemSpec {
  index: number;
  n?: number;
  label?: Record<string, unknown> | null;
  guideline_version?: string | null;
}

export function makeItem({ index, n = 2, label = null, guideline_version = null }: ItemSpec): Record<string, unknown> {
  const ids = Array.from({ length: n }, (_, i) => `r${i + 1}`);
  const order = index % 2 ? [...ids].reverse() : ids; // shuffled display order on odd items
  return {
    index,
    item_id: `it-${String(index).padStart(4, "0")}`,
    prompt: `Prompt number ${index}: explain **recursion**.`,
    responses: order.map((rid) => ({ response_id: rid, text: `Answer ${rid} to item ${index}. Some *markdown*.` })),
    display_order: order,
    metadata: { source: "unit" },
    guideline_version,
    label,
  };
}

/** Window as Python sends it: previous item, current, and the next 3. */
export function windowAt(position: number, total: number, n = 2): Record<string, unknown>[] {
  const out = [];
  for (let i = Math.max(0, position - 1); i <= Math.min(total - 1, position + 3); i++)
    out.push(makeItem({ index: i, n }));
  return out;
}

export function makeModel(opts: {
  task?: "pairwise" | "ranking";
  total?: number;
  position?: number;
  n?: number;
  config?: Record<string, unknown>;
  guidelines?: Record<string, unknown>;
}): FakeModel {
  const total = opts.total ?? 10;
  const position = opts.position ?? 0;
  return new FakeModel({
    config: {
      task: opts.task ?? "pairwise",
      criteria: [],
      scale: 5,
      rationale: "optional",
      max_rationale_chars: 2000,
      flags: [
        { id: "harmful", label: "Harmful" },
        { id: "both_bad", label: "Both bad" },
      ],
      annotator: "ann",
      show_diff: false,
      collapse_chars: 3000,
      allow_remote_images: false,
      durable: true,
      ...(opts.config ?? {}),
    },
    guidelines: opts.guidelines ?? { version: null, markdown: "", changes: null },
    window: windowAt(position, total, opts.n ?? (opts.task === "ranking" ? 3 : 2)),
    position,
    queue_length: total,
    progress: { done: position, total, skipped: 0, store_done: position, store_total: total },
    guideline_ack: null,
  });
}

export function key(el: Element, k: string, init: KeyboardEventInit = {}): KeyboardEvent {
  const e = new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...init });
  el.dispatchEvent(e);
  return e;
}

// Mounting the real view in tests: each mount is cleaned up by unmountAll() (call it in afterEach).
const cleanups: (() => void)[] = [];

export function mount(model: FakeModel): HTMLElement {
  const el = document.createElement("div");
  document.body.append(el);
  cleanups.push(widget.render({ model, el }));
  return el.querySelector(".rw-root") as HTMLElement;
}

export function unmountAll(): void {
  for (const c of cleanups.splice(0)) c();
  document.body.replaceChildren();
}

export type Sent = {
  type: string;
  client_id: string;
  item_id: string;
  index: number;
  to?: number;
  version?: string;
  label: Record<string, unknown>;
};
export const sent = (m: FakeModel): Sent[] => m.sent as unknown as Sent[];
export const submits = (m: FakeModel): Sent[] => sent(m).filter((x) => x.type === "submit");
export const shownId = (root: HTMLElement): string | undefined =>
  root.querySelector<HTMLElement>(".rw-item")?.dataset.itemId;
export const q = <T extends Element = HTMLElement>(root: HTMLElement, sel: string): T => {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`no ${sel}`);
  return el;
};
