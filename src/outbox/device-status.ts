import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { checkOutboxFile } from './integrity.js';
import { applyMigrations, migrationsDir } from '../sqlite/migrate.js';
import { isDiskFull } from './space.js';

/** How a device's collections have gone, kept beside the outbox so `wattline devices` can tell from another process. */
export interface DeviceStatus {
  device: string;
  ok: boolean;
  lastEndMs: number;
  durationMs: number;
  points: number;
  error: string | null;
  runs: number;
  failures: number;
  lastOkMs: number | null;
}

/** How one job ended, as the worker reports it. */
export interface JobStatus {
  ok: boolean;
  endMs: number;
  durationMs: number;
  points: number;
  error?: string | undefined;
}

/** The named parameters of DEVICE_STATUS_UPSERT. */
export interface DeviceStatusUpdate {
  device: string;
  ok: 0 | 1;
  endMs: number;
  durationMs: number;
  points: number;
  error: string | null;
  /** Jobs this row stands for (more than 1 when rows of one device were merged while waiting). */
  runs: number;
  failed: number;
  okMs: number | null;
}

/** One row per device; runs and failures count up (also written in the outbox's group commits). */
export const DEVICE_STATUS_UPSERT = `
    INSERT INTO device_status (device, ok, last_end_ms, duration_ms, points, error, runs, failures, last_ok_ms)
    VALUES (@device, @ok, @endMs, @durationMs, @points, @error, @runs, @failed, @okMs)
    ON CONFLICT (device) DO UPDATE SET
      ok = excluded.ok, last_end_ms = excluded.last_end_ms, duration_ms = excluded.duration_ms,
      points = excluded.points, error = excluded.error, runs = runs + excluded.runs,
      failures = failures + excluded.failures, last_ok_ms = COALESCE(excluded.last_ok_ms, last_ok_ms)`;

export function statusUpdate(device: string, r: JobStatus): DeviceStatusUpdate {
  return { device, ok: r.ok ? 1 : 0, endMs: r.endMs, durationMs: Math.round(r.durationMs), points: r.points, error: r.error ?? null, runs: 1, failed: r.ok ? 0 : 1, okMs: r.ok ? r.endMs : null };
}

/** `later` on top of a row of the same device not yet written: the latest state, the counts of both. */
export function mergeStatus(earlier: DeviceStatusUpdate, later: DeviceStatusUpdate): DeviceStatusUpdate {
  return { ...later, runs: earlier.runs + later.runs, failed: earlier.failed + later.failed, okMs: later.okMs ?? earlier.okMs };
}

export interface DeviceStatusStore {
  record(device: string, result: JobStatus): void;
  get(device: string): DeviceStatus | undefined;
  close(): void;
}

/**
 * Open the status table in the outbox file. A file that does not exist yet (never run)
 * gives an empty, read-only view instead of creating it.
 */
export function openDeviceStatus(path: string): DeviceStatusStore {
  if (!existsSync(path)) return { record: () => undefined, get: () => undefined, close: () => undefined };
  // `wattline devices` on a damaged file: one line naming it (the light check: the worker's
  // outbox has just had the full one).
  checkOutboxFile(path, { quickCheckMaxBytes: 0 });
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  // A status row is a report, not a reading: its commit need not fsync. NORMAL is what
  // better-sqlite3's build gives a WAL file anyway (SQLITE_DEFAULT_WAL_SYNCHRONOUS=1); said
  // here so a rebuilt SQLite cannot add an fsync per job. A power cut may lose the last
  // status updates, never a point: the outbox's own commits still sync the WAL up to theirs.
  db.pragma('synchronous = NORMAL');
  applyMigrations(db, migrationsDir('outbox'));
  const upsert = db.prepare(DEVICE_STATUS_UPSERT);
  const select = db.prepare('SELECT * FROM device_status WHERE device = ?');
  return {
    record(device, r) {
      // On a full disk the status waits for the next job: it is a report, not data.
      try {
        upsert.run(statusUpdate(device, r));
      } catch (err) {
        if (!isDiskFull(err)) throw err;
      }
    },
    get(device) {
      const row = select.get(device) as Record<string, number | string | null> | undefined;
      if (!row) return undefined;
      return {
        device,
        ok: row.ok === 1,
        lastEndMs: Number(row.last_end_ms),
        durationMs: Number(row.duration_ms),
        points: Number(row.points),
        error: (row.error as string | null) ?? null,
        runs: Number(row.runs),
        failures: Number(row.failures),
        lastOkMs: row.last_ok_ms === null ? null : Number(row.last_ok_ms),
      };
    },
    close: () => db.close(),
  };
}
