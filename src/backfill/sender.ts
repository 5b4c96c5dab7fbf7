/**
 * The running backfill's sender: decoded chunks straight from memory to InfluxDB, through the
 * same Writer the flusher uses; the first answer that is not ok hands everything to the
 * flusher over the backfill outbox (docs/capture.md, "How a backfill runs": why two ways in).
 */
import type { Logger } from '../core/log.js';
import type { Precision } from '../core/point.js';
import type { Flusher } from '../influx/flusher.js';
import type { Writer } from '../influx/types.js';
import type { SqliteOutbox } from '../outbox/sqlite-outbox.js';

export interface SenderResult {
  delivered: number;
  deadLettered: number;
  error?: string;
}

/** Direct requests in flight at once (see startSender). */
const DIRECT_IN_FLIGHT = 2;

/** A decoded chunk on its way: `settled(true)` once InfluxDB took it, `settled(false)` for the outbox. */
interface FreshChunk {
  lines: string[];
  settled: (sent: boolean) => void;
}

/**
 * Sends the backfill while decoding goes on. The happy path sends each decoded chunk straight
 * from memory; the checkpoint moves past it after the 2xx (the captures or the input file stay
 * where they are, so nothing is lost: an interrupted run decodes the unsettled chunks again).
 * The first answer that is not ok puts that chunk, the waiting ones and all that follow into
 * the backfill outbox, where the flusher's rules apply (split, bisect, dead letters, back-off);
 * rows an earlier run left there are sent at the end. Stops the run (abort) when InfluxDB
 * refuses for good (401/403/404).
 */
export function startSender(
  outbox: SqliteOutbox,
  /** The backfill outbox's flusher and a writer to the same InfluxDB (assembly/delivery.ts). */
  delivery: { flusher: Flusher; writer: Writer; batchSize: number },
  precision: Precision,
  log: Logger,
  stop: AbortController,
) {
  const { flusher, writer, batchSize } = delivery;
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
  const take = (): { lines: string[]; chunks: FreshChunk[] } => {
    const lines: string[] = [];
    const chunks: FreshChunk[] = [];
    while (fresh.length > 0 && (lines.length === 0 || lines.length + fresh[0]!.lines.length <= batchSize)) {
      const c = fresh.shift()!;
      for (const l of c.lines) lines.push(l);
      chunks.push(c);
    }
    return { lines, chunks };
  };

  /** One direct request: its chunks settled as sent when ok; anything else hands over to the outbox and flusher. */
  const send = async (batch: { lines: string[]; chunks: FreshChunk[] }): Promise<void> => {
    const outcome = await writer.write(batch.lines, precision, abandon.signal).catch((err: unknown) => ({ kind: 'retry' as const, status: null, message: String(err) }));
    if (outcome.kind === 'ok') {
      out.delivered += batch.lines.length;
      settle(batch.chunks, true);
      return;
    }
    // From here on everything goes through the outbox and the flusher's rules (split, bisect,
    // dead letters, back-off): this batch, the chunks waiting, and those still to come.
    log.debug({ status: outcome.status, message: 'message' in outcome ? outcome.message : '' }, 'backfill: direct write not ok; the flusher takes over');
    direct = false;
    settle([...batch.chunks, ...fresh.splice(0)], false);
  };
  /** The outbox failing here (disk full) stops the run; what is not settled is decoded again next time. */
  const settle = (chunks: readonly FreshChunk[], sent: boolean) => {
    try {
      for (const c of chunks) c.settled(sent);
    } catch (err) {
      out.error ??= `backfill outbox: ${String(err)}`;
      halt = true;
      stop.abort();
    }
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
    /** Take a decoded chunk to send from memory; false once sending goes through the outbox. */
    offer(lines: string[], settled: (sent: boolean) => void): boolean {
      if (!direct || halt) return false;
      fresh.push({ lines, settled });
      poke();
      return true;
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

export type BackfillSender = ReturnType<typeof startSender>;
