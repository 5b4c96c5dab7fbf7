/**
 * Captured records → the driver's decodeCapture, grouped as the contract says (types.ts):
 * a poll driver gets the records of one collect() (one cycle id) together, a stream driver
 * one record per call. Generic over Driver: a new driver with decodeCapture needs nothing here.
 */
import { withoutImplausible } from '../devices/problems.js';
import type { CaptureRecord, DecodeContext, DecodeResult, Driver } from '../devices/types.js';

export interface ReplayRecord extends CaptureRecord {
  cycle: number | null;
  /** Increasing position in the source (archive id, file line): the checkpoint. */
  position: number;
  /** Where it came from, for error lines: `capture 1234`, `file.jsonl:57`. */
  where: string;
}

export interface ReplayGroup {
  records: ReplayRecord[];
  /** Position of the group's last record. */
  position: number;
  where: string;
}

/** Records (in capture order) → the groups decodeCapture is called with. */
export function* groupRecords(driver: Driver, records: Iterable<ReplayRecord>): Generator<ReplayGroup> {
  let group: ReplayRecord[] = [];
  const emit = (): ReplayGroup => {
    const g = group;
    group = [];
    const first = g[0]!.where;
    const last = g[g.length - 1]!;
    return { records: g, position: last.position, where: g.length === 1 ? first : `${first}…${last.where.replace(/^.*:(?=\d+$)/, '')}` };
  };
  for (const r of records) {
    if (driver.kind === 'stream') {
      group.push(r);
      yield emit();
      continue;
    }
    // A poll's records share a cycle id; a record without one is a poll of its own.
    if (group.length > 0 && (r.cycle === null || r.cycle !== group[0]!.cycle)) yield emit();
    group.push(r);
  }
  if (group.length > 0) yield emit();
}

/** decodeCapture for one group; a decoder that throws is that group's error, not the run's. */
export function decodeGroup<O>(driver: Driver<O>, group: ReplayGroup, ctx: DecodeContext<O>): DecodeResult {
  try {
    const decoded = driver.decodeCapture!(group.records, ctx);
    // The live worker's rule: a reading outside its declared physical range is left out, and said.
    const plausible = withoutImplausible(decoded.points, driver.fields);
    return plausible.problems.length === 0 ? decoded : { points: plausible.points, errors: [...decoded.errors, ...plausible.problems.map((p) => `out of range: ${p.detail}`)] };
  } catch (err) {
    return { points: [], errors: [`decoder failed: ${(err as Error).message}`] };
  }
}
