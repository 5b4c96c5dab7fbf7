/**
 * Cron-driven jobs (one per device), serialised per port, each with a timeout.
 *
 * Timing rules (why they are this way):
 * - The timeout starts once the job holds its port: time queued behind a neighbour on the
 *   same bus is not the job's fault. Waiting for the port has its own bound (`lockWaitMs`,
 *   default max(timeoutMs, the cron interval)), so one dead device on a shared bus does not
 *   make its healthy neighbours fail, yet nobody waits forever behind a hung holder.
 * - On timeout the job's signal is aborted and the run is recorded as failed at once, but
 *   the port stays held until the job's promise really settles: a job that ignores its
 *   signal must not share the wire with the next one. Until then the job counts as running
 *   and its ticks are skipped and counted as overruns.
 * - A job never runs concurrently with itself: a tick that finds it running (scheduled or
 *   manual) skips it and counts an overrun; `runOnce` of a job already in flight joins that
 *   run instead of starting another.
 * - Jobs with the same cron expression and zone share ONE croner timer, and its tick starts
 *   every due job in one synchronous loop: all their requests are on the wire before any
 *   reply is handled, and croner's per-tick date arithmetic is paid once, not per job.
 * - A fixed period aligned to whole minutes (`* * * * * *`, `*\/5 * * * * *`, `0 *\/15 * * * *`,
 *   see period.ts) skips croner altogether: its ticks are multiples of the period on the epoch
 *   clock, armed with a plain setTimeout; every other expression keeps croner.
 * - Durations are measured on a monotonic, sub-millisecond clock (performance.now) unless a
 *   clock is injected (tests); a tick's jobs are all queued at the tick's instant, so a job's
 *   `waitMs + durationMs` is the time from its tick to its end.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Cron } from 'croner';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError, TimeoutError, WattlineError, errorMessage } from '../core/errors.js';
import { isTimeZone } from '../core/zone.js';
import type { Logger } from '../core/log.js';
import { PeriodTimer, fixedPeriodMs, nextBoundary } from './period.js';
import { PortLocks } from './port-lock.js';

export interface JobSpec {
  name: string;
  /** croner syntax; 5 fields, or 6 with seconds first. */
  cron: string;
  /** Jobs with the same key never overlap; null = needs no port (e.g. a TCP client). */
  portKey: string | null;
  /** Bound on the run itself, counted from when the port is held. */
  timeoutMs: number;
  run: (signal: AbortSignal) => Promise<void>;
  /** Bound on waiting for the port; default max(timeoutMs, the cron's interval). */
  lockWaitMs?: number;
  /** IANA zone for this job's cron; defaults to the scheduler's. */
  timezone?: string;
}

/** `lock-timeout`: gave up waiting for the port; `aborted`: failed after stop() aborted it. */
export type JobOutcome = 'ok' | 'error' | 'timeout' | 'lock-timeout' | 'aborted';
export type JobTrigger = 'cron' | 'manual';

export interface JobResult {
  name: string;
  ok: boolean;
  outcome: JobOutcome;
  /** One-line message of what went wrong. */
  error?: string;
  /** The error itself, to branch on its class (TimeoutError, DeviceError, ...). */
  err?: Error;
  /** From holding the port to the end (or the timeout); 0 if it never got the port. Fractional ms. */
  durationMs: number;
  /** From its tick (or the manual request) to holding the port: queued behind the tick's
   *  other jobs' starts or a neighbour on the port. */
  waitMs: number;
}

export interface JobStatus {
  name: string;
  cron: string;
  portKey: string | null;
  running: boolean;
  /** Epoch milliseconds, null until it happened. */
  lastStart: number | null;
  lastEnd: number | null;
  lastDurationMs: number | null;
  lastOk: boolean | null;
  lastError: string | null;
  /** Finished runs, ok or not; failures include timeouts and lock timeouts. */
  runs: number;
  failures: number;
  timeouts: number;
  lockTimeouts: number;
  overrunsSkipped: number;
  /** Next scheduled tick (epoch ms), null when not started. */
  nextRun: number | null;
}

export interface SchedulerEvents {
  jobStart: [{ name: string; trigger: JobTrigger; waitMs: number }];
  jobEnd: [JobResult];
  jobSkipped: [{ name: string; overrunsSkipped: number }];
}

export interface SchedulerOptions {
  /** IANA zone for cron expressions (default: the host's). */
  timezone?: string;
  /** Wall time for the status; also every duration when given (tests move it by hand). */
  clock?: Clock;
  /** Share with the control endpoint so commands and polls take turns on a port. */
  locks?: PortLocks;
  /** How long stop() waits for aborted jobs to settle (default 5000 ms). */
  stopTimeoutMs?: number;
  log?: Logger;
}

