/**
 * One PDU poll's replies → points (the live session and decodeCapture share this, so a
 * re-decoded capture gives the same points):
 * - `pdu` (tags device): input_v, input_hz, input_a, temperature_c (float), input_w,
 *   input_va (int), input_kwh (float), the six alarm flags and alarm_bits (int);
 * - `pdu_outlet` (tags device, outlet 1-8): current_a (float), power_w, apparent_power_va
 *   (int), energy_kwh (float), status (int 0-6), shutdown_countdown_s, restore_countdown_s (int);
 * - `pdu_info` (first poll of each connection): protocol, model, firmware, in_out_phase
 *   (string), nominal_input_v, nominal_output_v, input_sockets, output_sockets (int).
 */
import { int, msToNs, type FieldValue, type Point } from '../../core/point.js';
import { decodeFirmware, decodeProtocolId } from '../powerwalker/codec.js';
import type { FieldProblem } from '../problems.js';
import { decodeCountdowns, decodeEnergy, decodeModel, decodePowers, decodeStatus, OUTLET_STATUS, OUTLETS, type Countdown, type ModelInfo, type Status } from './codec.js';

export const MEASUREMENT = 'pdu';
export const OUTLET_MEASUREMENT = 'pdu_outlet';
export const INFO_MEASUREMENT = 'pdu_info';

export interface PduPoll {
  status?: Status;
  watts?: { input: number; outlets: number[] };
  va?: { input: number; outlets: number[] };
  energy?: { input: number; outlets: number[] };
  countdowns?: Countdown[];
  protocol?: string;
  model?: ModelInfo;
  firmware?: string;
}

type Key = keyof PduPoll;

/** The commands of every poll, in the order they are sent (§1.3). */
export const POLL_COMMANDS: readonly { key: Key; command: string; decode: (payload: string) => unknown }[] = [
  { key: 'status', command: 'QGS', decode: decodeStatus },
  { key: 'watts', command: 'QPW', decode: (p) => decodePowers(p, 'QPW') },
  { key: 'va', command: 'QPVA', decode: (p) => decodePowers(p, 'QPVA') },
  { key: 'energy', command: 'QEC', decode: decodeEnergy },
  { key: 'countdowns', command: 'QSR', decode: decodeCountdowns },
];

/** Read once per connection, on its first poll. */
export const INFO_COMMANDS: readonly { key: Key; command: string; decode: (payload: string) => unknown }[] = [
  { key: 'model', command: 'QMD', decode: decodeModel },
  { key: 'firmware', command: 'QVFW', decode: decodeFirmware },
];

/** Every read-only command a capture may hold, by its request text. */
export const READ_COMMANDS = new Map([...POLL_COMMANDS, ...INFO_COMMANDS, { key: 'protocol' as Key, command: 'QPI', decode: decodeProtocolId }].map((c) => [c.command, c]));

export interface PointContext {
  device: string;
  tags: Record<string, string>;
}

export function pduPoints(poll: PduPoll, ctx: PointContext, timeMs: number, problems: FieldProblem[] = []): Point[] {
  const time = msToNs(timeMs);
  const base = { ...ctx.tags, device: ctx.device };
  const points: Point[] = [];

  const input: Record<string, FieldValue> = {};
  const s = poll.status;
  if (s) {
    Object.assign(input, { input_v: s.inputV, input_hz: s.inputHz, input_a: s.inputA, temperature_c: s.temperatureC, alarm_bits: int(s.alarmBits) });
    for (const [k, v] of Object.entries(s.alarms)) input[k] = int(v);
  }
  if (poll.watts) input.input_w = int(poll.watts.input);
  if (poll.va) input.input_va = int(poll.va.input);
  if (poll.energy) input.input_kwh = poll.energy.input;
  if (Object.keys(input).length > 0) points.push({ measurement: MEASUREMENT, tags: base, fields: input, time });

  for (let o = 0; o < OUTLETS; o++) {
    const f: Record<string, FieldValue> = {};
    if (s) {
      f.current_a = s.outletA[o]!;
      const code = s.outletStatus[o]!;
      if (code < OUTLET_STATUS.length) f.status = int(code);
      else problems.push({ reason: 'unknown outlet status', detail: `outlet ${o + 1}: status code ${code} is not in the table (0-${OUTLET_STATUS.length - 1})` });
    }
    if (poll.watts) f.power_w = int(poll.watts.outlets[o]!);
    if (poll.va) f.apparent_power_va = int(poll.va.outlets[o]!);
    if (poll.energy) f.energy_kwh = poll.energy.outlets[o]!;
    const c = poll.countdowns?.[o];
    if (c) {
      f.shutdown_countdown_s = int(c.shutdownS);
      f.restore_countdown_s = int(c.restoreS);
    }
    if (Object.keys(f).length > 0) points.push({ measurement: OUTLET_MEASUREMENT, tags: { ...base, outlet: String(o + 1) }, fields: f, time });
  }

  if (poll.model || poll.firmware) {
    const f: Record<string, FieldValue> = {};
    if (poll.protocol) f.protocol = poll.protocol;
    if (poll.firmware) f.firmware = poll.firmware;
    const m = poll.model;
    if (m) {
      Object.assign(f, {
        model: m.model,
        in_out_phase: m.inOutPhase,
        nominal_input_v: int(m.nominalInputV),
        nominal_output_v: int(m.nominalOutputV),
        input_sockets: int(m.inputSockets),
        output_sockets: int(m.outputSockets),
      });
    }
    points.push({ measurement: INFO_MEASUREMENT, tags: base, fields: f, time });
  }
  return points;
}
