/**
 * The project's Clock (src/core/clock.ts) for tests: time stands still unless the test moves it
 * (advance(), or `t` directly) or, when asked, a sleep does; every sleep's length is recorded.
 * How a sleep ends is the test's choice:
 * - 'instant' (default): at once, whatever the signal says — code under test never waits;
 * - 'next-tick': on the next macrotask (setImmediate), so a loop that sleeps lets I/O and the
 *   test run in between; rejected with the signal's reason when it is aborted;
 * - 'on-advance': when advance() moves the time to its end (a scheduler's timers); rejected
 *   when its signal aborts first.
 */
import type { Clock } from '../../src/core/clock.js';

export type SleepMode = 'instant' | 'next-tick' | 'on-advance';

export interface FakeClockOptions {
  sleep?: SleepMode;
  /** Each sleep moves the time forward by its length: time passes only while someone sleeps. */
  sleepAdvances?: boolean;
  /** Offer Clock.after (on the same time, ended as sleep ends), as systemClock does. */
  after?: boolean;
}

export class FakeClock implements Clock {
  /** Milliseconds since the epoch: now(). */
  t: number;
  /** The length of every sleep so far, in order. */
  readonly sleeps: number[] = [];
  declare after?: (ms: number, fn: () => void) => () => void;
  readonly #mode: SleepMode;
  readonly #sleepAdvances: boolean;
  #timers: { at: number; fire: () => void }[] = [];

  constructor(startMs = 0, options: FakeClockOptions = {}) {
    this.t = startMs;
    this.#mode = options.sleep ?? 'instant';
    this.#sleepAdvances = options.sleepAdvances ?? false;
    if (options.after) {
      this.after = (ms, fn) => {
        const ctl = new AbortController();
        this.sleep(ms, ctl.signal).then(fn, () => undefined);
        return () => ctl.abort();
      };
    }
  }

  now = (): number => this.t;

  nowNs = (): bigint => BigInt(this.t) * 1_000_000n;

  sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    if (this.#sleepAdvances) this.t += ms;
    if (this.#mode === 'instant') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (this.#mode === 'next-tick') {
        setImmediate(() => (signal?.aborted ? reject(signal.reason) : resolve()));
        return;
      }
      const timer = { at: this.t + ms, fire: resolve };
      this.#timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.#timers = this.#timers.filter((x) => x !== timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  };

  /** Moves the time forward; in 'on-advance' mode, the sleeps (and after() timers) now due end. Returns the new time. */
  advance(ms: number): number {
    this.t += ms;
    const due = this.#timers.filter((x) => x.at <= this.t);
    this.#timers = this.#timers.filter((x) => x.at > this.t);
    for (const d of due) d.fire();
    return this.t;
  }
}
