/**
 * Readings -> points:
 * - `hdhk`: one series per reported channel; tags device, unit (Modbus id), unit_name (when
 *   configured), channel (1…16), circuit, phase (when configured); fields current_a,
 *   apparent_power_va (when a voltage is configured), frequency_hz (when read), range_a
 *   (the channel's current range from register 1 or 2), firmware;
 * - `hdhk_phase`: per bus and phase, the sums over the channels with that phase whose unit
 *   answered; channels (integer) says how many went into the sum.
 */
import { int, msToNs, type FieldValue, type Point } from '../../core/point.js';
import { channelRange, type ChannelReading, type UnitInfo } from './codec.js';
import type { HdhkUnitOptions } from './config.js';

export const MEASUREMENT = 'hdhk';
export const PHASE_MEASUREMENT = 'hdhk_phase';

export interface UnitReading {
  unit: HdhkUnitOptions;
  /** undefined when registers 0-2 could not be read (the unit answered them with an exception). */
  info: UnitInfo | undefined;
  channels: ChannelReading[];
  /** When the reply arrived, Unix ms. */
  timeMs: number;
}

export interface PointContext {
  device: string;
  tags: Record<string, string>;
}

type Tags = Record<string, string>;

/**
 * A series' tags, made once per context (a session keeps one) and unit config (or phase) and
 * frozen: the same object every poll, which the line encoder recognises and does not escape
 * again (issue 24). Weak: they go with the session.
 */
const tagSets = new WeakMap<PointContext, WeakMap<object, Map<number | string, Tags>>>();

function tagsOnce(ctx: PointContext, owner: object, key: number | string, make: () => Tags): Tags {
  let byOwner = tagSets.get(ctx);
  if (!byOwner) tagSets.set(ctx, (byOwner = new WeakMap()));
  let sets = byOwner.get(owner);
  if (!sets) byOwner.set(owner, (sets = new Map()));
  let tags = sets.get(key);
  if (!tags) sets.set(key, (tags = Object.freeze(make())));
  return tags;
}

// Indexed loops on the per-poll path: see codec.ts expectWords.
export function unitToPoints(r: UnitReading, ctx: PointContext): Point[] {
  const points: Point[] = [];
  const time = msToNs(r.timeMs);
  for (let i = 0; i < r.channels.length; i++) {
    const reading = r.channels[i]!;
    const ch = r.unit.channels[String(reading.channel)];
    if (!ch || !ch.enabled) continue;
    const tags = tagsOnce(ctx, r.unit, reading.channel, () => {
      const t: Tags = { ...ctx.tags, device: ctx.device, unit: String(r.unit.id), channel: String(reading.channel), circuit: ch.circuit };
      if (r.unit.name !== undefined) t.unit_name = r.unit.name;
      if (ch.phase !== undefined) t.phase = ch.phase;
      return t;
    });
    const fields: Record<string, FieldValue> = { current_a: reading.currentA };
    if (ch.voltageV !== undefined) fields.apparent_power_va = round2(reading.currentA * ch.voltageV);
    if (reading.frequencyHz !== undefined) fields.frequency_hz = reading.frequencyHz;
    if (r.info) {
      fields.range_a = int(channelRange(r.info, reading.channel));
      fields.firmware = r.info.firmware;
    }
    points.push({ measurement: MEASUREMENT, tags, fields, time });
  }
  return points;
}

/** Per-phase sums over every unit that answered this poll; no point for a phase with no channel. */
export function phaseSums(readings: readonly UnitReading[], ctx: PointContext, timeMs: number): Point[] {
  // The phases in the order first seen, each with its sums (a bus has one to three).
  const phases: string[] = [];
  const sums: { current: number; va: number; withVoltage: number; channels: number }[] = [];
  for (let u = 0; u < readings.length; u++) {
    const r = readings[u]!;
    for (let i = 0; i < r.channels.length; i++) {
      const reading = r.channels[i]!;
      const ch = r.unit.channels[String(reading.channel)];
      if (!ch || !ch.enabled || ch.phase === undefined) continue;
      let at = phases.indexOf(ch.phase);
      if (at < 0) {
        at = phases.push(ch.phase) - 1;
        sums.push({ current: 0, va: 0, withVoltage: 0, channels: 0 });
      }
      const s = sums[at]!;
      s.current += reading.currentA;
      s.channels++;
      if (ch.voltageV !== undefined) {
        s.va += reading.currentA * ch.voltageV;
        s.withVoltage++;
      }
    }
  }
  const time = msToNs(timeMs);
  // Code-unit order (L1 < L2 < L3), not localeCompare: its first call maps ~2 MB of ICU collation data (issue 24).
  const sorted = phases.length > 1 ? phases.slice().sort() : phases;
  const points = new Array<Point>(sorted.length);
  for (let p = 0; p < sorted.length; p++) {
    const phase = sorted[p]!;
    const s = sums[phases.indexOf(phase)]!;
    const fields: Record<string, FieldValue> = { current_a: round5(s.current), channels: int(s.channels) };
    if (s.withVoltage > 0) fields.apparent_power_va = round2(s.va);
    points[p] = { measurement: PHASE_MEASUREMENT, tags: tagsOnce(ctx, ctx, phase, () => ({ ...ctx.tags, device: ctx.device, phase })), fields, time };
  }
  return points;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
function round5(v: number): number {
  return Math.round(v * 1e5) / 1e5;
}
