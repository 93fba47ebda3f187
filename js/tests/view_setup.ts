// The setup shared by the tests of the real view on a fake model (widget*.test.ts): the cleanup after each test
// and Python's answer to a submit.
import { afterEach, vi } from "vitest";
import { type FakeModel, type Sent, unmountAll, windowAt } from "./fake_model";

/** After each test of the calling file: unmount the views it mounted and give the real timers back. */
export function cleanUpAfterEach(): void {
  afterEach(() => {
    unmountAll();
    vi.useRealTimers();
  });
}

/** Python's ack of a durable append of the submit `s` (a first revision). */
export function ackSubmit(m: FakeModel, s: Sent): void {
  m.receive({
    type: "ack",
    client_id: s.client_id,
    item_id: s.item_id,
    label_id: s.client_id,
    revision: 1,
    duplicate: false,
  });
}

/** What Python does after a durable append: ack, then advance position + window. */
export function ackAndAdvance(m: FakeModel, s: Sent, total: number): void {
  ackSubmit(m, s);
  if (m.get("position") === s.index && s.index + 1 < total) {
    m.data.window = windowAt(s.index + 1, total);
    m.update("position", s.index + 1);
  }
}
