/**
 * One worker per outbox. `run` (and `demo`) hold an exclusive SQLite lock on `<outbox>.lock`
 * for as long as they live, and write their PID to `<outbox>.pid` for the message a second
 * one gives. Why SQLite's lock rather than a PID file and a liveness check: the kernel drops
 * it the moment the holder dies (SIGKILL, OOM, power cut: nothing stale ever blocks a
 * restart), a recycled PID after a reboot cannot fake a live holder, and two workers starting
 * at the same instant cannot both win. The lock file is never written (it stays an empty
 * database, so no crash can damage it) and never deleted (deleting a lock file someone
 * else is waiting on splits the lock in two).
 *
 * The PID file is only a courtesy for that message, so a full disk does not stop a worker from
 * starting (as NUT's upsd and Telegraf go on when their pidfile cannot be written): its
 * outbox holds a reserve so the backlog can still be delivered, which is what a worker on a
 * full disk is for. The lock itself writes no byte; an old PID file that would name the wrong
 * process is removed instead, and the caller logs the one warning.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, errorMessage } from '../core/errors.js';

export interface WorkerLock {
  readonly path: string;
  /** Set when the PID file could not be written (a full disk): one line naming it, for the log. */
  readonly pidFileProblem?: string;
  release(): void;
}

/** Two workers starting together can each make the other's first try fail; a few more settle it. */
const ATTEMPTS = 5;
const RETRY_MS = 40;

export function workerLockPaths(outboxPath: string): { lock: string; pid: string } {
  return { lock: `${outboxPath}.lock`, pid: `${outboxPath}.pid` };
}

export interface WorkerLockOptions {
  /** Write `<outbox>.pid` (the worker); false for a verb that only keeps workers out while it works (buffer recover). */
  pidFile?: boolean;
  /** The refusal when a worker holds the lock (its PID when known); default: the second worker's message. */
  refusal?: (pid: number | null) => string;
}

/** Take the outbox's worker lock, or throw a ConfigError (exit 2) naming the running worker's PID. */
export function acquireWorkerLock(outboxPath: string, options: WorkerLockOptions = {}): WorkerLock {
  const paths = workerLockPaths(outboxPath);
  mkdirSync(dirname(paths.lock), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    // timeout 0: SQLite's busy handler would wait seconds for a lock a live worker never gives up.
    const db = new Database(paths.lock, { timeout: 0 });
    try {
      // An open EXCLUSIVE transaction holds the lock without writing a byte; no journal, so no
      // -journal file beside it either.
      db.pragma('journal_mode = MEMORY');
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      if (attempt < ATTEMPTS) {
        sleepSync(RETRY_MS * attempt);
        continue;
      }
      const pid = holderPid(paths.pid);
      throw new ConfigError(
        options.refusal?.(pid) ?? `${outboxPath}: another wattline worker${pid ? ` (PID ${pid})` : ''} is running on this outbox; one worker per outbox: stop it first, or give this one its own outbox.path`,
      );
    }
    const pidFileProblem = options.pidFile === false ? undefined : writePidFile(paths.pid);
    return {
      path: paths.lock,
      ...(pidFileProblem ? { pidFileProblem } : {}),
      release() {
        if (!db.open) return;
        // Remove the PID file only while it is still ours, and before the lock goes.
        if (holderPid(paths.pid) === process.pid) rmSync(paths.pid, { force: true });
        db.close();
      },
    };
  }
}

/** Write our PID through a temporary file and a rename; on failure leave neither file behind and say why. */
function writePidFile(path: string): string | undefined {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${process.pid}\n`);
    renameSync(tmp, path);
    return undefined;
  } catch (err) {
    rmSync(tmp, { force: true });
    // A previous worker's PID there would name the wrong process to a second one.
    rmSync(path, { force: true });
    return `${path}: cannot write the worker's PID file (${errorMessage(err)}); running without it (the outbox lock still keeps a second worker out)`;
  }
}

function holderPid(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
