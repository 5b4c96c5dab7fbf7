/**
 * One backfill run (docs/capture.md): decode units of input (capture groups or pieces of a telegram
 * log) → line protocol → a sink, in chunks, each with the position of its last unit (the CLI's
 * sink sends them and moves the run's checkpoint over the ones settled). A run that
 * was interrupted (SIGTERM, SIGKILL, power) decodes from the beginning again (decoders may
 * carry state from earlier polls, e.g. HDHK's info registers) but commits only what comes
 * after its checkpoint; a finished run forgets its checkpoint, so running it again sends the
 * same points with the same timestamps, which InfluxDB overwrites.
 */
import { encodePoints } from '../core/line-protocol.js';
import type { Precision } from '../core/point.js';
import type { DecodeResult } from '../devices/types.js';

export interface BackfillUnit {
  /** Increasing; the checkpoint. */
  position: number;
  /** For error lines: `capture 1234…1240`, `p1.log lines 1-900`. */
  where: string;
  /** How far the run is after this unit, in the source's progress unit. */
  progress: number;
  decode(): DecodeResult;
}

export interface BackfillSink {
  /** Commit lines and the checkpoint together (a promise: the next chunk waits for it). */
  commit(lines: string[], position: number, progress: number): void | Promise<void>;
  /** The checkpoint of an interrupted run, or null. */
  checkpoint(): number | null;
  finished(): void;
  /** Pending backfill rows (back-pressure while a sender drains them), or null when nobody sends. */
  pending(): number | null;
}

export interface BackfillFailure {
  where: string;
  errors: string[];
}

export interface BackfillResult {
  units: number;
  points: number;
  /** Units skipped because an earlier run had committed them. */
  resumed: number;
  resumedFrom: number | null;
  /** Units whose decoding reported problems (their good points still went). */
  failed: number;
  /** Problems reported (a unit of a telegram log may hold several broken telegrams). */
  problems: number;
  failures: BackfillFailure[];
  interrupted: boolean;
}

export interface BackfillOptions {
  units: Iterable<BackfillUnit>;
  sink: BackfillSink;
  precision: Precision;
  signal?: AbortSignal;
  onProgress?: (progress: number, points: number) => void;
  /** Lines per transaction. */
  chunkLines?: number;
  /** Most failures listed in full (all are counted). */
  listFailures?: number;
  /** Pending backfill rows above which decoding waits for the sender. */
  highWater?: number;
}

/** Longest stretch of synchronous decoding between two looks at I/O, ms. */
const YIELD_EVERY_MS = 5;
const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runBackfill(o: BackfillOptions): Promise<BackfillResult> {
  const chunkLines = o.chunkLines ?? 1000;
  const listFailures = o.listFailures ?? 50;
  const highWater = o.highWater ?? 200_000;
  const from = o.sink.checkpoint();
  const result: BackfillResult = { units: 0, points: 0, resumed: 0, resumedFrom: from, failed: 0, problems: 0, failures: [], interrupted: false };
  let lines: string[] = [];
  let lastPosition: number | null = null;
  let lastProgress = 0;
  let lastYield = performance.now();

  const commit = async () => {
    if (lastPosition === null) return;
    const chunk = lines;
    lines = [];
    await o.sink.commit(chunk, lastPosition, lastProgress);
    lastPosition = null;
    // Let the sender's requests (same process) go out; wait while it is far behind.
    await yieldToIo();
    for (let pending = o.sink.pending(); pending !== null && pending > highWater && !o.signal?.aborted; pending = o.sink.pending()) await sleep(20);
  };

  for (const unit of o.units) {
    if (o.signal?.aborted) {
      result.interrupted = true;
      break;
    }
    const decoded = unit.decode();
    result.units++;
    if (from !== null && unit.position <= from) {
      result.resumed++;
    } else {
      result.problems += decoded.errors.length;
      if (decoded.errors.length > 0) {
        result.failed++;
        if (result.failures.length < listFailures) result.failures.push({ where: unit.where, errors: decoded.errors });
      }
      const { lines: encoded, dropped } = encodePoints(decoded.points, o.precision);
      if (dropped.length > 0) {
        const failure = { where: unit.where, errors: dropped.map((d) => `${d.scope} dropped: ${d.reason}`) };
        if (decoded.errors.length === 0) result.failed++;
        result.problems += dropped.length;
        if (result.failures.length < listFailures) result.failures.push(failure);
      }
      for (const l of encoded) lines.push(l);
      result.points += encoded.length;
      lastPosition = unit.position;
      lastProgress = unit.progress;
      if (lines.length >= chunkLines) await commit();
    }
    o.onProgress?.(unit.progress, result.points);
    // Decoding is synchronous: every few ms let the sender's responses, its next request and
    // signals in, so InfluxDB works on one batch while we decode the next.
    if (performance.now() - lastYield >= YIELD_EVERY_MS) {
      await yieldToIo();
      lastYield = performance.now();
    }
  }
  await commit();
  if (!result.interrupted) o.sink.finished();
  return result;
}
