// Evaluated in Chromium by render_chromium.py: the real bundle with an in-page model that answers like
// Python (ack in a later task, then position + window); labels n-1 items with keys and times each step.
async ({ n }) => {
  const { default: widget } = await import("http://rw.test/widget.js");
  const text = (i, s) =>
    `Answer ${s}${i}: use slicing.\n\n` +
    "```python\n" +
    `def rev_${i}(xs):\n    return xs[::-1]  # ${s}\n`.repeat(8) +
    "```\n\n" +
    "Slicing makes a **new** list; `reverse()` changes it in place. ".repeat(12);
  const item = (i) => ({
    index: i,
    item_id: `it-${i}`,
    prompt: `Question ${i}: how do I reverse a list?`,
    responses: [
      { response_id: `a${i}`, text: text(i, "X") },
      { response_id: `b${i}`, text: text(i, "Y") },
    ],
    display_order: [`a${i}`, `b${i}`],
    metadata: { category: "coding" },
    guideline_version: null,
    label: null,
  });
  const win = (p) => {
    const out = [];
    for (let i = Math.max(0, p - 1); i <= Math.min(n - 1, p + 3); i++) out.push(item(i));
    return out;
  };
  const handlers = new Map();
  const data = {
    config: {
      task: "pairwise",
      criteria: [],
      scale: 5,
      rationale: "optional",
      max_rationale_chars: 10000,
      flags: [{ id: "harmful", label: "Harmful" }],
      annotator: "bench",
      show_diff: false,
      collapse_chars: 3000,
      allow_remote_images: false,
    },
    guidelines: { version: null, markdown: "", changes: null },
    window: win(0),
    position: 0,
    queue_length: n,
    progress: { done: 0, total: n, skipped: 0, store_done: 0, store_total: n },
    guideline_ack: null,
  };
  const emit = (ev, ...a) => {
    for (const cb of handlers.get(ev) || []) cb(...a);
  };
  const acks = [];
  const model = {
    get: (k) => data[k],
    set: (k, v) => {
      data[k] = v;
    },
    save_changes() {},
    on: (ev, cb) => {
      if (!handlers.has(ev)) handlers.set(ev, []);
      handlers.get(ev).push(cb);
    },
    off: (ev, cb) => {
      if (ev && cb)
        handlers.set(
          ev,
          (handlers.get(ev) || []).filter((x) => x !== cb),
        );
      else if (ev) handlers.delete(ev);
      else handlers.clear();
    },
    send: (msg) => {
      if (msg.type !== "submit") return;
      setTimeout(() => {
        // the kernel's reply arrives in a later task
        emit("msg:custom", { type: "ack", client_id: msg.client_id, item_id: msg.item_id });
        acks.push(performance.now());
        if (data.position === msg.index && msg.index + 1 < n) {
          data.window = win(msg.index + 1);
          data.position = msg.index + 1;
          emit("change:window");
          emit("change:position");
        }
      }, 0);
    },
  };
  const el = document.createElement("div");
  document.body.append(el);
  const tr = performance.now();
  widget.render({ model, el }); // the first item renders synchronously, cold (grammars, KaTeX, DOMPurify)
  const root = el.querySelector(".rw-root");
  void root.getBoundingClientRect().height;
  const firstRender = performance.now() - tr;
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const shown = () => root.querySelector(".rw-item")?.dataset.itemId;
  const idle = () =>
    new Promise((r) => (window.requestIdleCallback ? requestIdleCallback(r, { timeout: 300 }) : setTimeout(r, 50)));
  const dom = [],
    layout = [],
    paint = [];
  await frame();
  for (let i = 0; i < n - 1; i++) {
    await idle(); // a labeler reads for a while: prefetch rendering happens here
    root.dispatchEvent(new KeyboardEvent("keydown", { key: String(1 + (i % 5)), bubbles: true }));
    const t0 = performance.now();
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    if (shown() !== `it-${i + 1}`) throw new Error(`item ${i + 1} not shown synchronously (${shown()})`);
    dom.push(performance.now() - t0);
    void root.getBoundingClientRect().height; // style + layout of the new item, as the next frame needs
    layout.push(performance.now() - t0);
    await frame();
    paint.push(performance.now() - t0);
  }
  return {
    firstRender,
    dom,
    layout,
    paint,
    saved: root.querySelector(".rw-saves").dataset.saving === "0" ? "saved" : "saving",
  };
};
