/**
 * decodeCapture: the records of one poll (every frame sent and received, in order) → the
 * points the live session made from them, at the time of the poll's first record.
 *
 * Replies are matched to requests exactly as on the wire (link.ts: by command, info kind,
 * W/X/Y/Z letter); unsolicited frames are skipped. Scales come from the 0x36 exchanges in
 * the records: a connecting poll has them, and the session re-records them at the start of
 * every other poll. Records without them (archives from elsewhere) decode with the default
 * scales of tables.ts (DEFAULT_VAR_INFO), as the original assumed.
 */
import { FrameError, errorMessage } from '../../core/errors.js';
import type { CaptureRecord, DecodeContext, DecodeResult } from '../types.js';
import type { VebusFrame } from './codec.js';
import type { VebusOptions } from './config.js';
import { VebusFramer } from './framer.js';
import { expectationFor, type Expectation } from './link.js';
import { PollAssembler, readingToPoints } from './points.js';

export function decodeVebusCapture(records: readonly CaptureRecord[], ctx: DecodeContext<VebusOptions>): DecodeResult {
  if (records.length === 0) return { points: [], errors: [] };
  const t0 = records[0]!.timeMs;
  const where = `poll at ${new Date(t0).toISOString()}`;
  const framer = new VebusFramer();
  const asm = new PollAssembler();
  let pending: { tx: Buffer; expect: Expectation } | undefined;
  let unanswered = 0;
  const errors: string[] = [];
  try {
    for (const rec of records) {
      if (rec.direction === 'tx') {
        if (pending) unanswered++;
        const expect = expectationFor(rec.data);
        pending = expect ? { tx: rec.data, expect } : undefined;
        if (!expect) asm.exchange(rec.data, undefined);
        continue;
      }
      for (const ev of framer.feed(rec.data)) {
        if (ev.kind === 'drop') continue;
        const f: VebusFrame = ev.frame;
        if (pending && pending.expect.matches(f)) {
          asm.exchange(pending.tx, f);
          pending = undefined;
        }
      }
    }
    if (pending) unanswered++;
    const reading = asm.reading();
    const points = readingToPoints(reading, { device: ctx.device, tags: ctx.tags }, t0, asm.problems);
    for (const p of asm.problems) errors.push(`${where}: ${p.detail}`);
    return { points, errors };
  } catch (err) {
    const detail = err instanceof FrameError ? err.message : errorMessage(err);
    errors.push(`${where}: ${detail}${unanswered ? ` (${unanswered} request${unanswered > 1 ? 's' : ''} without a reply)` : ''}`);
    return { points: [], errors };
  }
}
