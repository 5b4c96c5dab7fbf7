/**
 * How each device's jobs went: the latest successful report (for `test`, `once` and the
 * points count), the watch a person follows in the log (first failure, reminders, recovery)
 * and the status row beside the outbox (`wattline devices`). The status is recorded when the
 * scheduler ends the job, not inside collect(): a timeout or a port that never came free is
 * a failed job too, only the scheduler sees those, and a collect() that finishes after its
 * timeout must not turn that job into a success (docs/architecture.md, "Where a job's outcome
 * is recorded").
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { DeviceWatch } from '../observe/index.js';
import type { DeviceStatusStore } from '../outbox/device-status.js';
import type { JobResult, Scheduler } from '../scheduler/index.js';
import { failedReport, type JobReport } from './types.js';

export class JobLedger {
  /** The latest successful collection per device. */
  private readonly last = new Map<string, JobReport>();
  /** Debug 'collected' lines not yet written (see follow()). */
  private debugLines: object[] = [];
  /**
   * The log without pino's redaction, for those lines only: their fields are the device's name
   * and three numbers, and redaction (its eight paths parsed on every call) was ~20 of a line's
   * ~27 µs, paid per job each second by a worker at debug.
   */
  private readonly plainLog: Logger;

  constructor(
    readonly watch: DeviceWatch,
    /** The status table: the outbox's group commit in a worker (rows ride with the next points). */
    private readonly status: Pick<DeviceStatusStore, 'record' | 'close'> | null,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.plainLog = log.child({}, { redact: [] });
  }

  /** Follow the scheduler's job ends and skipped runs. */
  follow(scheduler: Scheduler): void {
    scheduler.on('jobSkipped', (s) => this.watch.skipped(s.name));
    scheduler.on('jobEnd', (r) => {
      const points = r.ok ? (this.last.get(r.name)?.lines.length ?? 0) : 0;
      // The line's object is built only when debug is on (once a second per device otherwise for nothing).
      // ms: holding the port to committed; waitMs: tick to holding the port (µs resolution, for the benches).
      // Written once the jobs ending in this turn have ended: 32 jobs of a tick end together, and
      // the last one's time must not hold the 31 lines before it.
      if (r.ok && this.log.isLevelEnabled('debug')) {
        if (this.debugLines.length === 0) setImmediate(() => this.writeDebugLines());
        this.debugLines.push({ device: r.name, points, ms: round3(r.durationMs), waitMs: round3(r.waitMs) });
      }
      const now = this.clock.now();
      this.watch.ended(r, points, now);
      this.status?.record(r.name, { ok: r.ok, endMs: now, durationMs: r.durationMs, points, error: r.error });
    });
  }

  collected(report: JobReport): void {
    this.last.set(report.device, report);
  }

  /** The reports of jobs the scheduler ran just now (once, test, a manual run): each its collection, or its failure. */
  reports(results: readonly JobResult[]): JobReport[] {
    return results.map((r) => (r.ok && this.last.get(r.name)) || failedReport(r.name, r.error ?? 'no result'));
  }

  private writeDebugLines(): void {
    const lines = this.debugLines;
    this.debugLines = [];
    for (const line of lines) this.plainLog.debug(line, 'collected');
  }

  forget(device?: string): void {
    if (device === undefined) this.last.clear();
    else this.last.delete(device);
  }

  close(): void {
    this.writeDebugLines();
    this.status?.close();
  }
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;
