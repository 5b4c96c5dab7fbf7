import { PRECISIONS, type Precision } from '../core/point.js';
import type { OutboxBatch, OutboxLimits, OutboxRow } from './types.js';

/** Shared by both outbox implementations so they cut batches and count bytes alike. */

/** Bytes a line takes in a request body: UTF-8 length plus its newline. */
export function lineBytes(line: string): number {
  return Buffer.byteLength(line, 'utf8') + 1;
}

/** listDeadLetters() without a limit lists at most this many (oldest first). */
export const DEFAULT_DEAD_LETTER_LIST = 1000;

/** A listDeadLetters() limit as SQLite's LIMIT takes it: a whole number, or -1 for all (negative, Infinity). */
export function listLimit(limit: number): number {
  if (Number.isNaN(limit)) throw new RangeError('dead-letter list limit is not a number');
  return Number.isFinite(limit) && limit >= 0 ? Math.floor(limit) : -1;
}

/** A pending row as SQLite's raw mode returns it: arrays are cheaper to read than objects. */
export type StoredRow = readonly [id: number, line: string, precision: Precision, bytes: number];

export function checkLimits(limits: OutboxLimits): void {
  if (!Number.isInteger(limits.maxRows) || limits.maxRows < 1) throw new RangeError(`outbox maxRows must be an integer ≥ 1, got ${limits.maxRows}`);
  if (!Number.isInteger(limits.maxBytes) || limits.maxBytes < 1) throw new RangeError(`outbox maxBytes must be an integer ≥ 1, got ${limits.maxBytes}`);
}

/** The column has no CHECK (it would halve insert speed), so append checks once per call. */
export function checkPrecision(precision: Precision): void {
  if (!PRECISIONS.includes(precision)) throw new RangeError(`outbox precision must be one of ${PRECISIONS.join(', ')}, got ${String(precision)}`);
}

export function checkPeekArgs(maxRows: number, maxBytes: number, afterId = 0): void {
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new RangeError(`peek maxRows must be an integer ≥ 1, got ${maxRows}`);
  if (!(maxBytes >= 1)) throw new RangeError(`peek maxBytes must be ≥ 1, got ${maxBytes}`);
  if (!Number.isSafeInteger(afterId)) throw new RangeError(`peek afterId must be an integer, got ${afterId}`);
}

/**
 * The first run of same-precision rows from `oldestFirst`, within maxRows and maxBytes,
 * always at least one row. Stops at the first row of another precision rather than
 * skipping it, so batches leave in commit order.
 */
export function takeBatch(oldestFirst: readonly StoredRow[], maxRows: number, maxBytes: number): OutboxBatch | null {
  const first = oldestFirst[0];
  if (!first) return null;
  const precision = first[2];
  const end = Math.min(oldestFirst.length, maxRows);
  const rows: OutboxRow[] = [];
  let bytes = 0;
  for (let i = 0; i < end; i++) {
    const [id, line, rowPrecision, rowBytes] = oldestFirst[i]!;
    if (i > 0 && (rowPrecision !== precision || bytes + rowBytes > maxBytes)) break;
    rows.push({ id, line, precision });
    bytes += rowBytes;
  }
  return { rows, bytes };
}
