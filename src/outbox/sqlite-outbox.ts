import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Precision } from '../core/point.js';
import { checkLimits, checkPeekArgs, checkPrecision, DEFAULT_DEAD_LETTER_LIST, listLimit, takeBatch, type StoredRow } from './batch.js';
import { applyMigrations, migrationsDir } from './migrate.js';
import type { DeadLetter, Outbox, OutboxBatch, OutboxLimits, OutboxStats } from './types.js';

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
}

interface Counters {
  rows: number;
  bytes: number;
  dropped: number;
  dead_letters: number;
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

/** More runs of consecutive ids than this and ack deletes by id list instead. */
const MAX_RANGE_DELETES = 8;

/** Rows read per statement by peek (~1.5 MB of typical lines). */
const PEEK_CHUNK = 10_000;

// Id lists travel as one JSON array bound to json_each: one statement per call, however many ids.
const IN_IDS = 'id IN (SELECT value FROM json_each(?))';

/**
 * The outbox in one SQLite file (DESIGN.md §5). Several processes may open the same
 * file: WAL lets readers run beside the writer, every write is an IMMEDIATE transaction
 * that waits up to busy_timeout for the lock, and counters are always read from the file
 * (never cached), so each connection sees the others' changes.
 */
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

  constructor(path: string, limits: OutboxLimits, opts: SqliteOutboxOptions = {}) {
    checkLimits(limits);
    this.path = path;
    this.limits = { maxRows: limits.maxRows, maxBytes: limits.maxBytes };
    this.now = opts.now ?? Date.now;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
      applyMigrations(db, migrationsDir('outbox'));
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
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
      appendMarked: db.transaction((lines: readonly string[], precision: Precision, job: string, position: number) => {
        this.lastIds = null;
        const dropped = lines.length > 0 ? this.insertLines(lines, precision) : 0;
        this.sql.setCheckpoint.run(job, position, this.now());
        return { dropped, ids: this.lastIds as [number, number] | null };
      }).immediate,
    };
  }

  /**
   * Backfill (issue 7): commit lines together with the run's checkpoint, in one transaction,
   * so an interrupted run resumes exactly after the last input whose points are committed.
   */
  appendWithCheckpoint(lines: readonly string[], precision: Precision, job: string, position: number): { dropped: number; ids: [first: number, last: number] | null } {
    checkPrecision(precision);
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

  append(lines: readonly string[], precision: Precision): { dropped: number } {
    checkPrecision(precision);
    if (lines.length === 0) return { dropped: 0 };
    return { dropped: this.tx.append(lines, precision) };
  }

  /** New limits (a config reload); they apply from the next append on. */
  setLimits(limits: OutboxLimits): void {
    checkLimits(limits);
    this.limits = { maxRows: limits.maxRows, maxBytes: limits.maxBytes };
  }

  peek(maxRows: number, maxBytes: number, afterId = 0): OutboxBatch | null {
    checkPeekArgs(maxRows, maxBytes, afterId);
    return this.tx.peek(maxRows, maxBytes, afterId);
  }

  ack(ids: readonly number[]): void {
    if (ids.length > 0) this.tx.remove(ids);
  }

  deadLetter(ids: readonly number[], status: number, message: string): number[] {
    return ids.length > 0 ? this.tx.deadLetter(ids, status, message) : [];
  }

  stats(): OutboxStats {
    return this.tx.stats();
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
    return { rows: c.rows, bytes: c.bytes, oldestCommittedMs: oldest ?? null, dropped: c.dropped, deadLetters: c.dead_letters };
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
    counters: db.prepare('SELECT rows, bytes, dropped, dead_letters FROM outbox_counters WHERE id = 1'),
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
    getCheckpoint: db.prepare('SELECT position FROM backfill_checkpoints WHERE job = ?').pluck(),
    clearCheckpoint: db.prepare('DELETE FROM backfill_checkpoints WHERE job = ?'),
  };
}

/** Open (creating folders, file and schema as needed) the outbox at `path`. */
export function openSqliteOutbox(path: string, limits: OutboxLimits, opts?: SqliteOutboxOptions): Outbox {
  return new SqliteOutbox(path, limits, opts);
}
