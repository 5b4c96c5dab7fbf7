/**
 * Moves lines from the outbox to InfluxDB, oldest first (DESIGN.md §6). The outbox is the
 * only state that matters: a row leaves it through `ack` after a 2xx, or `deadLetter` after
 * the server refused exactly that line. Everything else (back-off, counters, the last error)
 * is for reporting and may be lost with the process.
 *
 * Per batch:
 * - ok: ack;
 * - retry (network, timeout, 5xx, 429): keep, back off (exponential, jittered, at least
 *   Retry-After);
 * - split (413): send the halves, recursively; a single line still too large is dead-lettered;
 * - reject (400/422): bisect until the refused lines stand alone; dead-letter only those,
 *   ack every sub-batch the server takes;
 * - fatal (401/403/404, config): keep everything, log at error level (once per distinct
 *   message, then a reminder now and then), back off.
 *
 * InfluxDB 1.x answers a batch holding a bad line with 400 "partial write" after it has
 * written the good lines, so bisection sends those again. That is harmless: a point is
 * identified by measurement, tag set and timestamp, and writing an identical point again
 * overwrites it with the same values.
 */
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Outbox, OutboxRow } from '../outbox/types.js';
import type { WriteOutcome, Writer } from './types.js';

export interface FlusherOptions {
  outbox: Outbox;
  writer: Writer;
  /** Most lines per request. */
  batchSize: number;
  /** Most bytes per request (the outbox still hands out one line larger than this). */
  batchBytes: number;
  /** Pause between looks at an empty outbox, in ms. */
  flushIntervalMs: number;
  /** First back-off after a failed write, in ms. */
  minRetryDelayMs: number;
  /** Longest back-off (a server's Retry-After may ask for more), in ms. */
  maxRetryDelayMs: number;
  clock: Clock;
  log: Logger;
  /** Uniform [0, 1) for back-off jitter (injected by tests). Default Math.random. */
  random?: () => number;
  /** How long `stop()` lets the request in flight finish before abandoning it, in ms. Default 3000. */
  stopGraceMs?: number;
  /** Between error-level reminders of a problem that persists, in ms. Default 5 minutes. */
  reminderMs?: number;
}

type Failure = Extract<WriteOutcome, { kind: 'retry' | 'fatal' }>;

export interface FlushReport {
  /**
   * - empty: nothing was pending;
   * - delivered: every row of the batch left the outbox (acked, or dead-lettered);
   * - retry / fatal: stopped on that outcome, the rest of the batch stays in the outbox;
   * - aborted: `stop()` abandoned the request in flight; the rows stay in the outbox.
   */
  result: 'empty' | 'delivered' | 'retry' | 'fatal' | 'aborted';
  /** Rows in the batch taken from the outbox. */
  rows: number;
  delivered: number;
  deadLettered: number;
  /** HTTP requests made for this batch (more than one when split or bisected). */
  requests: number;
  /** The outcome that stopped the batch (retry / fatal). */
  outcome?: Failure;
  /** For retry / fatal: how long to wait before trying again, in ms. */
  backoffMs?: number;
}

export interface DrainProgress {
  /** Rows pending when the drain began. */
  total: number;
  delivered: number;
  deadLettered: number;
}

export interface DrainResult {
  /** Every row pending at the start left the outbox (delivered or dead-lettered). */
  complete: boolean;
  delivered: number;
  deadLettered: number;
  /** Rows pending in the outbox when the drain ended. */
  remaining: number;
  /** When not complete: the server's (or network's) words. */
  stoppedBecause?: string;
  outcome?: Failure;
}

export interface FlusherStatus {
  /** The writer's description (no secrets). */
  target: string;
  running: boolean;
  lastSuccessMs: number | null;
  lastAttemptMs: number | null;
  lastError: { kind: 'retry' | 'fatal' | 'internal'; status: number | null; message: string; timeMs: number } | null;
  consecutiveFailures: number;
  /** When the loop will try again after a failure (ms since epoch), or null. */
  nextAttemptMs: number | null;
  /** Since this flusher was created. */
  delivered: number;
  deadLettered: number;
  requests: number;
}

type LastError = NonNullable<FlusherStatus['lastError']>;

const ABORTED = Symbol('aborted');

interface BatchTally {
  delivered: number;
  deadLettered: number;
  requests: number;
}

export class Flusher {
  private readonly o: Required<Omit<FlusherOptions, 'random'>> & { random: () => number };
  private loop: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  /** Aborts the request in flight (after the stop grace). */
  private readonly abandon = new AbortController();
  /** Wakes the loop from its sleep when stopping. */
  private readonly wake = new AbortController();
  private chain: Promise<unknown> = Promise.resolve();

