// The request/reply channel, without a DOM: ids, ack/reject routing, time-outs, late and unknown replies,
// cleanup. The wire format is Python's (src/rank_widget/widget.py, audit.py): {"type": "ack"|"reject", ...}.
// @vitest-environment node
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type AckMessage, Channel, parseReply, type RejectMessage, type Reply } from "../src/channel";
import type { AnyModel } from "../src/model";

/** The model's comm side only (fake_model.ts imports the whole view, which needs a DOM). */
class CommModel implements AnyModel {
  sent: unknown[] = [];
  private listeners = new Set<(msg: unknown) => void>();
  get(): unknown {
    return undefined;
  }
  set(): void {}
  on(_event: string, cb: (...args: never[]) => void): void {
    this.listeners.add(cb as (msg: unknown) => void);
  }
  off(_event?: string | null, cb?: ((...args: never[]) => void) | null): void {
    this.listeners.delete(cb as (msg: unknown) => void);
  }
  send(content: unknown): void {
    this.sent.push(content);
  }
  save_changes(): void {}
  receive(msg: unknown): void {
    for (const cb of [...this.listeners]) cb(msg);
  }
  listenerCount(): number {
    return this.listeners.size;
  }
}

function setup(unmatched: Reply[] = []): { model: CommModel; channel: Channel<Record<string, unknown>> } {
  const model = new CommModel();
  let n = 0;
  const channel = new Channel(model, { unmatched: (r) => unmatched.push(r), newId: () => `id-${++n}` });
  return { model, channel };
}