type Stats = Omit<JobStatus, 'name' | 'cron' | 'portKey' | 'running' | 'nextRun'>;

interface Run {
  result: Promise<JobResult>;
  /** Settles when the job has really let go (after a timeout this can be later). */
  done: Promise<void>;
  ctl: AbortController;
}

interface Entry {
  spec: JobSpec;
  timezone: string | undefined;
  lockWaitMs: number;
  /** Fixed period of its cron (ms), or null: croner computes its ticks. */
  periodMs: number | null;
  /** The shared timer it is on while scheduled. */
  tick: Tick | null;
  current: Run | null;
  stats: Stats;
}

/** One timer (croner's, or a PeriodTimer) for every job with the same cron expression and zone. */
interface Tick {
  key: string;
  timer: Cron | PeriodTimer;
  /** In the order they were added (the config's order). */
  entries: Set<Entry>;
}

// Seconds optional; croner's 7th (year) field is not part of our config language.
const CRON_MODE = '5-or-6-parts';
/** The code of the reason stop() aborts running jobs with (a job's timeout is a TimeoutError). */
const STOPPING = 'aborted';

/** Whether a job's signal was aborted by stop(): the worker, not the device, cut the job short. */
export function abortedByStop(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof WattlineError && signal.reason.code === STOPPING;
}

