/**
 * The decoding thread's client (decode-thread.ts): chunks committed with the checkpoint, credits
 * back, so decoding and sending (sender.ts) overlap.
 */
import { Worker } from 'node:worker_threads';
import type { Precision } from '../core/point.js';
import type { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import type { DecodeThreadInit, FromDecodeThread, ToDecodeThread } from './decode-thread.js';
import type { BackfillResult } from './engine.js';
import type { BackfillSender } from './sender.js';
import type { SourceSpec } from './sources.js';

/** Pending backfill rows above which the decoding thread gets no credit until the sender catches up. */
const HIGH_WATER = 200_000;

/**
 * Decode in a worker thread (decode-thread.ts); here, offer each chunk to the sender (or put it
 * in the backfill outbox), move the checkpoint over the chunks settled in order, and hand back a
 * credit, so decoding and sending overlap.
 */
export function decodeInThread(
  plan: { spec: SourceSpec; job: string },
  outbox: SqliteOutbox,
  precision: Precision,
  signal: AbortSignal,
  show: (progress: number, points: number) => void,
  sender: BackfillSender | null,
): { result: Promise<BackfillResult>; unresolved: () => number } {
  const init: DecodeThreadInit = { spec: plan.spec, checkpoint: outbox.checkpoint(plan.job), precision };
  const thread = new Worker(new URL('./decode-thread.js', import.meta.url), { workerData: init });
  const onAbort = () => thread.postMessage({ type: 'stop' } satisfies ToDecodeThread);
  signal.addEventListener('abort', onAbort, { once: true });
  // Chunks in decoding order; the checkpoint moves over the prefix that is in InfluxDB or in the outbox.
  const order: { position: number; done: boolean }[] = [];
  const advance = () => {
    let last: number | null = null;
    while (order[0]?.done) last = order.shift()!.position;
    if (last !== null) outbox.appendWithCheckpoint([], precision, plan.job, last);
  };
  const result = new Promise<BackfillResult>((resolve, reject) => {
    let done = false;
    const credit = () => {
      if (sender && sender.backlog() > HIGH_WATER && !signal.aborted) return void setTimeout(credit, 20);
      thread.postMessage({ type: 'credit' } satisfies ToDecodeThread);
    };
    thread.on('message', (m: FromDecodeThread) => {
      try {
        if (m.type === 'chunk') {
          const entry = { position: m.position, done: false };
          order.push(entry);
          const settled = (sent: boolean) => {
            // Not taken by InfluxDB at once: the outbox keeps it, and the flusher's rules apply.
            if (!sent) outbox.append(m.lines, precision);
            entry.done = true;
            advance();
            credit();
          };
          if (!sender?.offer(m.lines, settled)) settled(false);
          show(m.progress, m.points);
        } else if (m.type === 'progress') show(m.progress, m.points);
        else {
          done = true;
          resolve(m.result);
        }
      } catch (err) {
        done = true;
        void thread.terminate();
        reject(err);
      }
    });
    thread.on('error', (err) => {
      done = true;
      reject(err);
    });
    thread.on('exit', (code) => {
      signal.removeEventListener('abort', onAbort);
      if (!done) reject(new Error(`the decoding thread ended early (exit code ${code})`));
    });
  });
  return { result, unresolved: () => order.length };
}
