/**
 * The polling schedules users actually write (`* * * * * *`, `*\/5 * * * * *`, `* * * * *`,
 * `0 *\/15 * * * *`) fire every P ms on whole-minute-aligned boundaries. Every zone's current
 * offset is a whole number of minutes (and of quarter hours), so in every zone those ticks are
 * the multiples of P on the epoch clock: the next one is integer arithmetic, not croner's
 * per-tick calendar walk through Intl (a measurable share of a poll in the interpreted daemon).
 * The scheduler still checks its reading of the pattern against croner (in UTC) when a job is added.
 *
 * It also keeps these schedules right across DST changes, where croner 10.0.1 is not: at the
 * fall-back its next run from inside the repeated hour maps to the hour's first pass (in the
 * past), so its timer re-fires at once, ~660 times a second for that hour (measured with
 * Europe/Amsterdam, 2026-10-25); and for the quarter/half hour around some changes
 * (Australia/Lord_Howe, Pacific/Chatham) it skips the ticks. A fixed period has no wall-clock
 * hours to get wrong: a 1 s poll stays a 1 s poll.
 */

// Croner re-checks at least this often, so a wall-clock step is noticed as soon as with croner.
const MAX_WAIT_MS = 30_000;

/**
 * The period in ms if `pattern` (5 fields, or 6 with seconds first) fires on the multiples of
 * it in every zone, else null (croner handles it). Only `*` and `*\/N` are recognised, and
 * every field but the seconds or the minutes must be `*`:
 * - seconds `*` or `*\/N` (N dividing 60), minutes `*`: N seconds;
 * - seconds `0` (or 5 fields), minutes `*` or `*\/N` with N dividing 15: N minutes. Not
 *   every divisor of 60: a `*\/20` minute in Asia/Kathmandu (+05:45) is not a multiple of
 *   20 minutes on the epoch clock, while every zone offset is a multiple of 15.
 */
export function fixedPeriodMs(pattern: string): number | null {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length === 5) fields.unshift('0');
  if (fields.length !== 6 || fields.slice(2).some((f) => f !== '*')) return null;
  const [second, minute] = fields as [string, string];
  if (minute === '*') {
    const n = second === '0' ? 60 : step(second, 60);
    return n === null ? null : n * 1000;
  }
  const n = second === '0' ? step(minute, 15) : null;
  return n === null ? null : n * 60_000;
}

/** N for `*` (1) or `*\/N` when N divides `of`; else null. */
function step(field: string, of: number): number | null {
  if (field === '*') return 1;
  const m = /^\*\/(\d{1,2})$/.exec(field);
  const n = m ? Number(m[1]) : 0;
  return n > 0 && of % n === 0 ? n : null;
}

/** The first multiple of periodMs strictly after `epochMs`. */
export function nextBoundary(epochMs: number, periodMs: number): number {
  return (Math.floor(epochMs / periodMs) + 1) * periodMs;
}

/**
 * Calls `fn` on every multiple of `periodMs` (epoch ms), as croner would for the same pattern:
 * a timer that fires early re-arms for the rest without ticking; one that fires late (the loop
 * was blocked past one or more boundaries) ticks once, and the next tick is the first boundary
 * after now (the missed ones are dropped, not queued, and croner does not report them either).
 */
export class PeriodTimer {
  readonly #periodMs: number;
  readonly #fn: () => void;
  readonly #now: () => number;
  #due: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** `now`: the wall clock (epoch ms), for tests; croner reads Date too. */
  constructor(periodMs: number, fn: () => void, now: () => number = Date.now) {
    this.#periodMs = periodMs;
    this.#fn = fn;
    this.#now = now;
    this.#due = nextBoundary(now(), periodMs);
    this.#arm();
  }

  /** The next tick (epoch ms); null once stopped. */
  nextRun(): number | null {
    return this.#stopped ? null : this.#due;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    this.#timer = setTimeout(this.#fire, Math.min(this.#due - this.#now(), MAX_WAIT_MS));
  }

  readonly #fire = (): void => {
    const now = this.#now();
    try {
      if (now >= this.#due) {
        // Before fn: a job reading nextRun sees the coming tick, as with croner.
        this.#due = nextBoundary(now, this.#periodMs);
        this.#fn();
      }
    } finally {
      if (!this.#stopped) this.#arm();
    }
  };
}
