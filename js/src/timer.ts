// Active time on an item: counts while the page is visible and focused, and stops counting IDLE_MS after the
// last input (key, mouse, scroll) until the next input. Pure: the caller passes timestamps.

export const IDLE_MS = 30_000;

export class ActiveTimer {
  private accrued = 0;
  private running = false;
  private segStart = 0;
  private lastInput = 0;

  constructor(private readonly idleMs: number = IDLE_MS) {}

  /** Credit the running segment up to `now` (never past the idle cut-off) and start a new one at `now`. */
  private credit(now: number): void {
    if (this.running) {
      const end = Math.min(now, this.lastInput + this.idleMs);
      if (end > this.segStart) this.accrued += end - this.segStart;
    }
    this.segStart = now;
  }

  /** Visible and focused (or not). Becoming active counts as input. */
  setActive(active: boolean, now: number): void {
    this.credit(now);
    this.running = active;
    if (active) this.lastInput = now;
  }

  /** Any user input: ends an idle pause. */
  input(now: number): void {
    this.credit(now);
    this.lastInput = now;
  }

  get isActive(): boolean {
    return this.running;
  }

  /** Milliseconds of active time up to `now`. */
  elapsed(now: number): number {
    if (!this.running) return Math.round(this.accrued);
    const end = Math.min(now, this.lastInput + this.idleMs);
    return Math.round(this.accrued + Math.max(0, end - this.segStart));
  }
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m % 60)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}
