// Renders the markdown of upcoming items while the browser is idle, one text per idle slice (more while the
// slice lasts), so showing the next item only clones cached fragments and a key press never waits behind it.
import type { RenderCache } from "../shared/content";

type IdleWindow = Window & {
  requestIdleCallback?: (cb: (d: { timeRemaining(): number }) => void, o?: { timeout: number }) => number;
  cancelIdleCallback?: (handle: number) => void;
};

export class Prefetcher {
  private queue: string[] = [];
  private handle: number | null = null;

  constructor(private readonly cache: RenderCache) {}

  schedule(texts: string[]): void {
    this.cancel();
    this.queue = texts;
    this.next();
  }

  private next(): void {
    if (!this.queue.length) return;
    const w = window as IdleWindow;
    const run = (deadline?: { timeRemaining(): number }): void => {
      this.handle = null;
      do {
        const text = this.queue.shift();
        if (text !== undefined) this.cache.warm(text);
      } while (this.queue.length && deadline && deadline.timeRemaining() > 8);
      this.next();
    };
    this.handle = w.requestIdleCallback
      ? w.requestIdleCallback(run, { timeout: 1000 })
      : (setTimeout(run, 50) as unknown as number);
  }

  cancel(): void {
    this.queue = [];
    if (this.handle === null) return;
    const w = window as IdleWindow;
    if (typeof w.requestIdleCallback === "function" && typeof w.cancelIdleCallback === "function") {
      w.cancelIdleCallback(this.handle);
    } else clearTimeout(this.handle);
    this.handle = null;
  }
}
