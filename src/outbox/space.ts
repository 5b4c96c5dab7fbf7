/**
 * The outbox's filesystem: how much room is left, the margin below which new points
 * are refused (`outbox.minFreeBytes`), and a reserve file the outbox gives back when the disk
 * is full, so the deletes that acknowledge delivered rows can always be written.
 *
 * Why a reserve: SQLite writes a delete into the WAL first, so on a full disk it cannot even
 * remove rows, and every delivered batch would be sent again and again. The reserve is plain
 * bytes beside the outbox (`outbox.sqlite.reserve`), made while there is room and deleted the
 * moment an acknowledgement fails for lack of space.
 */
import { closeSync, existsSync, openSync, renameSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';

/** Default margin: this share of the filesystem... */
const MIN_FREE_SHARE = 0.05;
/** ...but never more than this (a 64 GB card keeps 1 GiB, not 3.2 GB). */
const MIN_FREE_CAP = 1024 * 1024 * 1024;
/** The reserve: this share of the filesystem, within the bounds below. */
const RESERVE_SHARE = 0.01;
const RESERVE_MIN = 256 * 1024;
/** Room for acknowledgements in steps (and the counters, a checkpoint) once the disk is full. */
const RESERVE_MAX = 4 * 1024 * 1024;
const ZEROS = Buffer.alloc(64 * 1024);
/**
 * A reading at least this far above the margin is trusted for TRUST_MS: a worker polling
 * each second asked statfs before every commit, ~0.02 ms of a poll's CPU (issue 24), for a
 * figure that moves by kilobytes. Near the margin (or on a small filesystem) every append
 * asks again, and a disk that fills anyway fails the commit, which refuses as before.
 */
const TRUST_HEADROOM = 64 * 1024 * 1024;
const TRUST_MS = 5000;

export interface FsSize {
  /** Bytes an unprivileged writer may still use. */
  free: number;
  /** Size of the filesystem. */
  total: number;
}

export function fsSize(path: string): FsSize {
  const s = statfsSync(path);
  return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
}

/** `outbox.minFreeBytes` when the config leaves it out: 5% of the filesystem, at most 1 GiB. */
export function defaultMinFreeBytes(totalBytes: number): number {
  return Math.min(MIN_FREE_CAP, Math.floor(totalBytes * MIN_FREE_SHARE));
}

export function defaultReserveBytes(totalBytes: number): number {
  return Math.min(RESERVE_MAX, Math.max(RESERVE_MIN, Math.floor(totalBytes * RESERVE_SHARE)));
}

/** `wal_autocheckpoint` pages and `journal_size_limit` bytes for a filesystem of this size: the WAL never takes more than a small share of it. */
export function walBounds(totalBytes: number, pageSize: number, limitBytes: number): { autocheckpointPages: number; journalSizeLimit: number } {
  const share = Math.floor(totalBytes / 32);
  return {
    autocheckpointPages: Math.max(16, Math.min(1000, Math.floor(share / pageSize))),
    journalSizeLimit: Math.max(64 * 1024, Math.min(limitBytes, share)),
  };
}

/**
 * Before an outbox is opened: SQLite needs room for its -shm and -wal files even to read it, so
 * on a disk with less room than the reserve holds the reserve is given back first (it is made
 * again once space returns). Without this a worker could not start on a full disk, which is
 * exactly when its backlog needs delivering. Returns the bytes released (0: none, or room enough).
 */
export function releaseReserveWhenFull(dbPath: string): number {
  const reservePath = `${dbPath}.reserve`;
  let size: number;
  try {
    size = statSync(reservePath).size;
  } catch {
    return 0;
  }
  if (fsSize(dirname(dbPath)).free >= size) return 0;
  rmSync(reservePath, { force: true });
  return size;
}

/** Space bookkeeping for one outbox file. */
export class OutboxSpace {
  readonly dir: string;
  readonly reservePath: string;
  /** The margin; a config reload may change it (setMinFreeBytes). */
  minFreeBytes: number;
  readonly reserveBytes: number;
  readonly totalBytes: number;

  constructor(dbPath: string, minFreeBytes: number | undefined, reserveBytes?: number) {
    this.dir = dirname(dbPath);
    this.reservePath = `${dbPath}.reserve`;
    this.totalBytes = fsSize(this.dir).total;
    this.minFreeBytes = minFreeBytes ?? defaultMinFreeBytes(this.totalBytes);
    this.reserveBytes = reserveBytes ?? defaultReserveBytes(this.totalBytes);
  }

  /** The last reading appendable() may reuse, and until when (performance.now(), ms). */
  private trusted = { free: 0, untilMs: -Infinity };

  /** A new margin (a config reload); undefined: the default share of this filesystem. */
  setMinFreeBytes(minFreeBytes: number | undefined): void {
    this.minFreeBytes = minFreeBytes ?? defaultMinFreeBytes(this.totalBytes);
    this.distrust();
  }

  freeBytes(): number {
    return fsSize(this.dir).free;
  }

  /** Free bytes as an append needs them: a recent reading far above the margin, else asked now. */
  appendable(): number {
    const now = performance.now();
    if (now < this.trusted.untilMs) return this.trusted.free;
    const free = this.freeBytes();
    this.trusted = { free, untilMs: free >= this.minFreeBytes + TRUST_HEADROOM ? now + TRUST_MS : -Infinity };
    return free;
  }

  /** The next append asks the filesystem again (it was found full). */
  distrust(): void {
    this.trusted.untilMs = -Infinity;
  }

  hasReserve(): boolean {
    return existsSync(this.reservePath);
  }

  /**
   * Make the reserve if it is missing and the disk has room for it beyond the margin.
   * Returns whether a reserve is held afterwards. A failure to write it is not an error:
   * the outbox works without one, it tries again later.
   */
  ensureReserve(): boolean {
    if (this.reserveBytes <= 0) return false;
    if (this.hasReserve()) return true;
    if (this.freeBytes() < this.minFreeBytes + 2 * this.reserveBytes) return false;
    const tmp = `${this.reservePath}.tmp`;
    let fd: number | undefined;
    try {
      // Written out (not a sparse file): the blocks must really be taken now.
      fd = openSync(tmp, 'w', 0o600);
      for (let left = this.reserveBytes; left > 0; left -= ZEROS.length) writeSync(fd, ZEROS, 0, Math.min(left, ZEROS.length));
      // No fsync: the blocks are allocated by the writes; the content does not matter.
      closeSync(fd);
      fd = undefined;
      // A rename: a reserve is either whole or absent, even after a crash.
      renameSync(tmp, this.reservePath);
      return true;
    } catch {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmp, { force: true });
      return false;
    }
  }

  /** Give the reserve's blocks back to the filesystem. Returns the bytes released (0 when there was none). */
  releaseReserve(): number {
    if (!this.hasReserve()) return 0;
    rmSync(this.reservePath, { force: true });
    return this.reserveBytes;
  }
}

/** SQLite's "database or disk is full" (ENOSPC, or a file size limit). */
export function isDiskFull(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_FULL';
}
