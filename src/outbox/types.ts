import type { Precision } from '../core/point.js';

/** One stored line with its row id (ids increase with insertion order). */
export interface OutboxRow {
  id: number;
  line: string;
  precision: Precision;
}

export interface OutboxBatch {
  rows: OutboxRow[];
  /** Sum of line lengths in bytes (UTF-8) plus newlines. */
  bytes: number;
}

export interface OutboxStats {
  rows: number;
  bytes: number;
  /** Time (ms since epoch) the oldest pending row was committed, or null when empty. */
  oldestCommittedMs: number | null;
  /** Rows dropped because the outbox was full (since it was created). */
  dropped: number;
  deadLetters: number;
  /** Points refused because the outbox's disk was (nearly) full (since it was created); absent when none. */
  refused?: number;
}

/** The outbox's filesystem: free bytes (the file's own free pages included) against `outbox.minFreeBytes`. */
export interface OutboxSpaceStatus {
  freeBytes: number;
  minFreeBytes: number;
  /** New points are refused until freeBytes is back at minFreeBytes. */
  refusing: boolean;
  /** The reserve held for acknowledgements on a full disk (0: released or none). */
  reserveBytes: number;
}

export interface DeadLetter {
  id: number;
  line: string;
  precision: Precision;
  status: number;
  message: string;
  timeMs: number;
}

export interface OutboxLimits {
  /** Most pending rows kept; the oldest are dropped beyond it. */
  maxRows: number;
  /** Most pending bytes kept; the oldest are dropped beyond it. */
  maxBytes: number;
}

/**
 * The durable queue between collection and InfluxDB. Every line is committed here
 * before anything is sent; rows leave only through `ack` (after a 2xx), `deadLetter`
 * (after the server refused exactly these lines) or drop-oldest when full.
 */
export interface Outbox {
  /**
   * Commit lines in one transaction. Returns how many old rows were dropped to make room, and
   * (when the disk is nearly full) how many of these lines were refused instead of committed.
   */
  append(lines: readonly string[], precision: Precision): { dropped: number; refused?: number };
  /**
   * The oldest pending rows, in id order, all of one precision, at most `maxRows`
   * rows and `maxBytes` bytes (at least one row if any is pending). Does not remove them.
   * With `afterId`, only rows with a larger id count: the next batch after one already
   * peeked (and maybe not yet acked), so a sender can read it while the first is in flight.
   */
  peek(maxRows: number, maxBytes: number, afterId?: number): OutboxBatch | null;
  /** Delete delivered rows. */
  ack(ids: readonly number[]): void;
  /**
   * Move refused rows to the dead-letter table with the server's answer. Returns their
   * dead-letter ids (what `buffer retry`/`purge` take), in the order of the rows' ids.
   */
  deadLetter(ids: readonly number[], status: number, message: string): number[];
  stats(): OutboxStats;
  /**
   * Change maxRows/maxBytes while open (a config reload); from the next append on. A
   * `minFreeBytes` key (undefined: the default share of the filesystem) changes that margin too.
   */
  setLimits?(limits: OutboxLimits & { minFreeBytes?: number | undefined }): void;
  /** The filesystem under the outbox, for `buffer` and `status` (absent or null: not on a disk). */
  spaceStatus?(): OutboxSpaceStatus | null;
  listDeadLetters(limit?: number): DeadLetter[];
  /** Put dead letters back into the queue (all, or these ids). Returns how many. */
  retryDeadLetters(ids?: readonly number[]): number;
  purgeDeadLetters(ids?: readonly number[]): number;
  close(): void;
}
