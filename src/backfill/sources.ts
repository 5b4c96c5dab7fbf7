/**
 * What a backfill reads, as BackfillUnits: capture records (from the archive or a capture
 * file) grouped for decodeCapture, or a plain telegram log cut into pieces for decode().
 */
import { systemClock } from '../core/clock.js';
import { ConfigError, InputError } from '../core/errors.js';
import type { Point } from '../core/point.js';
import { findDriver } from '../devices/index.js';
import type { DecodeContext, Driver } from '../devices/types.js';
import { openCaptureStore, type CaptureQuery } from '../outbox/capture-store.js';
import { HeldOpen } from './held.js';
import { parseInput, readInputFile } from './input.js';
import type { BackfillUnit } from './engine.js';
import { decodeGroup, groupRecords, type ReplayRecord } from './replay.js';

/** Capture records → units (progress counted in records). */
export function* recordUnits<O>(driver: Driver<O>, records: Iterable<ReplayRecord>, ctx: DecodeContext<O>): Generator<BackfillUnit> {
  let done = 0;
  for (const group of groupRecords(driver, records)) {
    done += group.records.length;
    yield { position: group.position, where: group.where, progress: done, decode: () => decodeGroup(driver, group, ctx) };
  }
}

/** Bytes per piece of a plain log (cut before a line that starts a telegram). */
const PIECE_BYTES = 64 * 1024;
const LINE_REF = /\(line (\d+)\)/g;

/**
 * A plain telegram log (P1: telegrams one after another) → pieces for driver.decode(), cut
 * before a line beginning with '/' (a telegram's first character), so no telegram is split;
 * progress and positions are byte offsets. The points must carry the device's own clock
 * (`timestamps: meter`): decode() is given a clock stuck at 0, and a point stamped 0 is a
 * telegram without a clock, reported, not written with the time of the backfill.
 */
export function* plainUnits<O>(driver: Driver<O>, input: Buffer, name: string, ctx: DecodeContext<O>): Generator<BackfillUnit> {
  const noClock: DecodeContext<O> = { ...ctx, clock: { now: () => 0, nowNs: () => 0n, sleep: ctx.clock.sleep } };
  // Safe cut points are known for P1 telegram logs only; other drivers' plain input is decoded whole.
  const cuttable = driver.id === 'dsmr-p1';
  let start = 0;
  let firstLine = 1;
  while (start < input.length) {
    let end = input.length;
    if (cuttable && start + PIECE_BYTES < input.length) {
      const cut = input.indexOf('\n/', start + PIECE_BYTES);
      if (cut >= 0) end = cut + 1;
    }
    const piece = input.subarray(start, end);
    const lines = countLines(piece);
    const pieceFirst = firstLine;
    const where = `${name} lines ${pieceFirst}-${pieceFirst + Math.max(0, lines - 1)}`;
    yield {
      position: end,
      where,
      progress: end,
      decode: () => {
        let r: ReturnType<NonNullable<Driver<O>['decode']>>;
        try {
          r = driver.decode!(piece, noClock);
        } catch (err) {
          return { points: [], errors: [`decoder failed: ${(err as Error).message}`] };
        }
        const errors = r.errors.map((e) => e.replace(LINE_REF, (_, n: string) => `(line ${Number(n) + pieceFirst - 1})`));
        const points: Point[] = [];
        let clockless = 0;
        for (const p of r.points) {
          if (p.time === 0n) clockless++;
          else points.push(p);
        }
        if (clockless > 0) errors.push(`${clockless} points without the device's own clock (the telegram carries no time): not written`);
        return { points, errors };
      },
    };
    firstLine += lines;
    start = end;
  }
}

function countLines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(0x0a); i >= 0; i = b.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Where a backfill's units come from, as plain data (it crosses into the decoding thread). */
export interface SourceSpec {
  driver: string;
  device: string;
  options: unknown;
  tags: Record<string, string>;
  source:
    | { kind: 'archive'; path: string; query: CaptureQuery }
    | { kind: 'captures'; file: string; name: string; /** Picks this device's records (parseInput). */ device?: string; fromMs: number; toMs: number }
    | { kind: 'plain'; file: string; name: string };
}

/** The units a spec describes (the same in the CLI's thread and the decoding thread). */
export function buildUnits(spec: SourceSpec): { units: Iterable<BackfillUnit>; close(): void } {
  const driver = findDriver(spec.driver);
  if (!driver) throw new ConfigError(`unknown driver "${spec.driver}"`);
  const held = new HeldOpen();
  const ctx: DecodeContext<unknown> = { device: spec.device, options: spec.options, tags: spec.tags, clock: systemClock, held };
  const src = spec.source;
  if (src.kind === 'archive') {
    // Reading only: no retention here (that is the worker's), so the limits do not matter.
    const store = openCaptureStore(src.path, { maxAgeMs: Infinity, maxBytes: Number.MAX_SAFE_INTEGER });
    const records = (function* (): Generator<ReplayRecord> {
      for (const r of store.read(src.query)) yield { timeMs: r.timeMs, direction: r.direction, data: r.data, cycle: r.cycle, position: r.id, where: `capture ${r.id}` };
    })();
    return {
      units: recordUnits(driver, records, ctx),
      close: () => {
        held.close();
        store.close();
      },
    };
  }
  const data = readInputFile(src.file, 'backfill');
  if (src.kind === 'plain') return { units: plainUnits(driver, data, src.name, ctx), close: () => held.close() };
  const input = parseInput(data, src.name, driver, src.device);
  if (input.kind !== 'captures') throw new InputError(`${src.name}: not a capture file any more`);
  const records = input.records.filter((r) => r.timeMs >= src.fromMs && r.timeMs <= src.toMs);
  return { units: recordUnits(driver, records, ctx), close: () => held.close() };
}
