// The one source of time. Every delay, window and timeout in the engine goes through an injected Clock, so
// tests run on a simulated one (xstate's SimulatedClock fits) and never sleep.

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** Node's timers can wait at most 2^31-1 ms; longer delays are chained. */
const MAX_TIMEOUT = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const box: { t?: ReturnType<typeof setTimeout> } = {};
    const due = Date.now() + ms;
    const arm = (left: number) => {
      box.t = setTimeout(() => {
        const rest = due - Date.now();
        if (rest > 0) arm(rest);
        else fn();
      }, Math.min(Math.max(0, left), MAX_TIMEOUT));
      box.t.unref?.();
    };
    arm(ms);
    return box;
  },
  clearTimeout(id) {
    const box = id as { t?: ReturnType<typeof setTimeout> } | undefined;
    if (box?.t !== undefined) clearTimeout(box.t);
  },
};
