/**
 * The running half of `wattline backfill`: the decoding thread's client (chunks committed with
 * the checkpoint, credits back) and the sender that overlaps sending with decoding.
 */
import { Worker } from 'node:worker_threads';
import type { DecodeThreadInit, FromDecodeThread, ToDecodeThread } from '../backfill/decode-thread.js';
import type { BackfillResult } from '../backfill/engine.js';
import type { SourceSpec } from '../backfill/sources.js';
import type { LoadedConfig } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Precision } from '../core/point.js';
import type { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import { createFlusher, createWriter } from '../worker.js';

/** Pending backfill rows above which the decoding thread gets no credit until the sender catches up. */
const HIGH_WATER = 200_000;

/**
 * Decode in a worker thread (decode-thread.ts); here, commit each chunk with the checkpoint
 * (one transaction) and hand back a credit, so decoding, SQLite and HTTP overlap.
 */
export function decodeInThread(
  plan: { spec: SourceSpec; job: string },
  outbox: SqliteOutbox,
  precision: Precision,
  signal: AbortSignal,
  show: (progress: number, points: number) => void,
  sender: ReturnType<typeof startSender> | null,
): Promise<BackfillResult> {
  const init: DecodeThreadInit = { spec: plan.spec, checkpoint: outbox.checkpoint(plan.job), precision };
  const thread = new Worker(new URL('../backfill/decode-thread.js', import.meta.url), { workerData: init });
  const onAbort = () => thread.postMessage({ type: 'stop' } satisfies ToDecodeThread);
  signal.addEventListener('abort', onAbort, { once: true });
  return new Promise<BackfillResult>((resolve, reject) => {
    let done = false;
    const credit = () => {
      if (sender && sender.backlog() > HIGH_WATER && !signal.aborted) return void setTimeout(credit, 20);
      thread.postMessage({ type: 'credit' } satisfies ToDecodeThread);
    };
    thread.on('message', (m: FromDecodeThread) => {
      try {
        if (m.type === 'chunk') {
          const { ids } = outbox.appendWithCheckpoint(m.lines, precision, plan.job, m.position);
          sender?.committed(m.lines, ids);
          show(m.progress, m.points);
          credit();
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
}

export interface SenderResult {
  delivered: number;
  deadLettered: number;
  error?: string;
}

/** Direct requests in flight at once (see startSender). */
const DIRECT_IN_FLIGHT = 2;

/** A chunk just committed, still in memory: sent from here rather than read back from SQLite. */
interface FreshChunk {
  lines: string[];
  ids: [number, number];
}

/**
 * Sends the backfill while decoding goes on. The happy path sends each committed chunk from
 * memory (its rows are in the outbox, acked after the 2xx), so the rows are not read back from
 * SQLite. The first answer that is not ok hands everything to the flusher (it splits, bisects,
 * dead-letters, backs off), as do rows an interrupted run left behind (sent at the end).
 * Stops the run (abort) when InfluxDB refuses for good (401/403/404).
 */
export function startSender(outbox: SqliteOutbox, influx: NonNullable<LoadedConfig['config']['influx']>, precision: Precision, log: Logger, stop: AbortController) {
  const flusher = createFlusher(outbox, influx, systemClock, log.child({ room: 'backfill-flusher' }));
  const writer = createWriter(influx);
  const abandon = new AbortController();
  const out: SenderResult = { delivered: 0, deadLettered: 0 };
  const fresh: FreshChunk[] = [];
  let direct = true;
  let decodingDone = false;
  let halt = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    wake?.();
    wake = null;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** Fresh chunks up to batchSize lines (at least one). */
  const take = (): { lines: string[]; ids: number[] } => {
    const lines: string[] = [];
    const ids: number[] = [];
    while (fresh.length > 0 && (lines.length === 0 || lines.length + fresh[0]!.lines.length <= influx.batchSize)) {
      const c = fresh.shift()!;
      for (const l of c.lines) lines.push(l);
      for (let id = c.ids[0]; id <= c.ids[1]; id++) ids.push(id);
    }
    return { lines, ids };
  };

  /** One direct request: acked when ok; anything else hands over to the flusher. */
  const send = async (batch: { lines: string[]; ids: number[] }): Promise<void> => {
    const outcome = await writer.write(batch.lines, precision, abandon.signal).catch((err: unknown) => ({ kind: 'retry' as const, status: null, message: String(err) }));
    if (outcome.kind === 'ok') {
      // A failed ack only means the rows are sent again later: identical points overwrite.
      try {
        outbox.ack(batch.ids);
      } catch (err) {
        log.warn({ err: String(err) }, 'backfill: ack failed; those points will be sent again');
      }
      out.delivered += batch.lines.length;
      return;
    }
    // The rows are in the outbox: from here on the flusher handles them, with its rules.
    log.debug({ status: outcome.status, message: 'message' in outcome ? outcome.message : '' }, 'backfill: direct write not ok; the flusher takes over');
    direct = false;
    fresh.length = 0;
  };

  const loop = (async () => {
    let failures = 0;
    const inFlight = new Set<Promise<void>>();
    while (!halt) {
      // Backfill points are independent of each other (each has its own timestamp), so two
      // requests may be in flight: InfluxDB works on one while the other travels.
      if (direct && fresh.length > 0 && inFlight.size < DIRECT_IN_FLIGHT) {
        const p: Promise<void> = send(take()).finally(() => {
          inFlight.delete(p);
          poke();
        });
        inFlight.add(p);
        continue;
      }
      if (inFlight.size > 0 || (direct && !decodingDone)) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      const r = await flusher.drain();
      out.delivered += r.delivered;
      out.deadLettered += r.deadLettered;
      if (!r.complete) {
        if (halt) break;
        if (r.outcome?.kind === 'fatal') {
          out.error = r.stoppedBecause ?? 'refused';
          stop.abort();
          break;
        }
        failures++;
        await sleep(flusher.backoffMs(failures, r.outcome?.kind === 'retry' ? r.outcome.retryAfterMs : 0));
        continue;
      }
      failures = 0;
      if (r.delivered + r.deadLettered === 0) {
        if (decodingDone) break;
        await sleep(10);
      }
    }
    // Stopped (interrupt): let the requests in flight end; their rows stay unless acked.
    await Promise.allSettled(inFlight);
  })();
  return {
    /** A chunk was committed with these row ids. */
    committed(lines: string[], ids: [number, number] | null): void {
      if (!direct || !ids) return;
      fresh.push({ lines, ids });
      poke();
    },
    /** Pending rows not yet sent (for the decoding thread's credits). */
    backlog: () => outbox.stats().rows,
    async finish(interrupted: boolean): Promise<SenderResult> {
      decodingDone = true;
      if (interrupted) {
        halt = true;
        setTimeout(() => abandon.abort(), 3000).unref();
        await flusher.stop();
      }
      poke();
      await loop;
      await flusher.stop();
      await writer.close().catch(() => undefined);
      return out;
    },
  };
}

