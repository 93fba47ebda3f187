import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ActiveTimer, formatDuration, IDLE_MS } from "../src/timer";

describe("ActiveTimer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const t = (): number => Date.now();

  it("counts while active and stops while inactive (hidden tab / blurred window)", () => {
    const timer = new ActiveTimer();
    timer.setActive(true, t());
    vi.advanceTimersByTime(5_000);
    expect(timer.elapsed(t())).toBe(5_000);
    timer.setActive(false, t());
    vi.advanceTimersByTime(60_000);
    expect(timer.elapsed(t())).toBe(5_000);
    timer.setActive(true, t());
    vi.advanceTimersByTime(2_000);
    expect(timer.elapsed(t())).toBe(7_000);
  });

  it("pauses IDLE_MS after the last input and resumes on input", () => {
    const timer = new ActiveTimer();
    timer.setActive(true, t());
    vi.advanceTimersByTime(10_000);
    timer.input(t());
    vi.advanceTimersByTime(100_000); // idle: only IDLE_MS after the input counts
    expect(timer.elapsed(t())).toBe(10_000 + IDLE_MS);
    timer.input(t());
    vi.advanceTimersByTime(1_000);
    expect(timer.elapsed(t())).toBe(10_000 + IDLE_MS + 1_000);
  });

  it("elapsed() does not change the state; inputs while inactive are not counted", () => {
    const timer = new ActiveTimer(1_000);
    timer.input(t());
    vi.advanceTimersByTime(5_000);
    expect(timer.elapsed(t())).toBe(0);
    timer.setActive(true, t());
    vi.advanceTimersByTime(500);
    expect(timer.elapsed(t())).toBe(500);
    expect(timer.elapsed(t())).toBe(500);
    vi.advanceTimersByTime(5_000);
    expect(timer.elapsed(t())).toBe(1_000);
  });

  it("formats durations", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(65_400)).toBe("1:05");
    expect(formatDuration(3_723_000)).toBe("1:02:03");
  });
});
