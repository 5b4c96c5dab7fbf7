/** Injected time, so timeouts and timestamps are testable without waiting. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Nanoseconds since the Unix epoch (millisecond resolution is fine for readings). */
  nowNs(): bigint;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Call `fn` after `ms`; the returned function cancels it. Optional: where a clock lacks it
   * (test clocks), sleep with an AbortSignal does the same. The scheduler arms one per job,
   * and an AbortController for each costs more than the poll's own work.
   */
  after?(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  nowNs: () => BigInt(Date.now()) * 1_000_000n,
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