describe("Channel", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("sends {type, client_id, ...} with a fresh id per request", () => {
    const { model, channel } = setup();
    const a = channel.request((client_id) => ({ type: "open", client_id, item_id: "it1" }));
    const b = channel.request((client_id) => ({ type: "close", client_id }));
    expect([a, b]).toEqual(["id-1", "id-2"]);
    expect(model.sent).toEqual([
      { type: "open", client_id: "id-1", item_id: "it1" },
      { type: "close", client_id: "id-2" },
    ]);
    expect(channel.size).toBe(2);
  });

  it("routes an ack to its request's onAck, typed and parsed, then forgets the request", () => {
    const { model, channel } = setup();
    const acks: AckMessage[] = [];
    const rejects: RejectMessage[] = [];
    const id = channel.request((client_id) => ({ type: "submit", client_id }), {
      onAck: (r) => acks.push(r),
      onReject: (r) => rejects.push(r),
    });
    model.receive({ type: "ack", client_id: id, item_id: "it-1", label_id: "L", revision: 2, duplicate: false });
    expect(acks).toEqual([
      { type: "ack", client_id: id, item_id: "it-1", label_id: "L", revision: 2, duplicate: false },
    ]);
    expect(rejects).toEqual([]);
    expect(channel.isPending(id)).toBe(false);
  });

  it("routes a reject to onReject with its field and message", () => {
    const { model, channel } = setup();
    const rejects: RejectMessage[] = [];
    const id = channel.request((client_id) => ({ type: "adjudicate", client_id }), {
      onReject: (r) => rejects.push(r),
    });
    model.receive({ type: "reject", client_id: id, of: "adjudicate", field: "rationale", message: "is required" });
    expect(rejects).toEqual([
      { type: "reject", client_id: id, of: "adjudicate", field: "rationale", message: "is required" },
    ]);
    expect(channel.size).toBe(0);
  });

  it("times out once, and a late reply after the time-out goes to `unmatched`, not to the request", () => {
    const unmatched: Reply[] = [];
    const { model, channel } = setup(unmatched);
    const onAck = vi.fn();
    const onTimeout = vi.fn();
    const id = channel.request((client_id) => ({ type: "open", client_id }), { onAck, onTimeout, timeoutMs: 1000 });
    vi.advanceTimersByTime(999);
    expect(onTimeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    expect(channel.isPending(id)).toBe(false);
    model.receive({ type: "ack", client_id: id, of: "open", detail: "opened it1" });
    expect(onAck).not.toHaveBeenCalled();
    expect(unmatched).toEqual([{ type: "ack", client_id: id, of: "open", detail: "opened it1" }]);
    vi.advanceTimersByTime(10_000);
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });

  it("a reply in time cancels the time-out", () => {
    const { model, channel } = setup();
    const onTimeout = vi.fn();
    const onAck = vi.fn();
    const id = channel.request((client_id) => ({ type: "open", client_id }), { onAck, onTimeout, timeoutMs: 1000 });
    model.receive({ type: "ack", client_id: id });
    vi.advanceTimersByTime(5000);
    expect(onAck).toHaveBeenCalledTimes(1);
    expect(onTimeout).not.toHaveBeenCalled();
  });

  it("ignores replies for unknown ids (they go to `unmatched` only), and messages that are not replies", () => {
    const unmatched: Reply[] = [];
    const { model, channel } = setup(unmatched);
    const onAck = vi.fn();
    const onReject = vi.fn();
    const id = channel.request((client_id) => ({ type: "open", client_id }), { onAck, onReject });
    model.receive({ type: "ack", client_id: "someone-else" });
    model.receive({ type: "reject", client_id: null, field: "message", message: "bad" });
    model.receive({ type: "progress", client_id: id });
    model.receive({ type: "ack" }); // an ack without an id answers nothing
    expect(onAck).not.toHaveBeenCalled();
    expect(onReject).not.toHaveBeenCalled();
    expect(channel.isPending(id)).toBe(true);
    expect(unmatched).toEqual([
      { type: "ack", client_id: "someone-else" },
      { type: "reject", client_id: null, field: "message", message: "bad" },
    ]);
  });

  it("a second reply for the same id is unmatched (answered once)", () => {
    const unmatched: Reply[] = [];
    const { model, channel } = setup(unmatched);
    const onReject = vi.fn();
    const id = channel.request((client_id) => ({ type: "adjudicate", client_id }), { onReject });
    model.receive({ type: "reject", client_id: id, message: "no" });
    model.receive({ type: "ack", client_id: id });
    expect(onReject).toHaveBeenCalledTimes(1);
    expect(unmatched).toEqual([{ type: "ack", client_id: id }]);
  });

  it("notify sends without an id and expects no reply", () => {
    const { model, channel } = setup();
    channel.notify({ type: "navigate", to: 3 });
    expect(model.sent).toEqual([{ type: "navigate", to: 3 }]);
    expect(channel.size).toBe(0);
  });

  it("refuses a request that does not carry the id it was given", () => {
    const { model, channel } = setup();
    expect(() => channel.request(() => ({ type: "open", client_id: "mine" }))).toThrow(/client_id/);
    expect(model.sent).toEqual([]);
  });

  it("cleans up on unmount: listener removed, time-outs cancelled, later replies and sends dropped", () => {
    const unmatched: Reply[] = [];
    const { model, channel } = setup(unmatched);
    const onAck = vi.fn();
    const onTimeout = vi.fn();
    const id = channel.request((client_id) => ({ type: "open", client_id }), { onAck, onTimeout, timeoutMs: 100 });
    expect(model.listenerCount()).toBe(1);
    channel.destroy();
    expect(model.listenerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    channel.receive({ type: "ack", client_id: id });
    channel.notify({ type: "navigate", to: 1 });
    channel.request((client_id) => ({ type: "open", client_id }));
    expect(onAck).not.toHaveBeenCalled();
    expect(onTimeout).not.toHaveBeenCalled();
    expect(unmatched).toEqual([]);
    expect(model.sent).toHaveLength(1); // only the request sent before the unmount
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("parseReply", () => {
  it("keeps only well-typed fields of untrusted replies", () => {
    expect(parseReply({ type: "ack", client_id: "c", item_id: 5, revision: "2", duplicate: "no", extra: 1 })).toEqual({
      type: "ack",
      client_id: "c",
    });
    expect(parseReply({ type: "reject", client_id: 7, field: ["x"], message: "m" })).toEqual({
      type: "reject",
      client_id: null,
      message: "m",
    });
    expect(parseReply(null)).toBeNull();
    expect(parseReply("ack")).toBeNull();
    expect(parseReply({ type: "navigate", client_id: "c" })).toBeNull();
  });
});
