import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError, WattlineError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Precision } from '../core/point.js';
import { checkLimits, checkPeekArgs, checkPrecision, DEFAULT_DEAD_LETTER_LIST, listLimit, takeBatch, type StoredRow } from './batch.js';
import { checkOutboxFile } from './integrity.js';
import { applyMigrations, migrationsDir } from '../sqlite/migrate.js';
import { isDiskFull, OutboxSpace, releaseReserveWhenFull, walBounds } from './space.js';
import { DEVICE_STATUS_UPSERT, type DeviceStatusUpdate } from './device-status.js';
import type { DeadLetter, Outbox, OutboxBatch, OutboxLimits, OutboxSpaceStatus, OutboxStats } from './types.js';

export interface SqliteOutboxOptions {
  /**
   * 'full' (default): a commit survives power loss, which is what a Pi beside the fuse
   * box needs. 'normal' in WAL survives a process crash but may lose the last commits on
   * power loss; it saves one fsync per commit.
   */
  synchronous?: 'full' | 'normal';
  /** How long to wait for another process's write lock (the CLI beside `run`). */
  busyTimeoutMs?: number;
  /** Clock for committed/dead-letter times (tests). */
  now?: () => number;
  /** Below this many free bytes new points are refused (counted); default: 5% of the filesystem, at most 1 GiB. */
  minFreeBytes?: number;
  /** Size of the reserve file given back when the disk is full (default: 1% of the filesystem, 256 KiB to 4 MiB; 0: none). */
  reserveBytes?: number;
  /** Where the outbox logs its changes of state (space low / back, reserve released). */
  log?: Logger;
  /** Above this file size the start check is lighter than a full quick_check (integrity.ts). */
  quickCheckMaxBytes?: number;
}

/**
 * InfluxDB accepted these rows, but deleting them from the outbox failed: they stay pending
 * and are sent again (harmless: a point sent twice overwrites itself). Names the file, so the
 * log does not blame the write to InfluxDB.
 */
export class OutboxAckError extends WattlineError {
  override name = 'OutboxAckError';
  constructor(path: string, rows: number, cause: unknown) {
    super(`${path}: InfluxDB accepted ${rows} points, but acknowledging them on disk failed (${(cause as Error).message ?? String(cause)}); they stay pending and will be sent again`, 'outbox.ack', { cause });
  }
}

interface Counters {
  rows: number;
  bytes: number;
  dropped: number;
  dead_letters: number;
  refused: number;
}

interface DeadLetterRow {
  id: number;
  line: string;
  precision: Precision;
  status: number;
  message: string;
  time_ms: number;
}

/** The WAL file is truncated back to this after a burst, so a Pi's SD card is not left holding it. */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

/**
 * SQLite's page cache for the outbox, KiB (negative = KiB in the pragma): SQLite's own default.
 * better-sqlite3 builds with 16000 KiB, and a worker whose InfluxDB is away fills that as the
 * outbox grows: ~0.5 MB of RSS a minute for half an hour with every simulated device (soak,
 * issue 24). Appends touch the right edge of the table and delivery its left edge: a few pages.
 */
export const OUTBOX_CACHE_SIZE = -2000;

/** Rows per step when acknowledging on a full disk (a few pages of WAL each). */
const FULL_DISK_ACK_ROWS = 256;

/** More runs of consecutive ids than this and ack deletes by id list instead. */
const MAX_RANGE_DELETES = 8;

/** Rows read per statement by peek (~1.5 MB of typical lines). */
const PEEK_CHUNK = 10_000;

// Id lists travel as one JSON array bound to json_each: one statement per call, however many ids.
const IN_IDS = 'id IN (SELECT value FROM json_each(?))';

/**
 * The outbox in one SQLite file (README "How a point travels", Outbox). Several processes may open the same
 * file: WAL lets readers run beside the writer, every write is an IMMEDIATE transaction
 * that waits up to busy_timeout for the lock, and counters are always read from the file
 * (never cached), so each connection sees the others' changes.
 */
/** One job's lines in a group commit. */
export interface GroupAppend {
  lines: readonly string[];
  precision: Precision;
}

