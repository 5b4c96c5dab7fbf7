/**
 * Moves lines from the outbox to InfluxDB, oldest first (README "How a point travels", Flusher). The outbox is the
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
 * Pipelining: while batch N's request is in flight, batch N+1 is peeked (the rows after N's
 * last id); when N is ok, N+1's request starts first and N is acked while it is in flight, so
 * our SQLite work overlaps the server's. At most one request is in flight, so batches still
 * arrive in commit order. When N is anything but ok, the prefetched N+1 is dropped (it is
 * peeked again later) and N is handled alone exactly as above. A crash after N+1 was sent
 * but before N was acked only sends N again later, which is harmless for the reason below.
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
  /** Between reminders of a problem that persists, in ms. Default 5 minutes. */
  reminderMs?: number;
  /**
   * A cheap "does the server answer?" (InfluxDB's /ping). While backing off after a network
   * error, it is asked every `probeIntervalMs`; the first yes ends the wait, so delivery resumes
   * within seconds of the server's return however long the back-off has grown.
   */
  probe?: (signal: AbortSignal) => Promise<boolean>;
  /** Between probes while backing off, in ms. Default 2000. */
  probeIntervalMs?: number;
}

/** What the flusher is doing, for status and self-metrics. */
export type FlusherState = 'delivering' | 'backing_off' | 'refused' | 'idle';

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
  /** Since when the current run of failures lasts (ms since epoch), or null. */
  failingSinceMs: number | null;
  state: FlusherState;
  /** When the loop will try again after a failure (ms since epoch), or null. */
  nextAttemptMs: number | null;
  /** Since this flusher was created. */
  delivered: number;
  deadLettered: number;
  requests: number;
  /** Batches the server kept refusing (401/403/404) and batches to retry (network, 5xx, 429). */
  refused: number;
  retries: number;
  /** /ping probes made while backing off, and how many of them ended the wait. */
  probes: number;
  probeHits: number;
}

type LastError = NonNullable<FlusherStatus['lastError']>;

const ABORTED = Symbol('aborted');

interface BatchTally {
  delivered: number;
  deadLettered: number;
  requests: number;
}

/** What a run of pipelined batches is for: one batch, a drain, or the loop. */
interface SendPlan {
  /**
   * Whether to go on to the next batch once the current one is delivered; `rows` is the
   * current batch's size (asked before its outcome is known, to prefetch, and again after).
   */
  more(rows: number): boolean;
  /** Every finished batch's report, in order (after its rows were acked / dead-lettered). */
  report?(report: FlushReport): void;
}

const ONE_BATCH: SendPlan = { more: () => false };

/** One batch taken from the outbox and its request in flight. */
interface InFlight {
  rows: readonly OutboxRow[];
  tally: BatchTally;
  outcome: Promise<WriteOutcome>;
}

