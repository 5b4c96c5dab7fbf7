/**
 * dsmr-p1: DSMR 2.2 to 5 / ESMR 5 P1 smart meters (NL), e-MUCS (BE), Smarty (LU), the
 * Swedish/Nordic HAN profile (Sagemcom T211) and their M-Bus gas, water and heat meters.
 * Layers: framer.ts (bytes -> telegrams) -> codec.ts (telegram -> values) -> points.ts;
 * session.ts keeps the port open. See README.md beside this file.
 */
import type { Point } from '../../core/point.js';
import type { FieldProblem } from '../problems.js';
import type { DecodeContext, DecodeResult, Driver } from '../types.js';
import { dsmrP1Fields } from './fields.js';
import { decodeP1Capture } from './capture.js';
import { decodeTelegram } from './codec.js';
import { p1OptionsSchema, p1SerialSettings, type P1Options } from './config.js';
import { P1Framer, type FramerEvent } from './framer.js';
import { telegramToPoints } from './points.js';
import { P1Session } from './session.js';

export type { P1Options } from './config.js';

/**
 * A telegram log (one telegram or many, CR LF or LF, anything between them skipped) ->
 * points, and one line per problem: `telegram 3 (line 57): CRC mismatch: ...`.
 * Telegrams count from 1 in the order they start; lines are lines of the input.
 */
export function decodeTelegramLog(input: Buffer, ctx: DecodeContext<P1Options>): DecodeResult {
  const options = ctx.options;
  const framer = new P1Framer(options.maxTelegramBytes);
  const points: Point[] = [];
  const errors: string[] = [];
  const lines = new LineCounter(input);
  let n = 0;
  const nowMs = ctx.clock.now();
  // The latest a meter clock in the log may say; backfill stubs ctx.clock at 0 (its marker for
  // "no device clock"), so the system clock counts too.
  const decodedAtMs = Math.max(nowMs, Date.now());

  const handle = (ev: FramerEvent) => {
    n++;
    if (ev.kind === 'drop') {
      errors.push(`telegram ${n} (line ${lines.at(ev.at)}): ${ev.detail}`);
      return;
    }
    const t = decodeTelegram(ev.text, { timezone: options.timezone });
    const first = lines.at(ev.start);
    for (const e of t.errors) errors.push(`telegram ${n} (line ${first + e.line - 1}): ${e.message}`);
    const problems: FieldProblem[] = [];
    points.push(...telegramToPoints(t, { device: ctx.device, tags: ctx.tags, options, receivedAtMs: nowMs, decodedAtMs, problems }));
    for (const p of problems) errors.push(`telegram ${n} (line ${first + (p.line ?? 1) - 1}): ${p.detail}`);
  };
  for (const ev of framer.feed(input)) handle(ev);
  for (const ev of framer.flush()) handle(ev);
  if (n === 0) errors.push(`no telegram found (${input.length} bytes; a telegram starts with '/' and ends with '!')`);
  return { points, errors };
}

/** Byte offset -> 1-based line number, for offsets asked in increasing order. */
class LineCounter {
  private offset = 0;
  private line = 1;
  constructor(private readonly input: Buffer) {}
  at(offset: number): number {
    if (offset < this.offset) {
      this.offset = 0;
      this.line = 1;
    }
    for (let i = this.input.indexOf(0x0a, this.offset); i >= 0 && i < offset; i = this.input.indexOf(0x0a, i + 1)) this.line++;
    this.offset = offset;
    // Lines before `offset` are counted; keep counting from there next time.
    return this.line;
  }
}

export const dsmrP1Driver: Driver<P1Options> = {
  id: 'dsmr-p1',
  fields: dsmrP1Fields,
  description: 'DSMR/ESMR P1 smart meter (NL, BE e-MUCS, LU Smarty, SE/T211 HAN) with its M-Bus gas/water/heat meters; receive only',
  kind: 'stream',
  options: p1OptionsSchema,
  defaultSerial: p1SerialSettings,
  createSession: (ctx) => new P1Session(ctx),
  decode: decodeTelegramLog,
  decodeCapture: decodeP1Capture,
};
