/**
 * Readings → points: one `ups` point per poll; tags device, ups (and mfr, model,
 * serial with `info: tags`); fields from tables.ts: standard variables with their unit,
 * `status` (the raw ups.status), one 0/1 integer per status flag, other numeric variables
 * under sanitised names (floats).
 */
import { int, msToNs, type FieldValue, type Point } from '../../core/point.js';
import type { Decoded, DeviceInfo } from './tables.js';

export const MEASUREMENT = 'ups';

export interface UpsReading {
  ups: string;
  decoded: Decoded;
  info: DeviceInfo;
  /** When the reply arrived, Unix ms. */
  timeMs: number;
}

export interface PointContext {
  device: string;
  tags: Record<string, string>;
  infoTags: boolean;
}

export function readingToPoint(r: UpsReading, ctx: PointContext): Point | undefined {
  const tags: Record<string, string> = { ...ctx.tags, device: ctx.device, ups: r.ups };
  if (ctx.infoTags) {
    for (const key of ['mfr', 'model', 'serial'] as const) {
      const v = r.info[key];
      if (v) tags[key] = v;
    }
  }
  const fields: Record<string, FieldValue> = {};
  for (const [name, f] of Object.entries(r.decoded.fields)) {
    if (f.type === 'int') fields[name] = int(f.value as number);
    else fields[name] = f.value;
  }
  if (r.decoded.status) {
    fields.status = r.decoded.status.raw;
    for (const [name, on] of Object.entries(r.decoded.status.flags)) fields[name] = int(on);
  }
  if (Object.keys(fields).length === 0) return undefined;
  return { measurement: MEASUREMENT, tags, fields, time: msToNs(r.timeMs) };
}
