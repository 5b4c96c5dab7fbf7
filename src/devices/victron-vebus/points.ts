/**
 * One poll's exchanges → one reading → points. Shared by the live session and by
 * decodeCapture, so a re-decoded poll gives the same points as the live one.
 *
 * The assembler is fed (request, reply) pairs in wire order and knows each by its request:
 * `X 36 <id>` var info, `F 06 <ids>` snapshot trigger, `F 0…4` info, `X 38` snapshot,
 * `L` LEDs, and `X 30 <id>` after the trigger = the ESS set-point read (the scan's `X 30`
 * reads come before any trigger).
 */
import { FrameError } from '../../core/errors.js';
import { int, msToNs, type FieldValue, type Point } from '../../core/point.js';
import { decodeAcInfo, decodeDcInfo, decodeLeds, decodeRamRead, decodeSnapshot, decodeVarInfo, int16, round, type AcInfo, type DcInfo, type Leds, type VebusFrame } from './codec.js';
import type { FieldProblem } from '../problems.js';
import { CMD, DEFAULT_VAR_INFO, DEVICE_STATES, INFO_SNAPSHOT, LED_NAMES, LETTERS, MARKER_COMMAND, RAM, WCMD, type VarInfo } from './tables.js';

export const MEASUREMENT = 'vebus';

export interface VebusReading {
  ac: AcInfo[];
  dc: DcInfo;
  /** Scaled snapshot values by RAM id. */
  snapshot: Map<number, number>;
  leds: Leds;
  /** The ESS set-point, W, + = charge the battery (the `ess-power` sign), when read. */
  essSetpointW?: number;
}

export class PollAssembler {
  readonly infos: Record<number, VarInfo>;
  /** What could not be understood without costing the poll (a 0x36 answer with no usable scale). */
  readonly problems: FieldProblem[] = [];
  private snapshotIds: number[] | undefined;
  private readonly ac: AcInfo[] = [];
  private dc: DcInfo | undefined;
  private snapshot: Map<number, number> | undefined;
  private leds: Leds | undefined;
  private essSetpointW: number | undefined;

  constructor(infos: Readonly<Record<number, VarInfo>> = {}) {
    this.infos = { ...DEFAULT_VAR_INFO, ...infos };
  }

  /** One request and its reply (undefined for requests that get none). Throws FrameError for an unusable reply. */
  exchange(request: Uint8Array, reply: VebusFrame | undefined): void {
    if (request.length < 4 || request[1] !== MARKER_COMMAND) return; // raw sleep/wake frames
    const cmd = request[2]!;
    if (cmd === CMD.info) {
      const n = request[3]!;
      if (n === INFO_SNAPSHOT) this.snapshotIds = [...request.subarray(4, request.length - 1)];
      else if (reply && n === 0) this.dc = decodeDcInfo(reply, this.infos);
      else if (reply && n <= 4) this.ac.push(decodeAcInfo(reply, this.infos));
      return;
    }
    if (cmd === CMD.led && reply) {
      this.leds = decodeLeds(reply);
      return;
    }
    if (!(LETTERS as readonly number[]).includes(cmd) || !reply) return;
    const wcmd = request[3]!;
    if (wcmd === WCMD.getRamVarInfo) {
      const id = request[4]! | (request[5]! << 8);
      const info = varInfoOrProblem(id, reply, this.problems);
      if (info) this.infos[id] = info;
    } else if (wcmd === WCMD.readSnapshot) {
      if (!this.snapshotIds) throw new FrameError('snapshot read (X 38) without a trigger (F 06) before it', 'unexpected');
      this.snapshot = decodeSnapshot(reply, this.snapshotIds, this.infos);
    } else if (wcmd === WCMD.readRamVar && this.snapshotIds) {
      const values = decodeRamRead(reply);
      // The RAM holds the negated set-point (§3.4).
      if (values) this.essSetpointW = 0 - int16(values[0]) || 0; // no −0
    }
  }