  private lastSuccessMs: number | null = null;
  private lastAttemptMs: number | null = null;
  private lastError: FlusherStatus['lastError'] = null;
  private consecutiveFailures = 0;
  private nextAttemptMs: number | null = null;
  private delivered = 0;
  private deadLettered = 0;
  private requests = 0;
  private failingSinceMs: number | null = null;
  private lastLogged: { key: string; timeMs: number } | null = null;

  constructor(options: FlusherOptions) {
    const minRetryDelayMs = Math.max(1, options.minRetryDelayMs);
    this.o = {
      stopGraceMs: 3000,
      reminderMs: 5 * 60_000,
      ...options,
      minRetryDelayMs,
      maxRetryDelayMs: Math.max(minRetryDelayMs, options.maxRetryDelayMs),
      random: options.random ?? Math.random,
    };
  }

  /** Run the delivery loop in the background until `stop()`. */
  start(): void {
    if (this.loop || this.stopping) return;
    this.o.log.info({ target: this.o.writer.describe }, 'flusher started');
    this.loop = this.run();
  }

  /**
   * Stop the loop. The request in flight gets `stopGraceMs` to finish; then it is
   * abandoned and its rows stay in the outbox. Closes the writer: a stopped flusher is done.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.wake.abort();
      const grace = new AbortController();
      void this.o.clock.sleep(this.o.stopGraceMs, grace.signal).then(
        () => this.abandon.abort(new Error('flusher stopping')),
        () => undefined,
      );
      // Whatever holds the lock (the loop, a drain, a flushOnce) finishes or is abandoned.
      await Promise.allSettled([this.loop ?? Promise.resolve(), this.chain]);
      grace.abort();
      this.abandon.abort(new Error('flusher stopped'));
      await this.o.writer.close().catch((err: unknown) => this.o.log.warn({ err: errorMessage(err) }, 'closing the writer failed'));
      if (this.loop) this.o.log.info({ delivered: this.delivered, deadLettered: this.deadLettered }, 'flusher stopped');
    })();
    return this.stopping;
  }

  /** Send one batch (the oldest pending rows) now. */
  flushOnce(): Promise<FlushReport> {
    return this.exclusive(() => this.flushBatch());
  }

  /**
   * Send everything pending now, batch after batch, without waiting between them. Stops at
   * the first retry or fatal outcome and reports it (no back-off here: the caller decides).
   */
  async drain(options: { onProgress?: (progress: DrainProgress) => void } = {}): Promise<DrainResult> {
    const total = this.o.outbox.stats().rows;
    let delivered = 0;
    let deadLettered = 0;
    let stop: FlushReport | null = null;
    // Bounded by what was pending at the start, so a busy daemon cannot keep a drain going forever.
    while (delivered + deadLettered < total) {
      const report = await this.flushOnce();
      delivered += report.delivered;
      deadLettered += report.deadLettered;
      if (report.result === 'empty') break;
      if (report.result !== 'delivered') {
        stop = report;
        break;
      }
      options.onProgress?.({ total, delivered, deadLettered });
    }
    const remaining = this.o.outbox.stats().rows;
    if (!stop) return { complete: true, delivered, deadLettered, remaining };
    const result: DrainResult = { complete: false, delivered, deadLettered, remaining, stoppedBecause: stop.outcome?.message ?? 'flusher stopped' };
    if (stop.outcome) result.outcome = stop.outcome;
    return result;
  }

  status(): FlusherStatus {
    return {
      target: this.o.writer.describe,
      running: this.loop !== null && this.stopping === null,
      lastSuccessMs: this.lastSuccessMs,
      lastAttemptMs: this.lastAttemptMs,
      lastError: this.lastError,
      consecutiveFailures: this.consecutiveFailures,
      nextAttemptMs: this.nextAttemptMs,
      delivered: this.delivered,
      deadLettered: this.deadLettered,
      requests: this.requests,
    };
  }