// setTimeout fires at once for larger delays.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Scheduler extends EventEmitter<SchedulerEvents> {
  readonly locks: PortLocks;
  readonly #entries = new Map<string, Entry>();
  readonly #ticks = new Map<string, Tick>();
  readonly #clock: Clock;
  /** Milliseconds on a monotonic clock, for durations only. */
  readonly #elapsed: () => number;
  readonly #timezone: string | undefined;
  readonly #stopTimeoutMs: number;
  readonly #logger: Logger | undefined;
  #started = false;
  #active = 0;

  constructor(options: SchedulerOptions = {}) {
    super();
    this.locks = options.locks ?? new PortLocks();
    this.#clock = options.clock ?? systemClock;
    const clock = options.clock;
    this.#elapsed = clock ? () => clock.now() : () => performance.now();
    this.#timezone = checkTimezone(options.timezone, 'scheduler');
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5000;
    this.#logger = options.log;
  }

  /** Validate and register a job; throws ConfigError naming the job. Scheduled at once if started. */
  add(spec: JobSpec): void {
    if (this.#entries.has(spec.name)) throw new ConfigError(`job ${spec.name}: duplicate job name`);
    const entry = this.#prepare(spec);
    this.#entries.set(spec.name, entry);
    if (this.#started) this.#schedule(entry);
  }

  /**
   * Throw the ConfigError `add` would throw for this spec, registering nothing: a config
   * reload checks every new job before it changes any (all or nothing). A name already
   * registered is fine here (the reload removes it first).
   */
  check(spec: JobSpec): void {
    this.#prepare(spec);
  }

  /**
   * Unregister a job: no more ticks at once; resolves when its run in flight (if any) has let
   * go of its port. The run is not aborted: a collection under way commits its points.
   */
  async remove(name: string): Promise<void> {
    const entry = this.#entry(name);
    this.#unschedule(entry);
    this.#entries.delete(name);
    await entry.current?.done;
  }

  #prepare(spec: JobSpec): Entry {
    const where = `job ${spec.name}`;
    if (!spec.name) throw new ConfigError('a job needs a name');
    checkMs(spec.timeoutMs, `${where}: timeoutMs`);
    if (spec.lockWaitMs !== undefined) checkMs(spec.lockWaitMs, `${where}: lockWaitMs`);
    const timezone = checkTimezone(spec.timezone, where) ?? this.#timezone;
    const periodMs = fixedPeriod(spec.cron);
    // A fixed period ticks on the same instants in every zone (period.ts): no croner in the zone,
    // and so no Intl.DateTimeFormat (its first one maps ~6.4 MB of ICU data, issue 24).
    const next = periodMs === null ? nextTwo(spec.cron, timezone, where) : [];
    const intervalMs = periodMs ?? (next.length === 2 ? next[1]!.getTime() - next[0]!.getTime() : spec.timeoutMs);
    const lockWaitMs = spec.lockWaitMs ?? Math.min(MAX_TIMER_MS, Math.max(spec.timeoutMs, intervalMs));
    return { spec, timezone, lockWaitMs, periodMs, tick: null, current: null, stats: emptyStats() };
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const entry of this.#entries.values()) this.#schedule(entry);
  }

  /** No new ticks; abort running jobs; wait for them to settle, at most stopTimeoutMs. */
  async stop(): Promise<void> {
    this.#started = false;
    const running: Run[] = [];
    for (const entry of this.#entries.values()) {
      this.#unschedule(entry);
      if (!entry.current) continue;
      running.push(entry.current);
      entry.current.ctl.abort(new WattlineError(`job ${entry.spec.name} aborted: scheduler stopping`, STOPPING));
    }
    if (running.length === 0) return;
    const allDone = Promise.all(running.map((r) => r.done));
    const settled = await new Promise<boolean>((resolve) => {
      const cancel = this.#after(this.#stopTimeoutMs, () => resolve(false));
      void allDone.then(() => {
        cancel();
        resolve(true);
      });
    });
    if (!settled) {
      const names = [...this.#entries.values()].filter((e) => e.current).map((e) => e.spec.name);
      this.#logger?.warn({ jobs: names }, `jobs still running ${this.#stopTimeoutMs} ms after stop`);
    }
  }

  /** Jobs started (by a tick or runOnce) and not yet ended: the group commit holds for them (outbox/group-commit.ts). */
  get active(): number {
    return this.#active;
  }

  /** Run every job (or the named ones) once now, in parallel but respecting port locks. */
  async runOnce(names?: readonly string[]): Promise<JobResult[]> {
    const entries = names ? names.map((n) => this.#entry(n)) : [...this.#entries.values()];
    return Promise.all(entries.map((e) => this.#settled(e.current ?? this.#launch(e, 'manual'))));
  }

  /**
   * A run's result once it has also let go of its port and its running slot, so a runOnce
   * right after this one starts a new run instead of joining the finished one. A timed-out
   * run reports at once: its job may hold the port for a while yet.
   */
  async #settled(run: Run): Promise<JobResult> {
    const result = await run.result;
    if (result.outcome !== 'timeout') await run.done;
    return result;
  }

  status(): JobStatus[] {
    return [...this.#entries.values()].map((e) => ({
      name: e.spec.name,
      cron: e.spec.cron,
      portKey: e.spec.portKey,
      running: e.current !== null,
      ...e.stats,
      nextRun: nextRunOf(e.tick),
    }));
  }

  #entry(name: string): Entry {
    const entry = this.#entries.get(name);
    if (!entry) throw new ConfigError(`no job named '${name}' (known: ${[...this.#entries.keys()].join(', ') || 'none'})`);
    return entry;
  }

  /** Put the entry on the timer of its cron expression and zone (made on first use). */
  #schedule(entry: Entry): void {
    const key = `${entry.timezone ?? ''} ${entry.spec.cron}`;
    let tick = this.#ticks.get(key);
    if (!tick) {
      const entries = new Set<Entry>();
      // #tick does not throw; this is a belt for croner's un-awaited trigger.
      const failed = (err: unknown) => this.#logger?.error({ err, jobs: [...entries].map((e) => e.spec.name) }, 'scheduler tick failed');
      const timer = tickTimer(entry.periodMs, entry.spec.cron, entry.timezone, () => this.#tick(entries), failed);
      tick = { key, timer, entries };
      this.#ticks.set(key, tick);
    }
    tick.entries.add(entry);
    entry.tick = tick;
  }

  #unschedule(entry: Entry): void {
    const tick = entry.tick;
    if (!tick) return;
    entry.tick = null;
    tick.entries.delete(entry);
    if (tick.entries.size > 0) return;
    tick.timer.stop();
    this.#ticks.delete(tick.key);
  }

  /**
   * Start every job of the tick, synchronously one after another: each runs up to its first
   * await, and their continuations (the requests) follow before any I/O is handled. A job
   * still running (an overrun, or a manual run) has this tick skipped and counted.
   */
  #tick(entries: Set<Entry>): void {
    const at = this.#elapsed();
    for (const entry of [...entries]) {
      if (entry.current) this.#skipped(entry);
      else this.#launch(entry, 'cron', at);
    }
  }

  #skipped(entry: Entry): void {
    entry.stats.overrunsSkipped++;
    this.#emitSafe('jobSkipped', { name: entry.spec.name, overrunsSkipped: entry.stats.overrunsSkipped });
  }

  /** `queuedAt`: the tick's instant on the elapsed clock; now for a manual run. */
  #launch(entry: Entry, trigger: JobTrigger, queuedAt = this.#elapsed()): Run {
    const ctl = new AbortController();
    this.#active++;
    let report!: (r: JobResult) => void;
    const result = new Promise<JobResult>((resolve) => (report = resolve));
    const done = this.#execute(entry, trigger, queuedAt, ctl, report)
      .catch((err) => this.#logger?.error({ err, job: entry.spec.name }, 'scheduler bug'))
      .finally(() => {
        if (entry.current === run) entry.current = null;
      });
    const run: Run = { result, done, ctl };
    entry.current = run;
    return run;
  }

  async #execute(entry: Entry, trigger: JobTrigger, queuedAt: number, ctl: AbortController, report: (r: JobResult) => void): Promise<void> {
    const { spec } = entry;
    let reported = false;
    const finish = (outcome: JobOutcome, error: Error | undefined, startedAt: number | null) => {
      if (reported) return;
      reported = true;
      // Before #record: its jobEnd listeners see this job ended.
      this.#active--;
      report(this.#record(entry, outcome, error, startedAt, queuedAt));
    };

    const body = async () => {
      const startedAt = this.#elapsed();
      this.#emitSafe('jobStart', { name: spec.name, trigger, waitMs: startedAt - queuedAt });
      // The timeout reports at once and aborts the job; the port stays held until the job
      // has really let go of it (the await below), however long that takes.
      const cancel = this.#after(spec.timeoutMs, () => {
        const err = new TimeoutError(`job ${spec.name} timed out after ${spec.timeoutMs}ms`);
        finish('timeout', err, startedAt);
        ctl.abort(err);
      });
      try {
        // Promise.resolve().then: a job that throws synchronously is handled like a rejection.
        await Promise.resolve().then(() => spec.run(ctl.signal));
        finish('ok', undefined, startedAt);
      } catch (err) {
        finish(ctl.signal.aborted ? 'aborted' : 'error', toError(err), startedAt);
      } finally {
        cancel();
      }
    };

    try {
      if (spec.portKey === null) await body();
      // A free port is taken at once (synchronously, so nobody slips in): nothing to bound.
      else if (!this.locks.isHeld(spec.portKey)) await this.locks.run(spec.portKey, body);
      else await this.#waitForPort(entry, ctl, body);
    } catch (err) {
      // Only giving up on the port lands here: body never throws.
      finish(err instanceof TimeoutError ? 'lock-timeout' : 'aborted', toError(err), null);
    }
  }

  /** Queue for a busy port: give up after the entry's lockWaitMs, or when stop() aborts the run. */
  async #waitForPort(entry: Entry, ctl: AbortController, body: () => Promise<void>): Promise<void> {
    const { spec } = entry;
    const wait = new AbortController();
    const onStop = () => wait.abort(ctl.signal.reason);
    ctl.signal.addEventListener('abort', onStop, { once: true });
    const cancel = this.#after(entry.lockWaitMs, () => wait.abort(new TimeoutError(`job ${spec.name} waited more than ${entry.lockWaitMs} ms for port ${spec.portKey}`)));
    const stopWaiting = () => {
      cancel();
      ctl.signal.removeEventListener('abort', onStop);
    };
    try {
      await this.locks.run(
        spec.portKey!,
        () => {
          stopWaiting();
          return body();
        },
        { signal: wait.signal },
      );
    } finally {
      stopWaiting();
    }
  }

  /** Call fn after ms on the clock; returns the cancel function. */
  #after(ms: number, fn: () => void): () => void {
    if (this.#clock.after) return this.#clock.after(ms, fn);
    const ctl = new AbortController();
    this.#clock.sleep(ms, ctl.signal).then(fn, () => undefined);
    return () => ctl.abort(TIMER_CANCELLED);
  }

  #record(entry: Entry, outcome: JobOutcome, error: Error | undefined, startedAt: number | null, queuedAt: number): JobResult {
    const end = this.#elapsed();
    const durationMs = startedAt === null ? 0 : end - startedAt;
    const waitMs = (startedAt ?? end) - queuedAt;
    const endWall = this.#clock.now();
    const s = entry.stats;
    s.runs++;
    if (startedAt !== null) s.lastStart = Math.round(endWall - durationMs);
    s.lastEnd = endWall;
    s.lastDurationMs = durationMs;
    s.lastOk = outcome === 'ok';
    s.lastError = error ? errorMessage(error) : null;
    if (outcome !== 'ok') s.failures++;
    if (outcome === 'timeout') s.timeouts++;
    if (outcome === 'lock-timeout') s.lockTimeouts++;
    const result: JobResult = { name: entry.spec.name, ok: outcome === 'ok', outcome, durationMs, waitMs };
    if (error) {
      result.error = errorMessage(error);
      result.err = error;
    }
    this.#emitSafe('jobEnd', result);
    return result;
  }

  // A listener that throws must not break the run's bookkeeping.
  #emitSafe<K extends keyof SchedulerEvents>(event: K, ...args: SchedulerEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: SchedulerEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#logger?.error({ err, event }, 'scheduler event listener threw');
    }
  }
}

