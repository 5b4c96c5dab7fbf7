import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { applyMigrations, migrationsDir } from '../sqlite/migrate.js';
import { OUTBOX_CACHE_SIZE } from './sqlite-outbox.js';

/**
 * The capture archive (docs/capture.md): every raw exchange of the devices with `capture: on`, in
 * its own SQLite file so a large archive never slows the outbox's commits. Records are
 * buffered in memory and written in one transaction per collect() (`flush`), and retention
 * (age, size) runs now and then after a flush. The archive is for re-decoding, not a
 * delivery promise: `synchronous = NORMAL` (a power cut may lose the last records).
 */

export interface StoredCapture {
  id: number;
  timeMs: number;
  device: string;
  driver: string;
  /** The collect() of a poll driver the record belongs to; null for stream drivers. */
  cycle: number | null;
  direction: 'rx' | 'tx';
  /** Telegram text (P1) rather than raw bytes. */
  text: boolean;
  data: Buffer;
}

export type NewCapture = Omit<StoredCapture, 'id'>;

export interface CaptureStoreOptions {
  maxAgeMs: number;
  maxBytes: number;
  now?: () => number;
  /** How often retention runs after a flush, ms. Default one minute. */
  pruneEveryMs?: number;
  busyTimeoutMs?: number;
}

export interface DeviceCaptureStats {
  device: string;
  driver: string;
  records: number;
  bytes: number;
  firstMs: number;
  lastMs: number;
}

export interface CaptureQuery {
  device?: string;
  fromMs?: number;
  toMs?: number;
  /** Only ids above this one (resume). */
  afterId?: number;
}

/** More buffered records than this and add() writes them at once (a stream device between collects). */
const MAX_PENDING = 20_000;
/** Cycle ids reserved per counter update: one write per this many polls. */
const CYCLE_BLOCK = 1000;
const READ_CHUNK = 5000;

type Row = [id: number, time_ms: number, device: string, driver: string, cycle: number | null, direction: 'rx' | 'tx', text: number, data: Buffer];