  /** The back-off before attempt `failures + 1`: uniform in [min, min·2^failures] capped at max, at least Retry-After. */
  backoffMs(failures: number, retryAfterMs = 0): number {
    const { minRetryDelayMs: min, maxRetryDelayMs: max } = this.o;
    const cap = Math.min(max, min * 2 ** Math.min(failures, 30));
    const jittered = Math.round(min + this.o.random() * (cap - min));
    return Math.max(jittered, retryAfterMs);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let waitMs: number;
      try {
        const report = await this.flushOnce();
        if (report.result === 'delivered') waitMs = 0; // more may be pending: go straight on
        else if (report.result === 'empty') waitMs = this.o.flushIntervalMs;
        else if (report.result === 'aborted') break;
        else waitMs = report.backoffMs ?? this.o.minRetryDelayMs;
      } catch (err) {
        // The outbox itself failed (disk full, database locked): nothing was lost, try again later.
        this.consecutiveFailures++;
        waitMs = this.backoffMs(this.consecutiveFailures);
        this.noteFailure({ kind: 'internal', status: null, message: errorMessage(err) }, waitMs);
      }
      if (waitMs > 0 && !this.stopping) {
        await this.o.clock.sleep(waitMs, this.wake.signal).catch(() => undefined);
      }
    }
    this.nextAttemptMs = null;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** One batch, the oldest pending rows: write, then ack / bisect / keep. */
  private async flushBatch(): Promise<FlushReport> {
    const tally: BatchTally = { delivered: 0, deadLettered: 0, requests: 0 };
    if (this.abandon.signal.aborted) return { result: 'aborted', rows: 0, ...tally };
    const batch = this.o.outbox.peek(this.o.batchSize, this.o.batchBytes)?.rows;
    if (!batch || batch.length === 0) return { result: 'empty', rows: 0, ...tally };

    const stop = await this.deliver(batch, tally);
    const now = this.o.clock.now();
    this.lastAttemptMs = now;
    if (tally.delivered > 0) this.lastSuccessMs = now;
    const rows = batch.length;

    if (stop === null) {
      if (this.consecutiveFailures > 0) {
        this.o.log.info(
          { target: this.o.writer.describe, failedAttempts: this.consecutiveFailures, failingSinceMs: this.failingSinceMs },
          'delivering again',
        );
      }
      this.consecutiveFailures = 0;
      this.failingSinceMs = null;
      this.nextAttemptMs = null;
      this.lastLogged = null;
      return { result: 'delivered', rows, ...tally };
    }
    if (stop === ABORTED) return { result: 'aborted', rows, ...tally };

    this.consecutiveFailures++;
    const backoffMs = this.backoffMs(this.consecutiveFailures, stop.kind === 'retry' ? stop.retryAfterMs : 0);
    this.noteFailure({ kind: stop.kind, status: stop.status, message: stop.message }, backoffMs);
    return { result: stop.kind, rows, ...tally, outcome: stop, backoffMs };
  }

  /** Write `rows`; on split/reject, halve and recurse. Returns the outcome that stopped it, or null when every row left the outbox. */
  private async deliver(rows: readonly OutboxRow[], tally: BatchTally): Promise<Failure | typeof ABORTED | null> {
    const signal = this.abandon.signal;
    if (signal.aborted) return ABORTED;
    tally.requests++;
    this.requests++;
    const outcome = await this.o.writer.write(
      rows.map((r) => r.line),
      rows[0]!.precision,
      signal,
    );
    switch (outcome.kind) {
      case 'ok': {
        this.o.outbox.ack(rows.map((r) => r.id));
        tally.delivered += rows.length;
        this.delivered += rows.length;
        return null;
      }
      case 'retry':
        return signal.aborted ? ABORTED : outcome;
      case 'fatal':
        return outcome;
      case 'split':
      case 'reject': {
        if (rows.length === 1) {
          const row = rows[0]!;
          this.o.outbox.deadLetter([row.id], outcome.status, outcome.message);
          tally.deadLettered++;
          this.deadLettered++;
          this.o.log.warn(
            { id: row.id, status: outcome.status, message: outcome.message, line: row.line.length > 300 ? row.line.slice(0, 300) + '…' : row.line },
            'line refused by the server: moved to dead letters',
          );
          return null;
        }
        const mid = Math.ceil(rows.length / 2);
        return (await this.deliver(rows.slice(0, mid), tally)) ?? (await this.deliver(rows.slice(mid), tally));
      }
    }
  }

  private noteFailure(error: Omit<LastError, 'timeMs'>, backoffMs: number): void {
    const now = this.o.clock.now();
    this.lastError = { ...error, timeMs: now };
    this.failingSinceMs ??= now;
    this.nextAttemptMs = now + backoffMs;
    // Loud once per distinct problem, then a reminder every `reminderMs`; the rest at debug.
    const key = `${error.kind} ${error.status ?? ''} ${error.message}`;
    const fields = {
      target: this.o.writer.describe,
      status: error.status,
      message: error.message,
      failedAttempts: this.consecutiveFailures,
      retryInMs: backoffMs,
      pending: 'kept in the outbox',
    };
    const fresh = this.lastLogged === null || this.lastLogged.key !== key;
    const remind = !fresh && now - this.lastLogged!.timeMs >= this.o.reminderMs;
    if (!fresh && !remind) {
      this.o.log.debug(fields, 'write failed again');
      return;
    }
    this.lastLogged = { key, timeMs: now };
    const what = remind ? 'still failing' : error.kind === 'fatal' ? 'InfluxDB refuses our writes: fix the configuration' : 'write failed; will retry';
    if (error.kind === 'retry') this.o.log.warn(fields, what);
    else this.o.log.error(fields, what);
  }
}
