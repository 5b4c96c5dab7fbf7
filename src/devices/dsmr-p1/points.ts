/**
 * Telegram -> points:
 * - `p1`: tags device (+ the config's extra tags); one field per decoded OBIS value;
 * - `p1_mbus`: one per M-Bus device, tags device, channel, mbus_type (gas, water, heat...).
 *
 * Time: when the telegram arrived ('collection'), or the meter's clock ('meter': 0-0:1.0.0
 * for `p1`, each M-Bus reading's own timestamp for `p1_mbus`, falling back to the meter's
 * clock and then to the arrival time when a telegram has no clock, as DSMR 2.2/3).
 *
 * A meter clock is believed only within `meterClockWindowMs` of the arrival time (M-Bus
 * readings may also be up to MBUS_MAX_AGE_MS older: a gas meter out of reach repeats its last
 * reading); otherwise the arrival time is used and the substitution is a FieldProblem, never
 * silent. Without a real arrival time (a log decoded now) only clocks before DSMR existed or
 * after "now" are refused.
 */
import { int, msToNs, type FieldValue, type Point } from '../../core/point.js';
import type { Telegram } from './codec.js';
import type { FieldProblem } from '../problems.js';
import type { P1Options } from './config.js';
import { mbusTypeName, type FieldGroup } from './tables.js';

export const MEASUREMENT = 'p1';
const NONE: ReadonlySet<FieldGroup> = new Set();
export const MBUS_MEASUREMENT = 'p1_mbus';

export interface PointContext {
  device: string;
  tags: Record<string, string>;
  options: Pick<P1Options, 'timestamps' | 'exclude' | 'meterClockWindowMs'>;
  /** When the telegram arrived (Unix ms): the 'collection' timestamp. */
  receivedAtMs: number;
  /**
   * A log decoded later has no arrival times: then this is the latest time a meter clock may
   * say (the decode time), and receivedAtMs only the fallback stamp.
   */
  decodedAtMs?: number;
  /** Where substituted timestamps are reported. */
  problems?: FieldProblem[];
}

/** DSMR 2.2 (2008) is the oldest P1 there is: an earlier meter clock is a reset clock. */
const P1_EPOCH_MS = Date.UTC(2008, 0, 1);
/** How much older than its telegram an M-Bus reading may be (a gas meter out of reach). */
const MBUS_MAX_AGE_MS = 31 * 86_400_000;

/** The meter's time when it is plausible, else the arrival (or decode) time with a problem. */
function believed(ms: number, sent: { text: string; line: number } | undefined, what: string, maxAgeMs: number, ctx: PointContext): number {
  const window = ctx.options.meterClockWindowMs;
  const arrival = ctx.receivedAtMs;
  if (window === 0) return ms;
  const log = ctx.decodedAtMs !== undefined;
  const ref = log ? ctx.decodedAtMs! : arrival;
  const from = log ? P1_EPOCH_MS : arrival - window - maxAgeMs;
  if (ms >= from && ms <= ref + window) return ms;
  const hours = Math.round((ms - ref) / 360_000) / 10;
  const when = log ? 'the decode time' : 'the arrival time';
  ctx.problems?.push({
    reason: 'implausible meter clock',
    detail: `${what} ${sent?.text ?? ''} (${new Date(ms).toISOString()}) is ${Math.abs(hours)} h ${hours < 0 ? 'before' : 'after'} ${when}; ${log ? 'a log has no arrival time: the decode time is used' : 'the arrival time is used'}`,
    line: sent?.line,
  });
  return arrival;
}

export function telegramToPoints(t: Telegram, ctx: PointContext): Point[] {
  const excluded: ReadonlySet<FieldGroup> = ctx.options.exclude.length > 0 ? new Set(ctx.options.exclude) : NONE;
  const useMeter = ctx.options.timestamps === 'meter';
  const telegramMs = useMeter && t.meterTime !== undefined ? believed(t.meterTime, t.clockTexts?.get('meter'), '0-0:1.0.0', 0, ctx) : ctx.receivedAtMs;
  const points: Point[] = [];

  const fields: Record<string, FieldValue> = {};
  let any = false;
  for (const v of t.values) {
    if (excluded.size > 0 && excluded.has(v.group)) continue;
    fields[v.field] = v.type === 'int' ? int(v.value as number) : v.value;
    any = true;
  }
  if (any) points.push({ measurement: MEASUREMENT, tags: { ...ctx.tags, device: ctx.device }, fields, time: msToNs(telegramMs) });

  if (excluded.has('mbus')) return points;
  for (const m of t.mbus) {
    const f: Record<string, FieldValue> = {};
    if (m.readingField !== undefined && m.reading !== undefined) f[m.readingField] = m.reading;
    if (m.valve !== undefined && !excluded.has('status')) f.valve_position = int(m.valve);
    if (m.equipmentId !== undefined && !excluded.has('info')) f.equipment_id = m.equipmentId;
    let ms = ctx.receivedAtMs;
    if (useMeter) ms = m.readingTime === undefined ? telegramMs : believed(m.readingTime, t.clockTexts?.get(m.channel), `M-Bus ${m.channel} reading time`, MBUS_MAX_AGE_MS, ctx);
    points.push({
      measurement: MBUS_MEASUREMENT,
      tags: { ...ctx.tags, device: ctx.device, channel: String(m.channel), mbus_type: mbusTypeName(m.deviceType) },
      fields: f,
      time: msToNs(ms),
    });
  }
  return points;
}
