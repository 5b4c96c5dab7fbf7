import type { Precision } from '../core/point.js';

/**
 * What the server said about one batch, sorted into the classes of README "How a point travels" (Flusher).
 * - ok: 2xx, delete from the outbox
 * - retry: network error, timeout, 5xx, 429; keep and back off (honour retryAfterMs)
 * - split: 413; split the batch and send the halves
 * - reject: 400/422; the batch holds a line the server will never take: bisect it
 * - fatal: 401/403/404; keep everything, report loudly, try again later
 */
export type WriteOutcome =
  | { kind: 'ok'; status: number }
  | { kind: 'retry'; status: number | null; message: string; retryAfterMs?: number }
  | { kind: 'split'; status: number; message: string }
  | { kind: 'reject'; status: number; message: string }
  | { kind: 'fatal'; status: number | null; message: string };

export interface Writer {
  /** e.g. `influx v1 http://127.0.0.1:8086 db=energy` (no secrets). */
  readonly describe: string;
  write(lines: readonly string[], precision: Precision, signal?: AbortSignal): Promise<WriteOutcome>;
  close(): Promise<void>;
}
