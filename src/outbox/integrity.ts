/**
 * The outbox file checked before anything is written to it: not a folder or a
 * device, an SQLite file (not garbage, not cut short), not another program's database, and
 * sound as far as `PRAGMA quick_check` can tell. Before this, a damaged file let the worker
 * start and lose every new point at warn level, and a foreign SQLite file was switched to WAL
 * (changed) before it was refused.
 *
 * Every refusal is a ConfigError (exit 2) with one line naming the file and the way out.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { fsSize } from './space.js';

const HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const HEADER_BYTES = 100;

/**
 * Above this size the full `quick_check` (which reads every page: README, outbox integrity)
 * gives way to a check of the header, the size, the schema and both ends of the queue.
 */
export const QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024;

/** Tables every outbox has (migrations/outbox). */
const OUTBOX_TABLES = ['outbox', 'outbox_counters', 'dead_letters'];

export type FileProblem = { kind: 'not-a-file' | 'not-sqlite' | 'truncated' | 'foreign' | 'damaged' | 'no-space'; detail: string };

/** Below this many free bytes a failed open is the disk's fault, not the file's (SQLite's -shm alone takes 32 KiB). */
const FULL_DISK_BYTES = 64 * 1024;

/**
 * Throws a ConfigError when the outbox file at `path` must not be opened. A missing or empty
 * file is fine (it becomes a new outbox). Reads only; the file is not changed.
 */
export function checkOutboxFile(path: string, options: { quickCheckMaxBytes?: number } = {}): void {
  const problem = outboxFileProblem(path, options);
  if (!problem) return;
  // Not the config's fault and not the file's: exit 1 (systemd's Restart= tries again), no "recover" advice.
  if (problem.kind === 'no-space') throw new Error(`${path}: ${problem.detail}`);
  const way = problem.kind === 'not-a-file' ? 'point outbox.path at a file' : problem.kind === 'foreign' ? 'point outbox.path at another file' : "'wattline buffer recover' saves every readable row into a fresh outbox";
  throw new ConfigError(`${path}: ${problem.detail}; refusing to use it as the outbox (${way})`);
}

/** What is wrong with the outbox file at `path`, or null when it may be opened. */
export function outboxFileProblem(path: string, options: { quickCheckMaxBytes?: number } = {}): FileProblem | null {
  if (path === ':memory:') return null;
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) return { kind: 'not-a-file', detail: 'is a folder, not a file' };
    if (!st.isFile()) return { kind: 'not-a-file', detail: 'is not a regular file (a device, pipe or socket)' };
    size = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') return { kind: 'not-a-file', detail: 'a part of the path is a file, not a folder' };
    return { kind: 'not-a-file', detail: `cannot be read (${code ?? (err as Error).message})` };
  }
  if (size === 0) return null;

  const header = readHeader(path);
  if (header.length < HEADER_BYTES || !header.subarray(0, HEADER.length).equals(HEADER)) {
    return header.length >= HEADER.length && header.subarray(0, HEADER.length).equals(HEADER)
      ? { kind: 'truncated', detail: `is cut short (${size} bytes, less than an SQLite header)` }
      : { kind: 'not-sqlite', detail: 'is not an SQLite file (damaged, or another kind of file)' };
  }
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return { kind: 'damaged', detail: `has a damaged header (page size ${rawPageSize})` };
  // The page count in the header is valid when its "valid-for" number matches the change counter.
  const pages = header.readUInt32BE(28);
  // Not while a WAL holds pages: a checkpoint that failed on a full disk has already written the
  // header's new page count without growing the file, and SQLite reads those pages from the WAL
  // (the chaos run found a worker refusing its own outbox for good after that; quick_check below
  // still reads every page).
  if (walBytes(path) === 0 && header.readUInt32BE(92) === header.readUInt32BE(24) && pages > 0 && size < pages * pageSize) {
    return { kind: 'truncated', detail: `is cut short (${size} bytes; its header says ${pages * pageSize})` };
  }
  if (size % pageSize !== 0) return { kind: 'truncated', detail: `is cut short (${size} bytes is not a whole number of ${pageSize}-byte pages)` };

  // Read-only: nothing is written to the file, not even the checkpoint a last read-write connection makes on close.
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const tables = new Set((db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[]).filter((n) => !n.startsWith('sqlite_')));
    if (tables.size > 0 && !OUTBOX_TABLES.every((t) => tables.has(t))) {
      return { kind: 'foreign', detail: `is another program's SQLite database (tables: ${[...tables].slice(0, 5).join(', ')}${tables.size > 5 ? ', …' : ''})` };
    }
    if (tables.size === 0) return null;
    if (size <= (options.quickCheckMaxBytes ?? QUICK_CHECK_MAX_BYTES)) {
      const result = db.pragma('quick_check(3)', { simple: false }) as { quick_check: string }[];
      const messages = result.map((r) => r.quick_check);
      if (messages.length !== 1 || messages[0] !== 'ok') return { kind: 'damaged', detail: `is damaged (quick_check: ${messages.join('; ').slice(0, 200)})` };
    } else {
      // Large file: the pages an open touches first (the schema, the counters, both ends of the queue).
      db.prepare('SELECT rows FROM outbox_counters').all();
      db.prepare('SELECT id, line FROM outbox ORDER BY id LIMIT 1').all();
      db.prepare('SELECT id, line FROM outbox ORDER BY id DESC LIMIT 1').all();
    }
    return null;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB') return { kind: 'not-sqlite', detail: 'is not an SQLite file (damaged, or another kind of file)' };
    // Reading a WAL-mode file needs room for its -shm and -wal files: on a full disk that fails, the file is fine.
    if (typeof code === 'string' && /^SQLITE_(IOERR|FULL|CANTOPEN)/.test(code) && fsSize(dirname(path)).free < FULL_DISK_BYTES) {
      return { kind: 'no-space', detail: `cannot be opened: its disk is full (${(err as Error).message}); free some space on it` };
    }
    return { kind: 'damaged', detail: `is damaged (${(err as Error).message})` };
  } finally {
    db?.close();
  }
}

function readHeader(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const n = readSync(fd, buf, 0, HEADER_BYTES, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The size of the outbox's write-ahead log (0 when there is none). */
function walBytes(path: string): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}