export class SqliteOutbox implements Outbox {
  readonly path: string;
  private readonly db: Database.Database;
  private limits: OutboxLimits;
  private readonly now: () => number;
  private readonly sql: Statements;
  // Transaction wrappers made once: db.transaction() builds new functions on every call.
  private readonly tx;
  /** Ids of the rows the last insertLines made (for appendWithCheckpoint). */
  private lastIds: [number, number] | null = null;
  /** Free-space bookkeeping (none for `:memory:`). */
  private readonly space: OutboxSpace | null;
  private readonly log: Logger | undefined;
  private readonly pageSize: number;
  /** synchronous = FULL (the default): status-only commits switch it off for their own commit. */
  private readonly syncFull: boolean;
  /** Refusing new points: the disk is below minFreeBytes (or was found full). */
  private refusing = false;
  /** Refused points not yet added to the file's counter (the disk was too full to write it). */
  private refusedPending = 0;
  /** Refused since the disk went low (for the "space is back" line). */
  private refusedEpisode = 0;
  /** The reserve file is missing (released, or there was no room to make it). */
  private reserveMissing = false;

  constructor(path: string, limits: OutboxLimits, opts: SqliteOutboxOptions = {}) {
    checkLimits(limits);
    this.path = path;
    this.limits = { maxRows: limits.maxRows, maxBytes: limits.maxBytes };
    this.now = opts.now ?? Date.now;
    this.log = opts.log;
    this.syncFull = opts.synchronous !== 'normal';
    // A full disk: the reserve makes room to open (and deliver) before anything else reads the file.
    const released = path === ':memory:' ? 0 : releaseReserveWhenFull(path);
    // Refuse a folder, a device, garbage, a cut-short, damaged or foreign file before writing anything.
    checkOutboxFile(path, opts);
    if (path !== ':memory:') makeFolder(dirname(path), path);
    this.space = path === ':memory:' ? null : new OutboxSpace(path, opts.minFreeBytes, opts.reserveBytes);
    const db = new Database(path);
    try {
      db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.pragma(`cache_size = ${OUTBOX_CACHE_SIZE}`);
      this.pageSize = db.pragma('page_size', { simple: true }) as number;
      // On a small filesystem the WAL is checkpointed (and truncated) long before it could fill it.
      const wal = walBounds(this.space?.totalBytes ?? Infinity, this.pageSize, JOURNAL_SIZE_LIMIT);
      db.pragma(`journal_size_limit = ${wal.journalSizeLimit}`);
      db.pragma(`wal_autocheckpoint = ${wal.autocheckpointPages}`);
      applyMigrations(db, migrationsDir('outbox'));
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    this.reserveMissing = this.space ? !this.space.ensureReserve() : false;
    if (released > 0) this.log?.warn({ outbox: path, reserveBytes: released }, 'outbox: disk full at start: released the reserve to open the outbox (made again when space returns)');
    this.sql = prepareStatements(db);
    // Writes are IMMEDIATE: they take the write lock up front and wait busy_timeout for it,
    // where a read-then-write transaction would fail at once with SQLITE_BUSY.
    // Reads are DEFERRED: a snapshot that another process's commit cannot tear.
    this.tx = {
      append: db.transaction((lines: readonly string[], precision: Precision) => this.insertLines(lines, precision)).immediate,
      remove: db.transaction((ids: readonly number[]) => this.removeRows(ids)).immediate,
      deadLetter: db.transaction((ids: readonly number[], status: number, message: string) => this.moveToDeadLetters(ids, status, message)).immediate,
      retry: db.transaction((ids?: readonly number[]) => this.retry(ids)).immediate,
      purge: db.transaction((ids?: readonly number[]) => this.purge(ids)).immediate,
      peek: db.transaction((maxRows: number, maxBytes: number, afterId: number) => this.readBatch(maxRows, maxBytes, afterId)).deferred,
      stats: db.transaction(() => this.readStats()).deferred,
      group: db.transaction((appends: readonly GroupAppend[], statuses: readonly DeviceStatusUpdate[]) => {
        const dropped = appends.map((a) => (a.lines.length > 0 ? this.insertLines(a.lines, a.precision) : 0));
        for (const s of statuses) this.sql.upsertStatus.run(s);
        return dropped;
      }).immediate,
      appendMarked: db.transaction((lines: readonly string[], precision: Precision, job: string, position: number) => {
        this.lastIds = null;
        const dropped = lines.length > 0 ? this.insertLines(lines, precision) : 0;
        this.sql.setCheckpoint.run(job, position, this.now());
        return { dropped, ids: this.lastIds as [number, number] | null };
      }).immediate,
    };
  }

  /**
   * Backfill (docs/capture.md): commit lines together with the run's checkpoint, in one transaction,
   * so an interrupted run resumes exactly after the last input whose points are committed.
   */
  appendWithCheckpoint(lines: readonly string[], precision: Precision, job: string, position: number): { dropped: number; ids: [first: number, last: number] | null } {
    checkPrecision(precision);
    // A backfill stops here (and resumes from its checkpoint later) rather than lose points.
    if (lines.length > 0 && !this.roomFor())
      throw new WattlineError(`${this.path}: disk space low (${this.spaceStatus()!.freeBytes} bytes free, outbox.minFreeBytes ${this.space!.minFreeBytes}): backfill paused`, 'outbox.full');
    return this.tx.appendMarked(lines, precision, job, position);
  }

  /** The committed position of an interrupted backfill run, or null. */
  checkpoint(job: string): number | null {
    return (this.sql.getCheckpoint.get(job) as number | undefined) ?? null;
  }

  /** A finished run forgets its checkpoint: running it again starts from the beginning. */
  clearCheckpoint(job: string): void {
    this.sql.clearCheckpoint.run(job);
  }

  append(lines: readonly string[], precision: Precision): { dropped: number; refused?: number } {
    checkPrecision(precision);
    if (lines.length === 0) return { dropped: 0 };
    if (!this.roomFor()) return this.refuse(lines.length);
    try {
      return { dropped: this.tx.append(lines, precision) };
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      return this.refuse(lines.length);
    }
  }

  /**
   * Group commit (group-commit.ts): the lines of several jobs, each inserted as its own append
   * would be (drop-oldest counted per job), and the device status rows of jobs already
   * committed, in ONE transaction: one fsync for all of them. The results follow `appends`.
   * On a full disk every append is refused and the statuses wait (they are reports, not data).
   */
  appendGroup(appends: readonly GroupAppend[], statuses: readonly DeviceStatusUpdate[]): { result: { dropped: number; refused?: number }[]; statusesWritten: boolean } {
    for (const a of appends) checkPrecision(a.precision);
    const lines = appends.reduce((n, a) => n + a.lines.length, 0);
    if (lines > 0 && !this.roomFor()) return { result: appends.map((a) => (a.lines.length > 0 ? this.refuse(a.lines.length) : { dropped: 0 })), statusesWritten: false };
    if (lines === 0) return { result: appends.map(() => ({ dropped: 0 })), statusesWritten: this.writeStatuses(statuses) };
    try {
      return { result: this.tx.group(appends, statuses).map((dropped) => ({ dropped })), statusesWritten: statuses.length > 0 };
    } catch (err) {
      if (!isDiskFull(err)) throw err;
    }
    // Full: the points must not wait on a status row that no longer fits; try them alone.
    try {
      return { result: this.tx.group(appends, []).map((dropped) => ({ dropped })), statusesWritten: false };
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      return { result: appends.map((a) => (a.lines.length > 0 ? this.refuse(a.lines.length) : { dropped: 0 })), statusesWritten: false };
    }
  }

  /**
   * Status rows with no points to ride with (failed jobs): committed without an fsync, as the
   * separate status connection did before — a power cut may lose a status, never a point; the
   * next synced commit syncs the WAL up to them.
   */
  private writeStatuses(statuses: readonly DeviceStatusUpdate[]): boolean {
    if (statuses.length === 0) return false;
    if (!this.syncFull) return this.tryStatuses(statuses);
    // Not prepared once: SQLite applies `PRAGMA synchronous = …` when the statement is
    // prepared, not when it runs, so two prepared at open left every connection at FULL
    // (`synchronous: normal` fsynced each commit) and running them later changed nothing.
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.tryStatuses(statuses);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  private tryStatuses(statuses: readonly DeviceStatusUpdate[]): boolean {
    try {
      this.tx.group([], statuses);
      return true;
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      return false;
    }
  }

  /** New limits (a config reload); they apply from the next append on, which logs a change of refusing state once. */
  setLimits(limits: OutboxLimits & { minFreeBytes?: number | undefined }): void {
    checkLimits(limits);
    this.limits = { maxRows: limits.maxRows, maxBytes: limits.maxBytes };
    if ('minFreeBytes' in limits) this.space?.setMinFreeBytes(limits.minFreeBytes);
  }

  peek(maxRows: number, maxBytes: number, afterId = 0): OutboxBatch | null {
    checkPeekArgs(maxRows, maxBytes, afterId);
    return this.tx.peek(maxRows, maxBytes, afterId);
  }

  ack(ids: readonly number[]): void {
    if (ids.length > 0) this.settleRows(ids, (some) => this.tx.remove(some));
  }

  deadLetter(ids: readonly number[], status: number, message: string): number[] {
    const deadIds: number[] = [];
    if (ids.length > 0) this.settleRows(ids, (some) => void deadIds.push(...this.tx.deadLetter(some, status, message)));
    return deadIds;
  }

  stats(): OutboxStats {
    const stats = this.tx.stats();
    if (this.refusedPending > 0) stats.refused = (stats.refused ?? 0) + this.refusedPending;
    return stats;
  }

  /** The filesystem as the outbox sees it (null for `:memory:`). */
  spaceStatus(): OutboxSpaceStatus | null {
    if (!this.space) return null;
    const fileFree = this.freePages() * this.pageSize;
    return {
      freeBytes: this.space.freeBytes() + fileFree,
      minFreeBytes: this.space.minFreeBytes,
      refusing: this.refusing || this.space.freeBytes() + fileFree < this.space.minFreeBytes,
      reserveBytes: this.space.hasReserve() ? this.space.reserveBytes : 0,
    };
  }

  listDeadLetters(limit: number = DEFAULT_DEAD_LETTER_LIST): DeadLetter[] {
    const rows = this.sql.listDeadLetters.all(listLimit(limit)) as DeadLetterRow[];
    return rows.map((r) => ({ id: r.id, line: r.line, precision: r.precision, status: r.status, message: r.message, timeMs: r.time_ms }));
  }

  /**
   * Dead letters go back to the END of the queue with new ids (in their dead-letter
   * order), not to their old place: ids are never reused, and the rows now in front of
   * them are older. Re-sending is safe because every line carries its own timestamp.
   * The outbox limits apply to them as to any append.
   */
  retryDeadLetters(ids?: readonly number[]): number {
    return this.tx.retry(ids);
  }

  purgeDeadLetters(ids?: readonly number[]): number {
    return this.tx.purge(ids);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private insertLines(lines: readonly string[], precision: Precision): number {
    const inserted = this.sql.insertLines.run(precision, this.now(), JSON.stringify(lines));
    // AUTOINCREMENT: one statement's rows have consecutive ids ending at lastInsertRowid.
    this.lastIds = [Number(inserted.lastInsertRowid) - inserted.changes + 1, Number(inserted.lastInsertRowid)];
    return this.afterInsert(inserted);
  }

  /**
   * The oldest run of one precision with ids above `afterId`. Rows are read in chunks so a
   * huge maxRows with a small maxBytes does not load the whole table; all chunks come from
   * one snapshot.
   */
  private readBatch(maxRows: number, maxBytes: number, afterId: number): OutboxBatch | null {
    const rows: StoredRow[] = [];
    for (;;) {
      const want = Math.min(maxRows - rows.length, PEEK_CHUNK);
      const chunk = this.sql.oldestRows.all(afterId, want) as StoredRow[];
      for (const row of chunk) rows.push(row);
      const batch = takeBatch(rows, maxRows, maxBytes);
      // Done when the table ran out, the batch was cut short, or maxRows is reached.
      if (chunk.length < want || !batch || batch.rows.length < rows.length || rows.length >= maxRows) return batch;
      afterId = chunk[chunk.length - 1]![0];
    }
  }

  private readStats(): OutboxStats {
    const c = this.sql.counters.get() as Counters;
    const oldest = this.sql.oldestCommitted.get() as number | undefined;
    const stats: OutboxStats = { rows: c.rows, bytes: c.bytes, oldestCommittedMs: oldest ?? null, dropped: c.dropped, deadLetters: c.dead_letters };
    if (c.refused > 0) stats.refused = c.refused;
    return stats;
  }

  /** Pages inside the file that new rows reuse before the file grows: room, as far as an append is concerned. */
  private freePages(): number {
    return this.sql.freelistCount.get() as number;
  }

  /**
   * Whether an append may go ahead: the filesystem's free bytes plus the file's own free pages
   * at or above minFreeBytes. Logs each change of state once, and remakes a released reserve
   * once there is room for it again.
   */
  private roomFor(): boolean {
    if (!this.space) return true;
    let free = this.space.appendable();
    // The file's free pages are asked for only when they matter (a statement costs ~10 µs, statfs ~3).
    if (free < this.space.minFreeBytes) free += this.freePages() * this.pageSize;
    if (free < this.space.minFreeBytes) {
      if (!this.refusing) {
        this.refusing = true;
        this.refusedEpisode = 0;
        this.log?.warn({ outbox: this.path, freeBytes: free, minFreeBytes: this.space.minFreeBytes }, 'outbox: disk space low: refusing new points until space returns (delivery goes on)');
      }
      return false;
    }
    if (this.refusing) {
      this.refusing = false;
      this.log?.info({ outbox: this.path, freeBytes: free, refused: this.refusedEpisode }, 'outbox: disk space is back: accepting new points again');
    }
    if (this.refusedPending > 0) this.countRefused();
    if (this.reserveMissing && this.space.ensureReserve()) {
      this.reserveMissing = false;
      this.log?.info({ outbox: this.path, reserveBytes: this.space.reserveBytes }, 'outbox: reserve for acknowledgements made again');
    }
    return true;
  }

  /** Refuse `n` points for lack of space: counted (in the file when it can still be written), never thrown. */
  private refuse(n: number): { dropped: number; refused: number } {
    this.space?.distrust();
    if (!this.refusing) {
      this.refusing = true;
      this.refusedEpisode = 0;
      this.log?.warn({ outbox: this.path, minFreeBytes: this.space?.minFreeBytes }, 'outbox: disk full: refusing new points until space returns (delivery goes on)');
    }
    this.refusedPending += n;
    this.refusedEpisode += n;
    this.countRefused();
    return { dropped: 0, refused: n };
  }

  private countRefused(): void {
    try {
      this.sql.addRefused.run(this.refusedPending);
      this.refusedPending = 0;
    } catch (err) {
      // Too full for even that: counted in memory and written with a later one.
      if (!isDiskFull(err)) throw err;
    }
  }

  /**
   * Take delivered (or dead-lettered) rows out. A delete is written to the WAL first, about as
   * many bytes as the rows it deletes, so on a full disk the reserve is given back and the rows
   * go in small steps, the WAL truncated after each: acknowledgements must not stall for lack
   * of space. While space is short, the WAL is truncated after every acknowledgement.
   */
  private settleRows(ids: readonly number[], write: (ids: readonly number[]) => void): void {
    try {
      write(ids);
    } catch (err) {
      if (!isDiskFull(err) || !this.space) throw new OutboxAckError(this.path, ids.length, err);
      const released = this.space.releaseReserve();
      if (released > 0) {
        this.reserveMissing = true;
        this.log?.warn({ outbox: this.path, releasedBytes: released }, 'outbox: disk full: released the reserve so acknowledgements can be written');
      }
      this.truncateWal();
      let done = 0;
      try {
        for (; done < ids.length; done += FULL_DISK_ACK_ROWS) {
          write(ids.slice(done, done + FULL_DISK_ACK_ROWS));
          this.truncateWal();
        }
      } catch (again) {
        // The steps before this one are settled; the rest stay pending and are sent again.
        throw new OutboxAckError(this.path, ids.length - done, again);
      }
    }
    if (this.refusing || this.reserveMissing) this.truncateWal();
  }

  private truncateWal(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Busy (a reader in another process) or full: the next acknowledgement tries again.
    }
  }

  private moveToDeadLetters(ids: readonly number[], status: number, message: string): number[] {
    const moved = (this.sql.copyToDeadLetters.all(status, message, this.now(), JSON.stringify(ids)) as { id: number }[]).map((r) => r.id).sort((a, b) => a - b);
    this.removeRows(ids);
    this.sql.addDeadLetters.run(moved.length);
    return moved;
  }

  private retry(ids?: readonly number[]): number {
    const { sql } = this;
    const inserted = ids ? sql.retrySome.run(this.now(), JSON.stringify(ids)) : sql.retryAll.run(this.now());
    if (inserted.changes === 0) return 0;
    this.purge(ids);
    this.afterInsert(inserted);
    return inserted.changes;
  }

  private purge(ids?: readonly number[]): number {
    const { sql } = this;
    const gone = ids ? sql.deleteSomeDeadLetters.run(JSON.stringify(ids)) : sql.deleteAllDeadLetters.run();
    sql.addDeadLetters.run(-gone.changes);
    return gone.changes;
  }

  /** Count freshly inserted rows (ids after the previous maximum) and drop the oldest if over the limits. */
  private afterInsert(inserted: Database.RunResult): number {
    const { sql } = this;
    // AUTOINCREMENT hands one statement's rows consecutive ids ending at lastInsertRowid.
    const before = Number(inserted.lastInsertRowid) - inserted.changes;
    const totals = sql.countNewRows.get(inserted.changes, before) as Pick<Counters, 'rows' | 'bytes'>;
    const excessRows = totals.rows - this.limits.maxRows;
    const excessBytes = totals.bytes - this.limits.maxBytes;
    if (excessRows <= 0 && excessBytes <= 0) return 0;

    // Walk the oldest rows in chunks (one native call each) until both excesses are covered.
    let rows = 0;
    let bytes = 0;
    let lastId = 0;
    const chunk = Math.min(Math.max(excessRows, 256), 16_384);
    walk: for (;;) {
      const oldest = sql.oldestAfter.all(lastId, chunk) as [id: number, bytes: number][];
      for (const [id, rowBytes] of oldest) {
        rows += 1;
        bytes += rowBytes;
        lastId = id;
        if (rows >= excessRows && bytes >= excessBytes) break walk;
      }
      if (oldest.length < chunk) break;
    }
    sql.deleteUpTo.run(lastId);
    sql.countDropped.run(rows, bytes, rows);
    return rows;
  }

  /** Delete rows by id and take them off the counters. */
  private removeRows(ids: readonly number[]): void {
    const { sql } = this;
    let rows = 0;
    let bytes = 0;
    // Acking a peeked batch: ids increase and mostly follow each other, so a few range
    // deletes (one per run of consecutive ids) do it about twice as fast as an id list.
    const runs = consecutiveRuns(ids, MAX_RANGE_DELETES);
    if (runs) {
      for (const [first, last] of runs) {
        const gone = sql.sumRange.get(first, last) as { rows: number; bytes: number };
        if (gone.rows === 0) continue;
        sql.deleteRange.run(first, last);
        rows += gone.rows;
        bytes += gone.bytes;
      }
    } else {
      const json = JSON.stringify(ids);
      const gone = sql.sumRows.get(json) as { rows: number; bytes: number };
      if (gone.rows > 0) sql.deleteRows.run(json);
      rows = gone.rows;
      bytes = gone.bytes;
    }
    if (rows > 0) sql.subtract.run(rows, bytes);
  }
}

/**
 * Strictly increasing integer ids as [first, last] runs of consecutive values, or null
 * when they are not in order or would need more than `maxRuns` runs. A range holds no
 * value outside the ids, so deleting it deletes exactly the ids that exist.
 */
function consecutiveRuns(ids: readonly number[], maxRuns: number): [number, number][] | null {
  const runs: [number, number][] = [];
  let first = ids[0]!;
  let last = first;
  if (!Number.isSafeInteger(first)) return null;
  for (let i = 1; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isSafeInteger(id) || id <= last) return null;
    if (id === last + 1) {
      last = id;
      continue;
    }
    runs.push([first, last]);
    if (runs.length >= maxRuns) return null;
    first = last = id;
  }
  runs.push([first, last]);
  return runs;
}

type Statements = ReturnType<typeof prepareStatements>;

function prepareStatements(db: Database.Database) {
  return {
    insertLines: db.prepare(
      // bytes: SQLite's UTF-8 length, the same as Buffer.byteLength. json_each yields the
      // array in order (the contract tests check it); an ORDER BY would cost a sort.
      `INSERT INTO outbox (line, precision, bytes, committed_ms)
       SELECT value, ?, octet_length(value) + 1, ? FROM json_each(?)`,
    ),
    countNewRows: db.prepare(
      `UPDATE outbox_counters SET rows = rows + ?,
         bytes = bytes + (SELECT coalesce(sum(bytes), 0) FROM outbox WHERE id > ?)
       WHERE id = 1 RETURNING rows, bytes`,
    ),
    oldestAfter: db.prepare('SELECT id, bytes FROM outbox WHERE id > ? ORDER BY id LIMIT ?').raw(),
    deleteUpTo: db.prepare('DELETE FROM outbox WHERE id <= ?'),
    countDropped: db.prepare('UPDATE outbox_counters SET rows = rows - ?, bytes = bytes - ?, dropped = dropped + ? WHERE id = 1'),
    oldestRows: db.prepare('SELECT id, line, precision, bytes FROM outbox WHERE id > ? ORDER BY id LIMIT ?').raw(),
    sumRange: db.prepare('SELECT count(*) AS rows, coalesce(sum(bytes), 0) AS bytes FROM outbox WHERE id BETWEEN ? AND ?'),
    deleteRange: db.prepare('DELETE FROM outbox WHERE id BETWEEN ? AND ?'),
    sumRows: db.prepare(`SELECT count(*) AS rows, coalesce(sum(bytes), 0) AS bytes FROM outbox WHERE ${IN_IDS}`),
    deleteRows: db.prepare(`DELETE FROM outbox WHERE ${IN_IDS}`),
    subtract: db.prepare('UPDATE outbox_counters SET rows = rows - ?, bytes = bytes - ? WHERE id = 1'),
    copyToDeadLetters: db.prepare(
      `INSERT INTO dead_letters (outbox_id, line, precision, bytes, committed_ms, status, message, time_ms)
       SELECT id, line, precision, bytes, committed_ms, ?, ?, ? FROM outbox WHERE ${IN_IDS} ORDER BY id RETURNING id`,
    ),
    addDeadLetters: db.prepare('UPDATE outbox_counters SET dead_letters = dead_letters + ? WHERE id = 1'),
    counters: db.prepare('SELECT rows, bytes, dropped, dead_letters, refused FROM outbox_counters WHERE id = 1'),
    addRefused: db.prepare('UPDATE outbox_counters SET refused = refused + ? WHERE id = 1'),
    freelistCount: db.prepare('PRAGMA freelist_count').pluck(),
    oldestCommitted: db.prepare('SELECT committed_ms FROM outbox ORDER BY id LIMIT 1').pluck(),
    listDeadLetters: db.prepare('SELECT id, line, precision, status, message, time_ms FROM dead_letters ORDER BY id LIMIT ?'),
    retryAll: db.prepare('INSERT INTO outbox (line, precision, bytes, committed_ms) SELECT line, precision, bytes, ? FROM dead_letters ORDER BY id'),
    retrySome: db.prepare(
      `INSERT INTO outbox (line, precision, bytes, committed_ms)
       SELECT line, precision, bytes, ? FROM dead_letters WHERE ${IN_IDS} ORDER BY id`,
    ),
    deleteAllDeadLetters: db.prepare('DELETE FROM dead_letters'),
    deleteSomeDeadLetters: db.prepare(`DELETE FROM dead_letters WHERE ${IN_IDS}`),
    setCheckpoint: db.prepare(
      `INSERT INTO backfill_checkpoints (job, position, updated_ms) VALUES (?, ?, ?)
       ON CONFLICT (job) DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms`,
    ),
    // The same upsert as device-status.ts's store (one row per device), here so a job's status
    // rides in a group commit instead of a second connection's transaction.
    upsertStatus: db.prepare(DEVICE_STATUS_UPSERT),
    getCheckpoint: db.prepare('SELECT position FROM backfill_checkpoints WHERE job = ?').pluck(),
    clearCheckpoint: db.prepare('DELETE FROM backfill_checkpoints WHERE job = ?'),
  };
}

function makeFolder(dir: string, path: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new ConfigError(`${path}: cannot make its folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/** Open (creating folders, file and schema as needed) the outbox at `path`. */
export function openSqliteOutbox(path: string, limits: OutboxLimits, opts?: SqliteOutboxOptions): Outbox {
  return new SqliteOutbox(path, limits, opts);
}
