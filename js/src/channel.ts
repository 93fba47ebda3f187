// One request/reply channel over the anywidget comm, for both views (design §10: anywidget's `invoke`,
// lonboard's dispatch.ts). A request is a custom message `{type, client_id, ...}`; Python answers it with
// `{"type": "ack", "client_id", ...}` or `{"type": "reject", "client_id", "field", "message", ...}`
// (docs/protocol.md). The channel gives each request its id, routes the reply to that request's handlers,
// and owns the optional time-out. Replies from Python are untrusted: they are parsed, never cast.
import { isRecord } from "./coerce";
import type { Model } from "./model";

/** Python's `ack`. RankWidget's submit ack carries item_id/label_id/revision/duplicate; AuditWidget's carries
 * `of` (the request type) and `detail` (what was done, in words). */
export interface AckMessage {
  type: "ack";
  client_id: string;
  item_id?: string;
  label_id?: string;
  revision?: number;
  duplicate?: boolean;
  of?: string;
  detail?: string;
}

/** Python's `reject`. `client_id` is null when the request had no usable id (e.g. a malformed message). */
export interface RejectMessage {
  type: "reject";
  client_id: string | null;
  item_id?: string;
  of?: string;
  field?: string;
  message?: string;
}

export type Reply = AckMessage | RejectMessage;

/** A request as sent: a type, the id the channel gave it, and its own fields. */
export interface Request {
  type: string;
  client_id: string;
}

export interface RequestHandlers {
  onAck?: (reply: AckMessage) => void;
  onReject?: (reply: RejectMessage) => void;
  /** Called once if no reply came within `timeoutMs`; a reply after that goes to `unmatched`. */
  onTimeout?: () => void;
  /** No time-out when absent: a submit waits for its ack however long the store takes. */
  timeoutMs?: number;
}

export interface ChannelOptions {
  /** Replies for no pending request: unknown or already answered ids, late replies, rejects without an id. */
  unmatched?: (reply: Reply) => void;
  newId?: () => string;
}

interface Entry {
  handlers: RequestHandlers;
  timer: ReturnType<typeof setTimeout> | null;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** A custom message from Python as a typed reply, or null when it is not an ack/reject. */
export function parseReply(msg: unknown): Reply | null {
  if (!isRecord(msg)) return null;
  const cid = str(msg.client_id);
  if (msg.type === "ack") {
    if (cid === undefined) return null; // an ack always answers a request with an id
    const ack: AckMessage = { type: "ack", client_id: cid };
    if (str(msg.item_id) !== undefined) ack.item_id = str(msg.item_id);
    if (str(msg.label_id) !== undefined) ack.label_id = str(msg.label_id);
    if (typeof msg.revision === "number") ack.revision = msg.revision;
    if (typeof msg.duplicate === "boolean") ack.duplicate = msg.duplicate;
    if (str(msg.of) !== undefined) ack.of = str(msg.of);
    if (str(msg.detail) !== undefined) ack.detail = str(msg.detail);
    return ack;
  }
  if (msg.type === "reject") {
    const rej: RejectMessage = { type: "reject", client_id: cid ?? null };
    if (str(msg.item_id) !== undefined) rej.item_id = str(msg.item_id);
    if (str(msg.of) !== undefined) rej.of = str(msg.of);
    if (str(msg.field) !== undefined) rej.field = str(msg.field);
    if (str(msg.message) !== undefined) rej.message = str(msg.message);
    return rej;
  }
  return null;
}

/** RFC 4122 v4 id for a request (`crypto.randomUUID()`, with a fallback for non-secure contexts). */
export function newClientId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  // Fallback (non-secure contexts lack randomUUID): RFC 4122 v4 from getRandomValues, else Math.random.
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === "function") c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class Channel<T> {
  private pending = new Map<string, Entry>();
  private readonly listener = (msg: unknown): void => this.receive(msg);
  private readonly unmatched: (reply: Reply) => void;
  private readonly newId: () => string;
  private closed = false;

  constructor(
    private readonly model: Model<T>,
    opts: ChannelOptions = {},
  ) {
    this.unmatched = opts.unmatched ?? (() => {});
    this.newId = opts.newId ?? newClientId;
    model.on("msg:custom", this.listener as (...args: never[]) => void);
  }

  /** Send a request built around the id the channel picked; returns that id. */
  request<M extends Request>(build: (clientId: string) => M, handlers: RequestHandlers = {}): string {
    const id = this.newId();
    const msg = build(id);
    if (msg.client_id !== id) throw new Error("channel: a request must carry the client_id it was given");
    if (this.closed) return id; // unmounted: nothing is sent and nothing will answer
    const entry: Entry = { handlers, timer: null };
    if (handlers.timeoutMs !== undefined) {
      entry.timer = setTimeout(() => {
        if (this.pending.get(id) !== entry) return;
        this.pending.delete(id);
        handlers.onTimeout?.();
      }, handlers.timeoutMs);
    }
    this.pending.set(id, entry);
    this.model.send(msg);
    return id;
  }

  /** A message no reply answers (RankWidget's navigate and ack_guidelines carry no client_id). */
  notify<M extends { type: string }>(msg: M): void {
    if (!this.closed) this.model.send(msg);
  }

  /** Is this request still waiting for its reply? */
  isPending(clientId: string): boolean {
    return this.pending.has(clientId);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Route one custom message from Python (the `msg:custom` listener; public for tests). */
  receive(msg: unknown): void {
    if (this.closed) return;
    const reply = parseReply(msg);
    if (!reply) return;
    const entry = reply.client_id === null ? undefined : this.pending.get(reply.client_id);
    if (!entry || reply.client_id === null) {
      this.unmatched(reply);
      return;
    }
    this.pending.delete(reply.client_id);
    if (entry.timer !== null) clearTimeout(entry.timer);
    if (reply.type === "ack") entry.handlers.onAck?.(reply);
    else entry.handlers.onReject?.(reply);
  }

  /** Unmount: stop listening, cancel every time-out; replies that still arrive are dropped. */
  destroy(): void {
    this.closed = true;
    this.model.off("msg:custom", this.listener as (...args: never[]) => void);
    for (const e of this.pending.values()) if (e.timer !== null) clearTimeout(e.timer);
    this.pending.clear();
  }
}
