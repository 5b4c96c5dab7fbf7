/**
 * Live points before backfill points (docs/capture.md). Backfill points that wait (InfluxDB down or
 * refusing, `backfill --queue-only`) are committed to a second outbox file beside the live one
 * (`outbox.backfill.sqlite` for `outbox.sqlite`), so a backfill's big transactions never hold
 * the live file's write lock. The flusher sends this composite:
 * `peek` hands out live rows whenever there are any, and backfill rows only when the live
 * outbox has nothing (more) pending. So at most one backfill batch is in flight ahead of a
 * live point, however large the backfill.
 *
 * Row ids: backfill rows are shown to the flusher as BACKFILL_ID_OFFSET + their own id, so
 * `afterId`, `ack` and `deadLetter` know which file a row is in. The flusher keeps one batch
 * in flight and reads the next after it, so "the rest of the live rows, else the backfill
 * from its start" (and after a backfill batch: "live from its start, else the rest of the
 * backfill") never skips a pending row.
 *
 * Dead letters, retry and purge are the live outbox's; a backfill's refused lines stay in
 * its own file's dead-letter table (counted in stats()).
 */
import { existsSync } from 'node:fs';
import type { Precision } from '../core/point.js';
import type { DeadLetter, Outbox, OutboxBatch, OutboxSpaceStatus, OutboxStats } from './types.js';

export const BACKFILL_ID_OFFSET = 2 ** 48;
/** How often a worker looks for a backfill file that did not exist yet, ms. */
const LOOK_EVERY_MS = 2000;

/** `data/outbox.sqlite` → `data/outbox.backfill.sqlite`. */
export function backfillOutboxPath(outboxPath: string): string {
  return outboxPath.endsWith('.sqlite') ? `${outboxPath.slice(0, -'.sqlite'.length)}.backfill.sqlite` : `${outboxPath}.backfill`;
}

export class PriorityOutbox implements Outbox {
  private backfillOutbox: Outbox | null = null;
  private lastLookMs = -Infinity;

  /**
   * @param backfillPath the backfill file; opened (with `open`) once it exists, since a
   * backfill may start after the worker did.
   */
  constructor(
    readonly live: Outbox,
    private readonly backfillPath: string,
    private readonly open: (path: string) => Outbox,
    private readonly now: () => number = Date.now,
  ) {}

  append(lines: readonly string[], precision: Precision): { dropped: number } {
    return this.live.append(lines, precision);
  }

  peek(maxRows: number, maxBytes: number, afterId = 0): OutboxBatch | null {
    if (afterId < BACKFILL_ID_OFFSET) {
      return this.live.peek(maxRows, maxBytes, afterId) ?? this.peekBackfill(maxRows, maxBytes, 0);
    }
    return this.live.peek(maxRows, maxBytes, 0) ?? this.peekBackfill(maxRows, maxBytes, afterId - BACKFILL_ID_OFFSET);
  }

  ack(ids: readonly number[]): void {
    const [live, backfill] = split(ids);
    if (live.length > 0) this.live.ack(live);
    if (backfill.length > 0) this.backfill()?.ack(backfill);
  }

  /** Dead-letter ids of backfill rows are those of the backfill file, shown + BACKFILL_ID_OFFSET like its row ids. */
  deadLetter(ids: readonly number[], status: number, message: string): number[] {
    const [live, backfill] = split(ids);
    const moved = live.length > 0 ? this.live.deadLetter(live, status, message) : [];
    if (backfill.length > 0) moved.push(...(this.backfill()?.deadLetter(backfill, status, message) ?? []).map((id) => id + BACKFILL_ID_OFFSET));
    return moved;
  }

  stats(): OutboxStats {
    const a = this.live.stats();
    const b = this.backfill()?.stats();
    if (!b) return a;
    const oldest = [a.oldestCommittedMs, b.oldestCommittedMs].filter((t): t is number => t !== null);
    const stats: OutboxStats = {
      rows: a.rows + b.rows,
      bytes: a.bytes + b.bytes,
      oldestCommittedMs: oldest.length > 0 ? Math.min(...oldest) : null,
      dropped: a.dropped + b.dropped,
      deadLetters: a.deadLetters + b.deadLetters,
    };
    const refused = (a.refused ?? 0) + (b.refused ?? 0);
    if (refused > 0) stats.refused = refused;
    return stats;
  }

  /** The live file's filesystem (the backfill file sits beside it). */
  spaceStatus(): OutboxSpaceStatus | null {
    return this.live.spaceStatus?.() ?? null;
  }

  listDeadLetters(limit?: number): DeadLetter[] {
    return this.live.listDeadLetters(limit);
  }

  retryDeadLetters(ids?: readonly number[]): number {
    return this.live.retryDeadLetters(ids);
  }

  purgeDeadLetters(ids?: readonly number[]): number {
    return this.live.purgeDeadLetters(ids);
  }

  close(): void {
    this.live.close();
    this.backfillOutbox?.close();
  }

  private peekBackfill(maxRows: number, maxBytes: number, afterId: number): OutboxBatch | null {
    const batch = this.backfill()?.peek(maxRows, maxBytes, afterId);
    if (!batch) return null;
    return { bytes: batch.bytes, rows: batch.rows.map((r) => ({ ...r, id: r.id + BACKFILL_ID_OFFSET })) };
  }

  private backfill(): Outbox | null {
    if (this.backfillOutbox) return this.backfillOutbox;
    const now = this.now();
    if (now - this.lastLookMs < LOOK_EVERY_MS) return null;
    this.lastLookMs = now;
    if (existsSync(this.backfillPath)) this.backfillOutbox = this.open(this.backfillPath);
    return this.backfillOutbox;
  }
}

function split(ids: readonly number[]): [number[], number[]] {
  const live: number[] = [];
  const backfill: number[] = [];
  for (const id of ids) {
    if (id >= BACKFILL_ID_OFFSET) backfill.push(id - BACKFILL_ID_OFFSET);
    else live.push(id);
  }
  return [live, backfill];
}