  /** The poll's reading; throws FrameError naming what is missing. */
  reading(): VebusReading {
    const missing: string[] = [];
    if (this.ac.length === 0) missing.push('AC info L1');
    if (!this.dc) missing.push('DC info');
    if (!this.snapshot) missing.push('snapshot');
    if (!this.leds) missing.push('LED status');
    if (missing.length > 0) throw new FrameError(`incomplete poll: no ${missing.join(', ')}`, 'truncated');
    const r: VebusReading = { ac: [...this.ac].sort((a, b) => a.phase - b.phase), dc: this.dc!, snapshot: this.snapshot!, leds: this.leds! };
    if (this.essSetpointW !== undefined) r.essSetpointW = this.essSetpointW;
    return r;
  }
}

/**
 * One 0x36 answer: its info, undefined when the device does not know the variable, or when
 * the answer gives no usable scale (a problem is added; the default scale stays in force).
 */
export function varInfoOrProblem(id: number, reply: VebusFrame, problems: FieldProblem[]): VarInfo | undefined {
  try {
    return decodeVarInfo(reply);
  } catch (err) {
    if (!(err instanceof FrameError)) throw err;
    problems.push({ reason: 'bad scale', detail: `RAM id ${id}: ${err.message}; using the default scale` });
    return undefined;
  }
}

export interface PointContext {
  device: string;
  tags: Record<string, string>;
}

/**
 * The device point (no phase tag) and one point per AC phase (tag phase=L1…L4), all at
 * timeMs. Signs: see README.md (inverter power + = DC→AC, battery current + = charging).
 */
export function readingToPoints(r: VebusReading, ctx: PointContext, timeMs: number, problems: FieldProblem[] = []): Point[] {
  const time = msToNs(timeMs);
  const base = { ...ctx.tags, device: ctx.device };
  const s = r.snapshot;
  const fields: Record<string, FieldValue> = { phases: int(r.ac.length) };
  const state = r.ac[0]!.state;
  // A byte outside the state table is not a state (a MultiPlus 24/3000 sent 0xB7).
  if (state < DEVICE_STATES.length) fields.state = int(state);
  else problems.push({ reason: 'unknown state', detail: `state byte 0x${state.toString(16).toUpperCase()} is not in the state table (0…${DEVICE_STATES.length - 1})` });
  const batV = s.get(RAM.uBat);
  const batA = s.get(RAM.iBat);
  if (batV !== undefined) fields.battery_v = round(batV, 3);
  if (batA !== undefined) fields.battery_a = round(batA, 3);
  if (batV !== undefined && batA !== undefined) fields.battery_w = Math.round(batV * batA);
  const soc = s.get(RAM.chargeState);
  if (soc !== undefined) fields.soc_pct = round(soc * 100, 2);
  const inv = s.get(RAM.inverterPower);
  // The original's inv_p = −raw15: + while inverting (battery → AC).
  if (inv !== undefined) fields.inverter_power_w = inv === 0 ? 0 : -inv;
  const out = s.get(RAM.outputPower);
  if (out !== undefined) fields.output_power_w = out;
  fields.dc_charger_a = r.dc.chargerA;
  fields.dc_inverter_a = r.dc.inverterA;
  if (r.dc.inverterHz !== undefined) fields.inverter_hz = r.dc.inverterHz;
  fields.leds_on = int(r.leds.on);
  fields.leds_blink = int(r.leds.blink);
  const lit = r.leds.on | r.leds.blink; // on OR blink (the original added them)
  LED_NAMES.forEach((name, bit) => (fields[`led_${name}`] = int((lit >> bit) & 1)));
  if (r.essSetpointW !== undefined) fields.ess_setpoint_w = r.essSetpointW;

  const points: Point[] = [{ measurement: MEASUREMENT, tags: base, fields, time }];
  for (const ac of r.ac) {
    const f: Record<string, FieldValue> = { mains_v: ac.mainsV, mains_a: ac.mainsA, inverter_v: ac.inverterV, inverter_a: ac.inverterA };
    if (ac.mainsHz !== undefined) f.mains_hz = ac.mainsHz;
    points.push({ measurement: MEASUREMENT, tags: { ...base, phase: `L${ac.phase}` }, fields: f, time });
  }
  return points;
}
