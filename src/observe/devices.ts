/**
 * Per-device collection figures since the process started, and the log of a device's
 * failures that a person can follow over days: the first occurrence of a failure, then one
 * summary per reminder period with the count, then "recovered after N failures".
 */
import { WattlineError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** The error classes counted per device (fields errors_<class>). */
export const ERROR_CLASSES = ['timeout', 'lock_timeout', 'transport', 'device', 'frame', 'config', 'other'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** What the scheduler says about one finished job (a subset of its JobResult). */
export interface JobEnd {
  name: string;
  ok: boolean;
  outcome: 'ok' | 'error' | 'timeout' | 'lock-timeout' | 'aborted';
  error?: string;
  err?: Error;
  durationMs: number;
}

export interface DeviceTally {
  ok: number;
  failed: number;
  timedOut: number;
  skipped: number;
  errors: Record<ErrorClass, number>;
  lastDurationMs: number | null;
  points: number;
  lastOkMs: number | null;
  lastErrorMs: number | null;
  lastError: string | null;
  /** Start of the current run of failures, null while the device succeeds. */
  failingSinceMs: number | null;
  /** Failures since the last success. */
  consecutiveFailures: number;
}

/** The class of a job's failure: its WattlineError code's first word, or the scheduler's outcome. */
export function errorClass(end: Pick<JobEnd, 'outcome' | 'err'>): ErrorClass {
  if (end.outcome === 'timeout') return 'timeout';
  if (end.outcome === 'lock-timeout') return 'lock_timeout';
  if (end.err instanceof WattlineError) {
    const head = end.err.code.split('.')[0]!;
    if ((ERROR_CLASSES as readonly string[]).includes(head)) return head as ErrorClass;
  }
  return 'other';
}

function emptyTally(): DeviceTally {
  return {
    ok: 0,
    failed: 0,
    timedOut: 0,
    skipped: 0,
    errors: Object.fromEntries(ERROR_CLASSES.map((c) => [c, 0])) as Record<ErrorClass, number>,
    lastDurationMs: null,
    points: 0,
    lastOkMs: null,
    lastErrorMs: null,
    lastError: null,
    failingSinceMs: null,
    consecutiveFailures: 0,
  };
}

export class DeviceWatch {
  private readonly tallies = new Map<string, DeviceTally>();
  /** Per failing device: the message last logged loudly, when, and how many failures since. */
  private readonly repeats = new Map<string, { message: string; loggedMs: number; since: number }>();

  constructor(private readonly o: { log: Logger; reminderMs: number }) {}

  tally(device: string): DeviceTally {
    let t = this.tallies.get(device);
    if (!t) this.tallies.set(device, (t = emptyTally()));
    return t;
  }

  skipped(device: string): void {
    this.tally(device).skipped++;
  }

  /** Count a finished job and log what a person should see of it. */
  ended(end: JobEnd, points: number, nowMs: number): void {
    const t = this.tally(end.name);
    t.lastDurationMs = end.durationMs;
    if (end.ok) {
      t.ok++;
      t.points += points;
      t.lastOkMs = nowMs;
      if (t.consecutiveFailures > 0) {
        this.o.log.info({ device: end.name, failures: t.consecutiveFailures, failingForS: Math.round((nowMs - t.failingSinceMs!) / 1000) }, `${end.name} recovered after ${t.consecutiveFailures} failures`);
      }
      t.consecutiveFailures = 0;
      t.failingSinceMs = null;
      this.repeats.delete(end.name);
      return;
    }
    t.failed++;
    if (end.outcome === 'timeout') t.timedOut++;
    t.errors[errorClass(end)]++;
    t.lastErrorMs = nowMs;
    t.lastError = end.error ?? end.outcome;
    t.consecutiveFailures++;
    t.failingSinceMs ??= nowMs;

    const fields = { device: end.name, outcome: end.outcome, err: t.lastError };
    const seen = this.repeats.get(end.name);
    if (!seen || seen.message !== t.lastError) {
      this.repeats.set(end.name, { message: t.lastError, loggedMs: nowMs, since: 0 });
      this.o.log.warn(fields, 'collection failed');
      return;
    }
    seen.since++;
    if (nowMs - seen.loggedMs >= this.o.reminderMs) {
      this.o.log.warn({ ...fields, failures: t.consecutiveFailures, repeatsSinceLastLog: seen.since }, `${end.name} still failing: ${t.consecutiveFailures} failures in a row`);
      seen.loggedMs = nowMs;
      seen.since = 0;
    } else {
      this.o.log.debug(fields, 'collection failed again');
    }
  }
}
