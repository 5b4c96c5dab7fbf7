/**
 * The decoding side of a backfill, in a worker thread: units → decode → line protocol, in
 * chunks posted to the CLI's thread, which commits them (with the checkpoint) and sends them.
 * Decoding and SQLite + HTTP then run on two cores instead of taking turns on one.
 *
 * Flow control: at most MAX_UNCOMMITTED chunks are posted and not yet committed; the CLI's
 * thread answers each commit with a credit. 'stop' ends the run after the current unit (what
 * was decoded is still posted, so the checkpoint covers it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Precision } from '../core/point.js';
import { runBackfill } from './engine.js';
import { buildUnits, type SourceSpec } from './sources.js';

export interface DecodeThreadInit {
  spec: SourceSpec;
  checkpoint: number | null;
  precision: Precision;
}

export type FromDecodeThread =
  { type: 'chunk'; lines: string[]; position: number; progress: number; points: number } | { type: 'progress'; progress: number; points: number } | { type: 'done'; result: Awaited<ReturnType<typeof runBackfill>> };

export type ToDecodeThread = { type: 'credit' } | { type: 'stop' };

const MAX_UNCOMMITTED = 8;
const PROGRESS_EVERY_MS = 100;

const port = parentPort!;
const init = workerData as DecodeThreadInit;
const stop = new AbortController();
let credits = MAX_UNCOMMITTED;
let wake: (() => void) | null = null;
port.on('message', (m: ToDecodeThread) => {
  if (m.type === 'credit') credits++;
  else stop.abort();
  wake?.();
  wake = null;
});

const { units, close } = buildUnits(init.spec);
let points = 0;
let lastProgressMs = 0;
try {
  const result = await runBackfill({
    units,
    precision: init.precision,
    signal: stop.signal,
    sink: {
      async commit(lines, position, progress) {
        while (credits <= 0) await new Promise<void>((resolve) => (wake = resolve));
        credits--;
        port.postMessage({ type: 'chunk', lines, position, progress, points } satisfies FromDecodeThread);
      },
      checkpoint: () => init.checkpoint,
      finished: () => undefined, // the CLI's thread forgets the checkpoint on 'done'
      pending: () => null,
    },
    onProgress(progress, total) {
      points = total;
      const now = Date.now();
      if (now - lastProgressMs < PROGRESS_EVERY_MS) return;
      lastProgressMs = now;
      port.postMessage({ type: 'progress', progress, points } satisfies FromDecodeThread);
    },
  });
  port.postMessage({ type: 'done', result } satisfies FromDecodeThread);
} finally {
  close();
  port.unref(); // let the thread end once the last message is out
}