/** Lets the request just started reach the socket before synchronous SQLite work blocks the event loop. */
const letIoRun = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Flusher {
  private readonly o: Required<Omit<FlusherOptions, 'random' | 'probe'>> & Pick<FlusherOptions, 'probe'> & { random: () => number };
  private loop: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  /** Aborts the request in flight (after the stop grace). */
  private readonly abandon = new AbortController();
  /** Wakes the loop from its sleep when stopping. */
  private readonly wake = new AbortController();
  private chain: Promise<unknown> = Promise.resolve();
  /** Callers queued behind the one holding the lock: a pipelined run yields to them between batches. */
  private waiting = 0;

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
  /** drain({ callerReports }): a failed write ends the drain and its caller says why, once. */
  private quietFailures = false;
  private lastResult: FlushReport['result'] | null = null;
  private refused = 0;
  private retries = 0;
  private probes = 0;
  private probeHits = 0;

  constructor(options: FlusherOptions) {
    const minRetryDelayMs = Math.max(1, options.minRetryDelayMs);
    this.o = {
      stopGraceMs: 3000,
      reminderMs: 5 * 60_000,
      probeIntervalMs: 2000,
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
    return this.exclusive(() => this.flushBatches(ONE_BATCH));
  }

  /**
   * Send everything pending now, batch after batch, without waiting between them. Stops at
   * the first retry or fatal outcome and reports it (no back-off here: the caller decides).
   */
  /**
   * Send what is pending now. `callerReports`: the caller (once, drain) prints why the drain
   * stopped and nothing retries after it, so a failed write is not logged as "will retry".
   */
  async drain(options: { onProgress?: (progress: DrainProgress) => void; callerReports?: boolean } = {}): Promise<DrainResult> {
    this.quietFailures = options.callerReports ?? false;
    try {
      return await this.drainPending(options);
    } finally {
      this.quietFailures = false;
    }
  }

  private async drainPending(options: { onProgress?: (progress: DrainProgress) => void }): Promise<DrainResult> {
    const total = this.o.outbox.stats().rows;
    let delivered = 0;
    let deadLettered = 0;
    let stop: FlushReport | null = null;
    const plan: SendPlan = {
      // Bounded by what was pending at the start, so a busy daemon cannot keep a drain going forever.
      more: (rows) => delivered + deadLettered + rows < total,
      report: (report) => {
        delivered += report.delivered;
        deadLettered += report.deadLettered;
        if (report.result === 'delivered') options.onProgress?.({ total, delivered, deadLettered });
      },
    };
    while (delivered + deadLettered < total) {
      // Returns after the last batch it sent, or early when another caller waits for the lock.
      const report = await this.exclusive(() => this.flushBatches(plan));
      if (report.result === 'empty') break;
      if (report.result !== 'delivered') {
        stop = report;
        break;
      }
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
      failingSinceMs: this.failingSinceMs,
      state: this.state(),
      nextAttemptMs: this.nextAttemptMs,
      delivered: this.delivered,
      deadLettered: this.deadLettered,
      requests: this.requests,
      refused: this.refused,
      retries: this.retries,
      probes: this.probes,
      probeHits: this.probeHits,
    };
  }

  private state(): FlusherState {
    if (this.consecutiveFailures > 0) return this.lastError?.kind === 'fatal' ? 'refused' : 'backing_off';
    return this.loop !== null && this.stopping === null && this.lastResult !== 'empty' && this.lastResult !== null ? 'delivering' : 'idle';
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
        const report = await this.exclusive(() => this.flushBatches({ more: () => !this.stopping }), false);
        this.lastResult = report.result;
        if (report.result === 'delivered')
          waitMs = 0; // more may be pending: go straight on
        else if (report.result === 'empty') waitMs = this.o.flushIntervalMs;
        else if (report.result === 'aborted') break;
        else {
          waitMs = report.backoffMs ?? this.o.minRetryDelayMs;
          // Unreachable (no HTTP answer at all): ask /ping now and then instead of sleeping it out.
          // Not after an HTTP answer (5xx, 429, 401...): the server is up and asked us to wait.
          if (report.outcome?.kind === 'retry' && report.outcome.status === null && this.o.probe) {
            await this.waitOrProbe(waitMs);
            continue;
          }
        }
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

  /** Sleep up to `waitMs`, probing every `probeIntervalMs`; returns early when the server answers. */
  private async waitOrProbe(waitMs: number): Promise<void> {
    const until = this.o.clock.now() + waitMs;
    while (!this.stopping) {
      const left = until - this.o.clock.now();
      if (left <= 0) return;
      await this.o.clock.sleep(Math.min(left, this.o.probeIntervalMs), this.wake.signal).catch(() => undefined);
      if (this.stopping || this.o.clock.now() >= until) return;
      this.probes++;
      const answered = await this.o.probe!(AbortSignal.any([this.wake.signal, AbortSignal.timeout(Math.max(500, this.o.probeIntervalMs / 2))])).catch(() => false);
      if (answered) {
        this.probeHits++;
        this.o.log.info({ target: this.o.writer.describe, probes: this.probes }, 'InfluxDB answers /ping again: sending now');
        return;
      }
    }
  }

  /**
   * Run `fn` alone. `yieldTo` (flushOnce, drain): a pipelined run holding the lock stops after
   * its current batch to let this caller in. The loop does not ask for that: it waits for a
   * drain (bounded by what was pending) rather than taking turns batch by batch.
   */
  private exclusive<T>(fn: () => Promise<T>, yieldTo = true): Promise<T> {
    if (yieldTo) this.waiting++;
    const locked = () => {
      if (yieldTo) this.waiting--;
      return fn();
    };
    const run = this.chain.then(locked, locked);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Batches from the oldest pending rows on, pipelined (see the top of this file), while
   * `plan.more` says so. Returns the report of the last batch: 'delivered' when it stopped
   * because the plan had enough, the outbox ran dry, or another caller waits for the lock.
   */
  private async flushBatches(plan: SendPlan): Promise<FlushReport> {
    if (this.abandon.signal.aborted) return { result: 'aborted', rows: 0, delivered: 0, deadLettered: 0, requests: 0 };
    const first = this.o.outbox.peek(this.o.batchSize, this.o.batchBytes)?.rows;
    if (!first || first.length === 0) return { result: 'empty', rows: 0, delivered: 0, deadLettered: 0, requests: 0 };

    let current: InFlight = this.send(first);
    for (;;) {
      const { rows, tally } = current;
      // Our SQLite read of batch N+1 overlaps the server's work on batch N.
      let next: readonly OutboxRow[] | null = null;
      if (this.mayContinue(plan, rows.length)) {
        try {
          await letIoRun();
          next = this.o.outbox.peek(this.o.batchSize, this.o.batchBytes, rows[rows.length - 1]!.id)?.rows ?? null;
        } catch (err) {
          // The outbox failed: let N's request end (its rows stay pending) before giving up the lock.
          await current.outcome.catch(() => undefined);
          throw err;
        }
        if (next?.length === 0) next = null;
      }
      const outcome = await current.outcome;
      if (outcome.kind !== 'ok') {
        // Anything but ok: forget the prefetched batch (it is peeked again later) and handle
        // this one alone, as an unpipelined flusher would.
        const report = this.finishBatch(rows, tally, await this.settle(rows, outcome, tally));
        plan.report?.(report);
        return report;
      }

      // Ok: start N+1 first, then ack N while N+1 is in flight (one request in flight at a
      // time, so delivery stays in commit order). Should we die between the two, N stays in
      // the outbox and is sent again: identical points overwrite each other in InfluxDB.
      const following = next && this.mayContinue(plan, rows.length) ? this.send(next) : null;
      let report: FlushReport;
      try {
        if (following) await letIoRun();
        this.ack(rows, tally);
        report = this.finishBatch(rows, tally, null);
        plan.report?.(report);
      } catch (err) {
        // The outbox failed: let N+1's request end (its rows stay pending) before giving up the lock.
        await following?.outcome.catch(() => undefined);
        throw err;
      }
      if (!following) return report;
      current = following;
    }
  }

  /** Whether the batch after the current one (of `rows` rows, assumed delivered) may be sent now. */
  private mayContinue(plan: SendPlan, rows: number): boolean {
    return this.waiting === 0 && !this.abandon.signal.aborted && plan.more(rows);
  }

  /** Start the request for `rows` (counted at once: it is made). */
  private send(rows: readonly OutboxRow[], tally: BatchTally = { delivered: 0, deadLettered: 0, requests: 0 }): InFlight {
    tally.requests++;
    this.requests++;
    const outcome = this.o.writer.write(
      rows.map((r) => r.line),
      rows[0]!.precision,
      this.abandon.signal,
    );
    return { rows, tally, outcome };
  }

  private ack(rows: readonly OutboxRow[], tally: BatchTally): void {
    this.o.outbox.ack(rows.map((r) => r.id));
    tally.delivered += rows.length;
    this.delivered += rows.length;
  }

  /** After a batch: status fields, failure counting and logging, and its report. */
  private finishBatch(batch: readonly OutboxRow[], tally: BatchTally, stop: Failure | typeof ABORTED | null): FlushReport {
    const now = this.o.clock.now();
    this.lastAttemptMs = now;
    if (tally.delivered > 0) this.lastSuccessMs = now;
    const rows = batch.length;

    if (stop === null) {
      if (this.consecutiveFailures > 0) {
        const pending = this.pendingRows();
        const afterS = Math.round((now - (this.failingSinceMs ?? now)) / 1000);
        this.o.log.info({ target: this.o.writer.describe, failedAttempts: this.consecutiveFailures, failingSinceMs: this.failingSinceMs, pending }, `delivering again after ${afterS}s, ${pending ?? '?'} points pending`);
      }
      this.consecutiveFailures = 0;
      this.failingSinceMs = null;
      this.nextAttemptMs = null;
      this.lastLogged = null;
      return { result: 'delivered', rows, ...tally };
    }
    if (stop === ABORTED) return { result: 'aborted', rows, ...tally };

    this.consecutiveFailures++;
    if (stop.kind === 'fatal') this.refused++;
    else this.retries++;
    const backoffMs = this.backoffMs(this.consecutiveFailures, stop.kind === 'retry' ? stop.retryAfterMs : 0);
    this.noteFailure({ kind: stop.kind, status: stop.status, message: stop.message }, backoffMs);
    return { result: stop.kind, rows, ...tally, outcome: stop, backoffMs };
  }

  /** Write `rows`; on split/reject, halve and recurse. Returns the outcome that stopped it, or null when every row left the outbox. */
  private async deliver(rows: readonly OutboxRow[], tally: BatchTally): Promise<Failure | typeof ABORTED | null> {
    if (this.abandon.signal.aborted) return ABORTED;
    return this.settle(rows, await this.send(rows, tally).outcome, tally);
  }

  /** Act on the answer to `rows`: ack, keep, or (split / reject) halve and deliver the halves. */
  private async settle(rows: readonly OutboxRow[], outcome: WriteOutcome, tally: BatchTally): Promise<Failure | typeof ABORTED | null> {
    switch (outcome.kind) {
      case 'ok': {
        this.ack(rows, tally);
        return null;
      }
      case 'retry':
        return this.abandon.signal.aborted ? ABORTED : outcome;
      case 'fatal':
        return outcome;
      case 'split':
      case 'reject': {
        if (rows.length === 1) {
          const row = rows[0]!;
          // The id logged is the dead letter's: the one `wattline buffer retry|purge <id>` takes.
          const [id] = this.o.outbox.deadLetter([row.id], outcome.status, outcome.message);
          tally.deadLettered++;
          this.deadLettered++;
          this.o.log.warn({ id, status: outcome.status, message: outcome.message, line: row.line.length > 300 ? row.line.slice(0, 300) + '…' : row.line }, 'line refused by the server: moved to dead letters');
          return null;
        }
        const mid = Math.ceil(rows.length / 2);
        return (await this.deliver(rows.slice(0, mid), tally)) ?? (await this.deliver(rows.slice(mid), tally));
      }
    }
  }

  /**
   * Log a failure so that a person can follow it over days: each change of problem once, at
   * once; the same problem again only as a reminder every `reminderMs`; the rest at debug.
   */
  private noteFailure(error: Omit<LastError, 'timeMs'>, backoffMs: number): void {
    const now = this.o.clock.now();
    this.lastError = { ...error, timeMs: now };
    this.failingSinceMs ??= now;
    this.nextAttemptMs = now + backoffMs;
    const key = `${error.kind} ${error.status ?? ''} ${error.message}`;
    const fresh = this.lastLogged === null || this.lastLogged.key !== key;
    const remind = !fresh && now - this.lastLogged!.timeMs >= this.o.reminderMs;
    const fields = {
      target: this.o.writer.describe,
      status: error.status,
      message: error.message,
      failedAttempts: this.consecutiveFailures,
      retryInMs: backoffMs,
    };
    if (this.quietFailures) {
      this.o.log.debug(fields, 'write failed; the drain stops here');
      return;
    }
    if (!fresh && !remind) {
      this.o.log.debug(fields, 'write failed again');
      return;
    }
    this.lastLogged = { key, timeMs: now };
    const pending = this.pendingRows();
    const keeping = `keeping ${pending ?? 'the'} points, next try in ${Math.round(backoffMs / 1000)}s`;
    const what = remind ? `InfluxDB still failing after ${Math.round((now - this.failingSinceMs) / 1000)}s (${problem(error)}): ${keeping}` : `${problem(error)}: ${keeping}`;
    const record = { ...fields, pending };
    if (error.kind === 'retry') this.o.log.warn(record, what);
    else this.o.log.error(record, what);
  }

  /** Rows waiting in the outbox, for a log line (null if the outbox cannot say). */
  private pendingRows(): number | null {
    try {
      return this.o.outbox.stats().rows;
    } catch {
      return null;
    }
  }
}

/** The problem in words, one line, for the state-change log. */
function problem(error: Omit<LastError, 'timeMs'>): string {
  const message = oneLine(error.message);
  if (error.kind === 'internal') return `the outbox on disk failed, not the write to InfluxDB (${message})`;
  // Fatal without an HTTP answer: the connection itself cannot work as configured (TLS).
  if (error.kind === 'fatal') return error.status === null ? `${message}: fix the configuration` : `InfluxDB refuses our writes (${error.status} ${message}): fix the configuration`;
  if (error.status === null) return `InfluxDB unreachable (${message})`;
  return `InfluxDB answers ${error.status} (${message})`;
}

/** A server's words cut to one short line: logs and metrics never carry whole error bodies. */
export function oneLine(text: string, max = 200): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}
