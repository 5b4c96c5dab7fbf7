/**
 * decodeCapture for HDHK (docs/capture.md): the records of one poll (FC03 requests as sent, reply
 * frames as the RTU port framed them) back into the poll's points, with the current options
 * (a changed ctRatio, circuit or phase applies to old captures). Every point of a poll carries
 * the time of its first record, as the live session stamps them.
 *
 * Registers 0-2 (firmware, ranges) are read once per connection, so most polls do not hold
 * them: what a decode run saw is kept per DecodeContext object for the polls after it.
 */
import type { Point } from '../../core/point.js';
import type { CaptureRecord, DecodeContext, DecodeResult } from '../types.js';
import { decodeChannels, decodeInfo, wordsFromBytes, type UnitInfo } from './codec.js';
import { crcOk } from './framer.js';
import type { HdhkOptions } from './config.js';
import { phaseSums, unitToPoints, type UnitReading } from './points.js';
import { CURRENT, FC_READ_HOLDING, FREQUENCY, INFO } from './tables.js';

const infoSeen = new WeakMap<object, Map<number, UnitInfo | null>>();

interface Request {
  unit: number;
  start: number;
  count: number;
}

export function decodeHdhkCapture(records: readonly CaptureRecord[], ctx: DecodeContext<HdhkOptions>): DecodeResult {
  const errors: string[] = [];
  if (records.length === 0) return { points: [], errors: ['empty poll'] };
  const timeMs = records[0]!.timeMs;
  let info = infoSeen.get(ctx);
  if (!info) infoSeen.set(ctx, (info = new Map()));
  const currents = new Map<number, { words: number[]; frequency?: number[] }>();
  let pending: Request | null = null;

  records.forEach((r, i) => {
    const where = `record ${i + 1} (${r.direction} ${r.data.toString('hex')})`;
    const f = r.data;
    if (r.direction === 'tx') {
      if (f.length !== 8 || f[1] !== FC_READ_HOLDING || !crcOk(f)) {
        errors.push(`${where}: not an FC03 request with a good CRC`);
        pending = null;
        return;
      }
      if (pending) errors.push(`unit ${pending.unit}, registers ${pending.start}-${pending.start + pending.count - 1}: no reply in the capture`);
      pending = { unit: f[0]!, start: f.readUInt16BE(2), count: f.readUInt16BE(4) };
      return;
    }
    const req: Request | null = pending;
    pending = null;
    if (!req) return void errors.push(`${where}: a reply without a request`);
    if (!crcOk(f)) return void errors.push(`${where}: bad CRC`);
    if (f[0] !== req.unit) return void errors.push(`${where}: reply from unit ${f[0]}, asked unit ${req.unit}`);
    if (f[1] === (FC_READ_HOLDING | 0x80)) {
      if (req.start === INFO.start)
        info.set(req.unit, null); // refuses 0-2, still reports currents (as live)
      else errors.push(`unit ${req.unit}: Modbus exception ${f[2]}`);
      return;
    }
    if (f[1] !== FC_READ_HOLDING || f[2] !== req.count * 2 || f.length !== 5 + req.count * 2) return void errors.push(`${where}: not a reply to ${req.count} registers`);
    const words = wordsFromBytes(f.subarray(3, 3 + req.count * 2));
    try {
      if (req.start === INFO.start && req.count === INFO.count) info.set(req.unit, decodeInfo(words));
      else if (req.start === CURRENT.start && (req.count === CURRENT.count || req.count === CURRENT.count + FREQUENCY.count)) {
        const c: { words: number[]; frequency?: number[] } = { words: words.slice(0, CURRENT.count) };
        if (req.count > CURRENT.count) c.frequency = words.slice(CURRENT.count);
        currents.set(req.unit, c);
      } else errors.push(`${where}: registers ${req.start}-${req.start + req.count - 1} are not ones this driver reads`);
    } catch (err) {
      errors.push(`${where}: ${(err as Error).message}`);
    }
  });
  if (pending) {
    const p: Request = pending;
    errors.push(`unit ${p.unit}, registers ${p.start}-${p.start + p.count - 1}: no reply in the capture`);
  }

  const readings: UnitReading[] = [];
  for (const unit of ctx.options.units) {
    const c = currents.get(unit.id);
    if (!c) continue;
    currents.delete(unit.id);
    const ratio = (ch: number) => unit.channels[String(ch)]?.ctRatio ?? unit.ctRatio;
    const freq = ctx.options.frequency === 'read' ? c.frequency : undefined;
    readings.push({ unit, info: info.get(unit.id) ?? undefined, channels: decodeChannels(c.words, ratio, freq), timeMs });
  }
  for (const id of currents.keys()) errors.push(`unit ${id}: not in the device's options.units (skipped)`);
  const pc = { device: ctx.device, tags: ctx.tags };
  const points: Point[] = [];
  for (const r of readings) points.push(...unitToPoints(r, pc));
  if (readings.length > 0) points.push(...phaseSums(readings, pc, timeMs));
  return { points, errors };
}