export class CaptureStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly o: Required<CaptureStoreOptions>;
  private pending: NewCapture[] = [];
  private lastPruneMs = 0;
  private cycleNext = 0;
  private cycleEnd = 0;
  private readonly sql;
  private readonly tx;

  constructor(path: string, options: CaptureStoreOptions) {
    this.path = path;
    this.o = { now: Date.now, pruneEveryMs: 60_000, busyTimeoutMs: 5000, ...options };
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    try {
      db.pragma(`busy_timeout = ${Math.trunc(this.o.busyTimeoutMs)}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // A worker's other growing file: the same bounded page cache as the outbox.
      db.pragma(`cache_size = ${OUTBOX_CACHE_SIZE}`);
      applyMigrations(db, migrationsDir('capture'));
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    this.sql = {
      insert: db.prepare('INSERT INTO captures (time_ms, device, driver, cycle, direction, text, data) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      addBytes: db.prepare('UPDATE capture_counters SET bytes = bytes + ? WHERE id = 1'),
      reserve: db.prepare(`UPDATE capture_counters SET last_cycle = last_cycle + ${CYCLE_BLOCK} WHERE id = 1 RETURNING last_cycle`).pluck(),
      bytes: db.prepare('SELECT bytes FROM capture_counters WHERE id = 1').pluck(),
      oldest: db.prepare('SELECT id, time_ms, length(data) FROM captures WHERE id > ? ORDER BY id LIMIT ?').raw(),
      deleteUpTo: db.prepare('DELETE FROM captures WHERE id <= ?'),
      read: db
        .prepare(
          `SELECT id, time_ms, device, driver, cycle, direction, text, data FROM captures
         WHERE id > @after AND (@device IS NULL OR device = @device) AND time_ms >= @from AND time_ms <= @to
         ORDER BY id LIMIT @limit`,
        )
        .raw(),
      count: db.prepare(`SELECT count(*) FROM captures WHERE (@device IS NULL OR device = @device) AND time_ms >= @from AND time_ms <= @to`).pluck(),
      stats: db.prepare(
        `SELECT device, driver, count(*) AS records, sum(length(data)) AS bytes, min(time_ms) AS firstMs, max(time_ms) AS lastMs
         FROM captures GROUP BY device, driver ORDER BY device, driver`,
      ),
    };
    this.tx = {
      write: db.transaction((rows: readonly NewCapture[]) => {
        let bytes = 0;
        for (const r of rows) {
          this.sql.insert.run(r.timeMs, r.device, r.driver, r.cycle, r.direction, r.text ? 1 : 0, r.data);
          bytes += r.data.length;
        }
        this.sql.addBytes.run(bytes);
      }).immediate,
      prune: db.transaction((cutoffMs: number) => this.pruneRows(cutoffMs)).immediate,
      reserve: db.transaction(() => this.sql.reserve.get() as number).immediate,
    };
  }

  /** A fresh cycle id (unique in this file, also across processes: reserved in blocks). */
  nextCycle(): number {
    if (this.cycleNext >= this.cycleEnd) {
      this.cycleEnd = this.tx.reserve() + 1;
      this.cycleNext = this.cycleEnd - CYCLE_BLOCK;
    }
    return this.cycleNext++;
  }

  /** Buffer one record; written by the next flush(). */
  add(record: NewCapture): void {
    this.pending.push(record);
    if (this.pending.length >= MAX_PENDING) this.flush();
  }

  /** Drop the buffered (not yet written) records of one device's cycle; how many went. */
  discardPending(device: string, cycle: number): number {
    const before = this.pending.length;
    this.pending = this.pending.filter((r) => r.device !== device || r.cycle !== cycle);
    return before - this.pending.length;
  }

  /** Write the buffered records in one transaction; then retention, at most every pruneEveryMs. */
  flush(): void {
    if (this.pending.length === 0) return; // a reader (backfill, export) never prunes
    const rows = this.pending;
    this.pending = [];
    this.tx.write(rows);
    const now = this.o.now();
    if (now - this.lastPruneMs >= this.o.pruneEveryMs) {
      this.lastPruneMs = now;
      this.prune();
    }
  }

  /** Insert records at once (import), in one transaction. */
  insertMany(rows: readonly NewCapture[]): void {
    if (rows.length > 0) this.tx.write(rows);
  }

  /** Delete records older than maxAgeMs, then the oldest until the data fits maxBytes. Returns how many went. */
  prune(): number {
    return this.tx.prune(this.o.now() - this.o.maxAgeMs);
  }

  /** Records in id order (capture order), in chunks from one query each. */
  *read(query: CaptureQuery = {}): Generator<StoredCapture> {
    let after = query.afterId ?? 0;
    const params = { device: query.device ?? null, from: query.fromMs ?? -8.64e15, to: query.toMs ?? 8.64e15 };
    for (;;) {
      const rows = this.sql.read.all({ ...params, after, limit: READ_CHUNK }) as Row[];
      for (const [id, timeMs, device, driver, cycle, direction, text, data] of rows) {
        yield { id, timeMs, device, driver, cycle, direction, text: text === 1, data };
      }
      if (rows.length < READ_CHUNK) return;
      after = rows[rows.length - 1]![0];
    }
  }

  count(query: CaptureQuery = {}): number {
    return this.sql.count.get({ device: query.device ?? null, from: query.fromMs ?? -8.64e15, to: query.toMs ?? 8.64e15 }) as number;
  }

  stats(): DeviceCaptureStats[] {
    return (this.sql.stats.all() as DeviceCaptureStats[]).map((s) => ({ ...s, bytes: Number(s.bytes ?? 0) }));
  }

  close(): void {
    if (!this.db.open) return;
    try {
      this.flush();
    } finally {
      this.db.close();
    }
  }

  private pruneRows(cutoffMs: number): number {
    let excess = (this.sql.bytes.get() as number) - this.o.maxBytes;
    let lastId = 0;
    let rows = 0;
    let freed = 0;
    // Ids follow capture order, so the oldest records are the lowest ids.
    walk: for (;;) {
      const chunk = this.sql.oldest.all(lastId, READ_CHUNK) as [number, number, number][];
      for (const [id, timeMs, bytes] of chunk) {
        if (timeMs >= cutoffMs && excess <= 0) break walk;
        lastId = id;
        rows++;
        freed += bytes;
        excess -= bytes;
      }
      if (chunk.length < READ_CHUNK) break;
    }
    if (rows === 0) return 0;
    this.sql.deleteUpTo.run(lastId);
    this.sql.addBytes.run(-freed);
    return rows;
  }
}

export function openCaptureStore(path: string, options: CaptureStoreOptions): CaptureStore {
  return new CaptureStore(path, options);
}
