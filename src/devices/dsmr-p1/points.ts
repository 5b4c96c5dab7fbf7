/**
 * Telegram -> points (STYLE #1):
 * - `p1`: tags device (+ the config's extra tags); one field per decoded OBIS value;
 * - `p1_mbus`: one per M-Bus device, tags device, channel, mbus_type (gas, water, heat...).
 *
 * Time: when the telegram arrived ('collection'), or the meter's clock ('meter': 0-0:1.0.0
 * for `p1`, each M-Bus reading's own timestamp for `p1_mbus`, falling back to the meter's
 * clock and then to the arrival time when a telegram has no clock, as DSMR 2.2/3).
 */
import { int, msToNs, type FieldValue, type Point } from '../../core/point.js';
import type { Telegram } from './codec.js';
import type { P1Options } from './config.js';
import { mbusTypeName, type FieldGroup } from './obis.js';

export const MEASUREMENT = 'p1';
const NONE: ReadonlySet<FieldGroup> = new Set();
export const MBUS_MEASUREMENT = 'p1_mbus';

export interface PointContext {
  device: string;
  tags: Record<string, string>;
  options: Pick<P1Options, 'timestamps' | 'exclude'>;
  /** When the telegram arrived (Unix ms): the 'collection' timestamp. */
  receivedAtMs: number;
}

export function telegramToPoints(t: Telegram, ctx: PointContext): Point[] {
  const excluded: ReadonlySet<FieldGroup> = ctx.options.exclude.length > 0 ? new Set(ctx.options.exclude) : NONE;
  const useMeter = ctx.options.timestamps === 'meter';
  const telegramMs = useMeter && t.meterTime !== undefined ? t.meterTime : ctx.receivedAtMs;
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
    const ms = useMeter ? (m.readingTime ?? telegramMs) : ctx.receivedAtMs;
    points.push({
      measurement: MBUS_MEASUREMENT,
      tags: { ...ctx.tags, device: ctx.device, channel: String(m.channel), mbus_type: mbusTypeName(m.deviceType) },
      fields: f,
      time: msToNs(ms),
    });
  }
  return points;
}
