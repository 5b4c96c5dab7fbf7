/**
 * decodeCapture for P1 (docs/capture.md): each archived record is one telegram as it arrived (the
 * session captures the framed text with its arrival time). It goes through the framer again,
 * so an edited or damaged record is caught by its CRC, and its points carry the record's
 * time, or the meter's clock with `timestamps: meter`, as the live session stamps them.
 */
import type { Point } from '../../core/point.js';
import type { FieldProblem } from '../problems.js';
import type { CaptureRecord, DecodeContext, DecodeResult } from '../types.js';
import { decodeTelegram } from './codec.js';
import type { P1Options } from './config.js';
import { P1Framer } from './framer.js';
import { telegramToPoints } from './points.js';

export function decodeP1Capture(records: readonly CaptureRecord[], ctx: DecodeContext<P1Options>): DecodeResult {
  const points: Point[] = [];
  const errors: string[] = [];
  for (const r of records) {
    if (r.direction !== 'rx') continue; // P1 is receive only; nothing we sent means anything
    const framer = new P1Framer(ctx.options.maxTelegramBytes);
    const events = [...framer.feed(r.data), ...framer.flush()];
    if (events.length === 0) errors.push(`no telegram in the record (${r.data.length} bytes; a telegram starts with '/' and ends with '!')`);
    for (const ev of events) {
      if (ev.kind === 'drop') {
        errors.push(ev.detail);
        continue;
      }
      const t = decodeTelegram(ev.text, { timezone: ctx.options.timezone });
      for (const e of t.errors) errors.push(`telegram line ${e.line}: ${e.message}`);
      const problems: FieldProblem[] = [];
      points.push(...telegramToPoints(t, { device: ctx.device, tags: ctx.tags, options: ctx.options, receivedAtMs: r.timeMs, problems }));
      for (const p of problems) errors.push(`telegram line ${p.line ?? 1}: ${p.detail}`);
    }
  }
  return { points, errors };
}
