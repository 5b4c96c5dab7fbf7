/**
 * Group commit (issues 20, 24): jobs whose points are ready together (the same turn of the
 * event loop, or during the previous commit's fsync; or within `windowMs`) share one outbox
 * transaction, so 32 gateways answering in the same second cost a few fsyncs, not 32 queued
 * on the one event loop.
 *
 * - A job's append() resolves only after the transaction that holds its lines has committed:
 *   the worker acknowledges nothing (echo, MQTT, device status) before that, so a SIGKILL
 *   in the window loses uncommitted points that nobody was told about — the promise a
 *   single synchronous append kept.
 * - Device status rows (record(), after a job ended; the same call as device-status.ts's store) ride in the next group's
 *   transaction: with devices polled each second, the statuses of one tick go with the
 *   points of the next, and a tick costs one transaction. With no points coming they are
 *   written on their own within STATUS_DELAY_MS, without an fsync (outbox.appendGroup): one
 *   timer, re-armed by each commit that carries rows, so a steady poll never wakes it.
 *   They are reports, so they wait on a full disk (one pending row per device, the runs and
 *   failures of the jobs it stands for added up).
 * - An error of the transaction (other than a full disk, which refuses as append does) fails
 *   every job of the group, as it would have failed each append.
 * - Jobs still collecting (`active`, the scheduler's jobs started and not ended, minus those
 *   waiting here) hold the commit, at most HOLD_MS: 32 gateways polled on the same tick
 *   answer over a few ms, and a commit of the first replies — its fsync under `synchronous:
 *   full` blocks the event loop — made every later reply wait for it (issue 20's bench: one
 *   to four such commits a tick). The commit goes when the last of them appended or ended
 *   (record()), or at HOLD_MS. A job alone never waits.
 */
import type { Precision } from '../core/point.js';
import { mergeStatus, statusUpdate, type DeviceStatusUpdate, type JobStatus } from './device-status.js';
import type { GroupAppend, SqliteOutbox } from './sqlite-outbox.js';
import type { Outbox } from './types.js';

/** Any outbox; SQLite's commits a group in one transaction, others one append per job (no status table). */
type GroupOutbox = Outbox & Partial<Pick<SqliteOutbox, 'appendGroup'>>;

/**
 * Default window, ms. 0: the commit runs as soon as the event loop has handled what is ready
 * (setImmediate) — replies that arrived together share it, and replies that arrive during a
 * commit's fsync share the next one; a lone job waits for nothing. A timer window (> 0)
 * gathers more per commit at the cost of that much latency for every job.
 */
export const GROUP_COMMIT_MS = 0;

/** Longest a commit waits for jobs still collecting (see above): a few times the spread of 32 replies to one tick. */
export const HOLD_MS = 10;

/** Longest a status row waits for points to ride with (what `wattline devices` may lag): longer than a 1-2 s polling cadence, so the next poll carries it. */
export const STATUS_DELAY_MS = 3000;

type AppendResult = { dropped: number; refused?: number };

interface Waiting extends GroupAppend {
  resolve: (r: AppendResult) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  private waiting: Waiting[] = [];
  /** Per device, the status not yet written (several jobs' merged: runs and failures add up). */
  private readonly statuses = new Map<string, DeviceStatusUpdate>();
  /** Cancels the armed commit (an immediate, the window's timer or the hold's bound); null: none armed. */
  private armed: (() => void) | null = null;
  /** This group's commit was held for jobs still collecting (once: HOLD_MS bounds the wait). */
  private held = false;
  private statusTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Transactions and jobs committed (for tests and the benchmark). */
  readonly counts = { commits: 0, jobs: 0 };

  /** `hold.active`: jobs started and not yet ended (Scheduler.active); without it no commit is held. */
  constructor(
    private readonly outbox: GroupOutbox,
    private readonly windowMs = GROUP_COMMIT_MS,
    private readonly hold: { active: () => number; maxMs?: number } = { active: () => 0 },
  ) {}

  /** Commit `lines` with whatever else is ready within the window; resolves after the commit. */
  append(lines: readonly string[], precision: Precision): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error('outbox closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ lines, precision, resolve, reject });
      this.arm();
    });
  }

  /** A job ended (after its commit, if it had points): its status goes with the next commit. */
  record(device: string, status: JobStatus): void {
    if (this.closed) return;
    const row = statusUpdate(device, status);
    const waiting = this.statuses.get(device);
    this.statuses.set(device, waiting ? mergeStatus(waiting, row) : row);
    this.statusTimer ??= setTimeout(this.statusDue, STATUS_DELAY_MS);
    // A job that ended without points may have been the last one a held commit waited for.
    if (this.held) this.arm();
  }

  /** Commit everything pending now (stop, reload). */
  flush(): void {
    this.armed?.();
    this.armed = null;
    this.held = false;
    const jobs = this.waiting;
    if (jobs.length === 0 && this.statuses.size === 0) return;
    this.waiting = [];
    const statuses = [...this.statuses.values()];
    let outcome: ReturnType<SqliteOutbox['appendGroup']>;
    try {
      outcome = this.outbox.appendGroup ? this.outbox.appendGroup(jobs, statuses) : { result: jobs.map((j) => this.outbox.append(j.lines, j.precision)), statusesWritten: true };
    } catch (err) {
      for (const j of jobs) j.reject(err);
      return;
    }
    if (outcome.statusesWritten) for (const s of statuses) if (this.statuses.get(s.device) === s) this.statuses.delete(s.device);
    // The statuses went with this commit: the one timer now waits STATUS_DELAY_MS from here
    // (refresh() re-arms it in place, cheaper than a new timer each poll), so with points
    // coming every second it never fires. Rows not written wait a full delay again.
    if (this.statusTimer && statuses.length > 0) this.statusTimer.refresh();
    if (jobs.length > 0) {
      this.counts.commits++;
      this.counts.jobs += jobs.length;
    }
    jobs.forEach((j, i) => j.resolve(outcome.result[i]!));
  }

  /** Commit what is pending and accept nothing more. */
  close(): void {
    this.flush();
    this.closed = true;
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = null;
  }

  /** The status timer fired: no commit carried the rows within STATUS_DELAY_MS, so they go on their own (if any still wait). */
  private readonly statusDue = (): void => {
    this.statusTimer = null;
    if (this.statuses.size > 0) this.flush();
  };

  private arm(): void {
    // Held, and the last job it waited for has appended or ended: commit now.
    if (this.held && this.armed && !this.collecting()) {
      this.armed();
      this.armed = null;
    }
    if (this.armed) return;
    if (this.windowMs > 0) {
      const t = setTimeout(this.due, this.windowMs);
      this.armed = () => clearTimeout(t);
    } else {
      const t = setImmediate(this.due);
      this.armed = () => clearImmediate(t);
    }
  }

  /** Jobs started that have neither appended (they wait here) nor ended. */
  private collecting(): boolean {
    return this.hold.active() > this.waiting.length;
  }

  private readonly due = (): void => {
    this.armed = null;
    if (!this.held && this.waiting.length > 0 && this.collecting()) {
      this.held = true;
      const t = setTimeout(this.due, this.hold.maxMs ?? HOLD_MS);
      this.armed = () => clearTimeout(t);
      return;
    }
    this.flush();
  };
}
