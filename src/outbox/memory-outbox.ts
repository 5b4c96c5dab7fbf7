import type { Precision } from '../core/point.js';
import { checkLimits, checkPeekArgs, checkPrecision, DEFAULT_DEAD_LETTER_LIST, lineBytes, listLimit, takeBatch, type StoredRow } from './batch.js';
import type { DeadLetter, Outbox, OutboxBatch, OutboxLimits, OutboxStats } from './types.js';

interface MemoryRow {
  id: number;
  line: string;
  precision: Precision;
  bytes: number;
  committedMs: number;
}

interface MemoryDeadLetter extends DeadLetter {
  bytes: number;
}

/**
 * The outbox contract kept in memory: for unit tests of the flusher and as the second
 * implementation the contract suite checks. Same semantics as SqliteOutbox (ids never
 * reused, drop-oldest, retried dead letters at the end of the queue); nothing survives
 * the process.
 */
export class MemoryOutbox implements Outbox {
  private rows: MemoryRow[] = [];
  private deadLetters: MemoryDeadLetter[] = [];
  private nextId = 1;
  private nextDeadLetterId = 1;
  private bytes = 0;
  private dropped = 0;
  private closed = false;
  private readonly limits: OutboxLimits;
  private readonly now: () => number;

  constructor(limits: OutboxLimits, opts: { now?: () => number } = {}) {
    checkLimits(limits);
    this.limits = { maxRows: limits.maxRows, maxBytes: limits.maxBytes };
    this.now = opts.now ?? Date.now;
  }

  append(lines: readonly string[], precision: Precision): { dropped: number } {
    this.checkOpen();
    checkPrecision(precision);
    const committedMs = this.now();
    for (const line of lines) this.push(line, precision, lineBytes(line), committedMs);
    return { dropped: this.dropOldest() };
  }

  peek(maxRows: number, maxBytes: number, afterId = 0): OutboxBatch | null {
    this.checkOpen();
    checkPeekArgs(maxRows, maxBytes, afterId);
    const start = afterId > 0 ? this.firstAfter(afterId) : 0;
    const oldest = this.rows.slice(start, start + maxRows).map((r): StoredRow => [r.id, r.line, r.precision, r.bytes]);
    return takeBatch(oldest, maxRows, maxBytes);
  }

  ack(ids: readonly number[]): void {
    this.checkOpen();
    this.remove(new Set(ids));
  }

  deadLetter(ids: readonly number[], status: number, message: string): number[] {
    this.checkOpen();
    const timeMs = this.now();
    const moved: number[] = [];
    for (const row of this.remove(new Set(ids))) {
      const { line, precision, bytes } = row;
      moved.push(this.nextDeadLetterId);
      this.deadLetters.push({ id: this.nextDeadLetterId++, line, precision, bytes, status, message, timeMs });
    }
    return moved;
  }

  stats(): OutboxStats {
    this.checkOpen();
    return {
      rows: this.rows.length,
      bytes: this.bytes,
      oldestCommittedMs: this.rows[0]?.committedMs ?? null,
      dropped: this.dropped,
      deadLetters: this.deadLetters.length,
    };
  }

  listDeadLetters(limit: number = DEFAULT_DEAD_LETTER_LIST): DeadLetter[] {
    this.checkOpen();
    const n = listLimit(limit);
    const list = n < 0 ? this.deadLetters : this.deadLetters.slice(0, n);
    return list.map(({ id, line, precision, status, message, timeMs }) => ({ id, line, precision, status, message, timeMs }));
  }

  /** Back to the END of the queue with new ids, like SqliteOutbox.retryDeadLetters. */
  retryDeadLetters(ids?: readonly number[]): number {
    this.checkOpen();
    const chosen = this.takeDeadLetters(ids);
    const committedMs = this.now();
    for (const d of chosen) this.push(d.line, d.precision, d.bytes, committedMs);
    this.dropOldest();
    return chosen.length;
  }

  purgeDeadLetters(ids?: readonly number[]): number {
    this.checkOpen();
    return this.takeDeadLetters(ids).length;
  }

  close(): void {
    this.closed = true;
  }

  /** Index of the first row with an id above `afterId` (rows are in id order). */
  private firstAfter(afterId: number): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rows[mid]!.id <= afterId) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private push(line: string, precision: Precision, bytes: number, committedMs: number): void {
    this.rows.push({ id: this.nextId++, line, precision, bytes, committedMs });
    this.bytes += bytes;
  }

  private dropOldest(): number {
    let count = 0;
    let bytes = this.bytes;
    while (count < this.rows.length && (this.rows.length - count > this.limits.maxRows || bytes > this.limits.maxBytes)) {
      bytes -= this.rows[count]!.bytes;
      count += 1;
    }
    if (count === 0) return 0;
    this.rows.splice(0, count);
    this.bytes = bytes;
    this.dropped += count;
    return count;
  }

  /** Remove the rows with these ids; returns them in id order. */
  private remove(ids: ReadonlySet<number>): MemoryRow[] {
    if (ids.size === 0) return [];
    const removed: MemoryRow[] = [];
    this.rows = this.rows.filter((row) => {
      if (!ids.has(row.id)) return true;
      removed.push(row);
      this.bytes -= row.bytes;
      return false;
    });
    return removed;
  }

  private takeDeadLetters(ids?: readonly number[]): MemoryDeadLetter[] {
    if (!ids) return this.deadLetters.splice(0);
    const wanted = new Set(ids);
    const taken = this.deadLetters.filter((d) => wanted.has(d.id));
    this.deadLetters = this.deadLetters.filter((d) => !wanted.has(d.id));
    return taken;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('outbox is closed');
  }
}