function emptyStats(): Stats {
  return {
    lastStart: null,
    lastEnd: null,
    lastDurationMs: null,
    lastOk: null,
    lastError: null,
    runs: 0,
    failures: 0,
    timeouts: 0,
    lockTimeouts: 0,
    overrunsSkipped: 0,
  };
}

/**
 * The reason a timer of a clock without after() is cancelled with. abort() without one builds
 * a DOMException (with its stack trace) on every call, even on an already aborted signal.
 * Nobody reads it: the cancelled sleep's rejection is dropped.
 */
const TIMER_CANCELLED = new Error('timer cancelled');

/**
 * period.ts's reading of a valid pattern, checked against croner at a fixed UTC offset (not in
 * the job's zone: croner 10 gets the hours around a DST change wrong, see period.ts; and an
 * offset needs no Intl, whose first use costs ~25 ms interpreted).
 */
function fixedPeriod(pattern: string): number | null {
  const periodMs = fixedPeriodMs(pattern);
  if (periodMs === null) return null;
  const now = Date.now();
  const runs = new Cron(pattern, { utcOffset: 0, mode: CRON_MODE }).nextRuns(3, new Date(now)).map((d) => d.getTime());
  const first = nextBoundary(now, periodMs);
  return runs.every((t, i) => t === first + i * periodMs) ? periodMs : null;
}

