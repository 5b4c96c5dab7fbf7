/**
 * One ATS poll's replies → points (live session and decodeCapture share this):
 * - `ats` (tags device): load_pct, output_a, sync_angle_deg, temperature_c (float);
 *   status_bits (int, all 24 QAS bits, position 0 highest), active_source (int 1 or 2, 0 when
 *   neither bit is set), preferred_source (int 1 or 2), and the non-source flags
 *   syncron_bad, aux_pwr1_fail, aux_pwr2_fail, short_fault, overload_fault, overload_alarm,
 *   on_fault_mode (int 0/1);
 * - `ats_source` (tags device, source 1|2): voltage_v, frequency_hz (float); voltage_bad,
 *   freq_bad, wave_bad, active, preferred (int 0/1);
 * - `ats_info` (first poll of each connection): protocol, firmware (string), rated_output_v,
 *   rated_output_a, rated_output_hz, battery_v (float, when the ATS reports them).
 */
import { int, msToNs, type FieldValue, type Point } from '../../core/point.js';
import { decodeFirmware, decodeProtocolId } from '../powerwalker/codec.js';
import { decodeAts, decodeAtsStatus, decodeRatings, type AtsRatings, type AtsReading, type AtsStatus } from './codec.js';

export const MEASUREMENT = 'ats';
export const SOURCE_MEASUREMENT = 'ats_source';
export const INFO_MEASUREMENT = 'ats_info';

export interface AtsPoll {
  reading?: AtsReading;
  status?: AtsStatus;
  protocol?: string;
  ratings?: AtsRatings;
  firmware?: string;
}

type Key = keyof AtsPoll;
type Cmd = { key: Key; command: string; decode: (payload: string) => unknown };

/** `status()` of the original: QATS then QAS (§1.5). */
export const POLL_COMMANDS: readonly Cmd[] = [
  { key: 'reading', command: 'QATS', decode: decodeAts },
  { key: 'status', command: 'QAS', decode: decodeAtsStatus },
];

export const INFO_COMMANDS: readonly Cmd[] = [
  { key: 'ratings', command: 'QRI', decode: decodeRatings },
  { key: 'firmware', command: 'QVFW', decode: decodeFirmware },
];

export const READ_COMMANDS = new Map([...POLL_COMMANDS, ...INFO_COMMANDS, { key: 'protocol' as Key, command: 'QPI', decode: decodeProtocolId }].map((c) => [c.command, c]));

const OUTPUT_FLAGS = ['syncron_bad', 'aux_pwr1_fail', 'aux_pwr2_fail', 'short_fault', 'overload_fault', 'overload_alarm', 'on_fault_mode'] as const;

export function atsPoints(poll: AtsPoll, ctx: { device: string; tags: Record<string, string> }, timeMs: number): Point[] {
  const time = msToNs(timeMs);
  const base = { ...ctx.tags, device: ctx.device };
  const points: Point[] = [];
  const r = poll.reading;
  const st = poll.status?.flags;

  const out: Record<string, FieldValue> = {};
  if (r) Object.assign(out, { load_pct: r.loadPct, output_a: r.outputA, sync_angle_deg: r.syncAngleDeg, temperature_c: r.temperatureC });
  if (poll.status && st) {
    out.status_bits = int(poll.status.bits);
    out.active_source = int(st.on_src1 ? 1 : st.on_src2 ? 2 : 0);
    out.preferred_source = int(st.preferred_src2 ? 2 : 1);
    for (const k of OUTPUT_FLAGS) out[k] = int(st[k]);
  }
  if (Object.keys(out).length > 0) points.push({ measurement: MEASUREMENT, tags: base, fields: out, time });

  for (const n of [1, 2] as const) {
    const f: Record<string, FieldValue> = {};
    const s = r?.sources[n - 1];
    if (s) Object.assign(f, { voltage_v: s.voltageV, frequency_hz: s.frequencyHz });
    if (st) {
      const p = `src${n}` as const;
      Object.assign(f, {
        voltage_bad: int(st[`${p}_voltage_bad`]),
        freq_bad: int(st[`${p}_freq_bad`]),
        wave_bad: int(st[`${p}_wave_bad`]),
        active: int(st[`on_${p}`]),
        // "preferred_src2" is the only preference bit: source 1 is preferred when it is 0 [inferred].
        preferred: int(n === 2 ? st.preferred_src2 : 1 - st.preferred_src2),
      });
    }
    if (Object.keys(f).length > 0) points.push({ measurement: SOURCE_MEASUREMENT, tags: { ...base, source: String(n) }, fields: f, time });
  }

  if (poll.ratings || poll.firmware) {
    const f: Record<string, FieldValue> = {};
    if (poll.protocol) f.protocol = poll.protocol;
    if (poll.firmware) f.firmware = poll.firmware;
    const g = poll.ratings;
    if (g?.ratedOutputV !== undefined) f.rated_output_v = g.ratedOutputV;
    if (g?.ratedOutputA !== undefined) f.rated_output_a = g.ratedOutputA;
    if (g?.ratedOutputHz !== undefined) f.rated_output_hz = g.ratedOutputHz;
    if (g?.batteryV !== undefined) f.battery_v = g.batteryV;
    points.push({ measurement: INFO_MEASUREMENT, tags: base, fields: f, time });
  }
  return points;
}