/**
 * A timer calling `fn` on a cron pattern, the way the scheduler ticks its jobs: a fixed period on
 * PeriodTimer (the same instants in every zone; no croner, and no Intl for the zone), anything
 * else on croner in `timezone`. For the self-metrics schedule (observe). Throws ConfigError naming
 * `where` for a pattern croner refuses.
 */
export function cronTimer(pattern: string, timezone: string | undefined, fn: () => void, where: string): { stop(): void } {
  const periodMs = fixedPeriod(pattern);
  if (periodMs === null) nextTwo(pattern, checkTimezone(timezone, where), where);
  return tickTimer(periodMs, pattern, timezone, fn);
}

/** PeriodTimer for a fixed period, else croner in the zone; `failed` gets what `fn` throws. */
function tickTimer(periodMs: number | null, pattern: string, timezone: string | undefined, fn: () => void, failed?: (err: unknown) => void): PeriodTimer | Cron {
  if (periodMs === null) return new Cron(pattern, { timezone, mode: CRON_MODE, ...(failed ? { catch: failed } : {}) }, fn);
  return new PeriodTimer(periodMs, () => {
    try {
      fn();
    } catch (err) {
      if (!failed) throw err;
      failed(err);
    }
  });
}

function nextRunOf(tick: Tick | null): number | null {
  if (!tick) return null;
  const next = tick.timer.nextRun();
  return next instanceof Date ? next.getTime() : next;
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function checkMs(ms: number, what: string): void {
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_TIMER_MS) {
    throw new ConfigError(`${what} must be a positive number of milliseconds up to ${MAX_TIMER_MS}, got ${ms}`);
  }
}

/** The system's tz database or Intl must know it (core/zone.ts); croner checks again for the crons it runs. */
function checkTimezone(tz: string | undefined, where: string): string | undefined {
  if (tz === undefined) return undefined;
  if (!isTimeZone(tz)) throw new ConfigError(`${where}: invalid timezone '${tz}' (expected an IANA name such as Europe/Amsterdam)`);
  return tz;
}

/** Parse with croner and return the next two fire times; ConfigError if it is not a usable pattern. */
function nextTwo(pattern: string, timezone: string | undefined, where: string): Date[] {
  const bad = (why: string) => new ConfigError(`${where}: invalid cron expression '${pattern}': ${why}`);
  const fields = typeof pattern === 'string' ? pattern.trim().split(/\s+/).filter(Boolean) : [];
  // croner would take a string with ':' as a one-shot ISO date, not a pattern.
  if (typeof pattern !== 'string' || pattern.includes(':') || (!pattern.trim().startsWith('@') && fields.length !== 5 && fields.length !== 6)) {
    throw bad(`expected 5 fields (minute first) or 6 fields (second first), got ${fields.length}`);
  }
  let runs: Date[];
  try {
    runs = new Cron(pattern, { timezone, mode: CRON_MODE }).nextRuns(2);
  } catch (err) {
    throw bad(errorMessage(err).replace(/^CronPattern: /, ''));
  }
  if (runs.length === 0) throw bad('it never fires');
  return runs;
}
