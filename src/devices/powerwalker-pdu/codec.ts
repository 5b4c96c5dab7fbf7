/**
 * PowerWalker PDU RC-16A (PI90) replies and control commands (docs/protocols/powerwalker.md §1.3-§1.6).
 * Pure: payload text (after `(`) → values, arguments → command strings. Every reply is
 * checked for its field count and every field for its form, so a stale reply to an earlier
 * command is refused rather than misread (§1.9).
 */
import { FrameError } from '../../core/errors.js';
import { decimal, integer, show, statusString, tokens } from '../powerwalker/codec.js';

export const OUTLETS = 8;

/** QGS status string positions 0-7 (§1.5), as field names; 6 and 7 are unused. */
export const ALARM_FLAGS = ['alarm_low_input_v', 'alarm_high_input_v', 'alarm_low_input_a', 'alarm_high_input_a', 'alarm_aux1_power_fail', 'alarm_aux2_power_fail'] as const;
export type AlarmFlag = (typeof ALARM_FLAGS)[number];

/** Outlet status codes (§1.5). */
export const OUTLET_STATUS = ['off', 'on', 'shutdown active', 'shutdown imminent', 'restore active', 'overload alarm', 'locked'] as const;

export interface Status {
  alarms: Record<AlarmFlag, number>;
  /** The eight alarm/unused bits of positions 0-7 as one integer, position 0 the highest bit. */
  alarmBits: number;
  /** Per outlet 1..8, the digit as sent: 0-6 are OUTLET_STATUS, 7-9 unknown (points.ts leaves those out). */
  outletStatus: number[];
  inputV: number;
  inputHz: number;
  inputA: number;
  outletA: number[];
  temperatureC: number;
}

/** `QGS`: 16-character status string, then 12 numbers (§1.3). */
export function decodeStatus(payload: string): Status {
  const t = tokens(payload, 13, 'QGS');
  const s = statusString(t[0]!, 16, /[0-9]/, 'QGS');
  for (let i = 0; i < 8; i++) if (s[i] !== '0' && s[i] !== '1') throw new FrameError(`QGS: alarm flag ${i} is ${show(s[i]!)}, expected 0 or 1`, 'syntax');
  // An unknown status digit costs only that outlet's status field, not the reply.
  const outletStatus = [...s.slice(8)].map(Number);
  const n = t.slice(1).map((x, i) => decimal(x, 'QGS', `field ${i + 1}`));
  const alarms = Object.fromEntries(ALARM_FLAGS.map((k, i) => [k, Number(s[i])])) as Record<AlarmFlag, number>;
  return {
    alarms,
    alarmBits: Number.parseInt(s.slice(0, 8), 2),
    outletStatus,
    inputV: n[0]!,
    inputHz: n[1]!,
    inputA: n[2]!,
    outletA: n.slice(3, 11),
    temperatureC: n[11]!,
  };
}

/** `QPW` / `QPVA`: input, then outlets 1-8, whole W or VA. */
export function decodePowers(payload: string, command: 'QPW' | 'QPVA'): { input: number; outlets: number[] } {
  const n = tokens(payload, 9, command).map((x, i) => integer(x, command, i === 0 ? 'input' : `outlet ${i}`));
  return { input: n[0]!, outlets: n.slice(1) };
}

/** `QEC`: input, then outlets 1-8, kWh. */
export function decodeEnergy(payload: string): { input: number; outlets: number[] } {
  const n = tokens(payload, 9, 'QEC').map((x, i) => decimal(x, 'QEC', i === 0 ? 'input' : `outlet ${i}`));
  return { input: n[0]!, outlets: n.slice(1) };
}

export interface Countdown {
  shutdownS: number;
  restoreS: number;
}

/**
 * `QSR`: three tokens per outlet. The first is unused; the shutdown countdown is the first 4
 * characters of the second, the restore countdown the first 6 of the third, in seconds (§1.3).
 */
export function decodeCountdowns(payload: string): Countdown[] {
  const t = tokens(payload, 3 * OUTLETS, 'QSR');
  const out: Countdown[] = [];
  for (let o = 0; o < OUTLETS; o++) {
    const k = 3 * o;
    out.push({
      shutdownS: integer(t[k + 1]!.slice(0, 4), 'QSR', `outlet ${o + 1} shutdown countdown`),
      restoreS: integer(t[k + 2]!.slice(0, 6), 'QSR', `outlet ${o + 1} restore countdown`),
    });
  }
  return out;
}

/** `QMD`: six tokens, kept as the device sends them (§1.7). */
export interface ModelInfo {
  model: string;
  inOutPhase: string;
  nominalInputV: number;
  nominalOutputV: number;
  inputSockets: number;
  outputSockets: number;
}

export function decodeModel(payload: string): ModelInfo {
  const t = tokens(payload, 6, 'QMD');
  return {
    model: t[0]!,
    inOutPhase: t[1]!,
    nominalInputV: integer(t[2]!, 'QMD', 'nominal input voltage'),
    nominalOutputV: integer(t[3]!, 'QMD', 'nominal output voltage'),
    inputSockets: integer(t[4]!, 'QMD', 'input sockets'),
    outputSockets: integer(t[5]!, 'QMD', 'output sockets'),
  };
}

// ---- memory map (§1.6) ----

/** Address nibbles A-F travel as `:;<=>?` (0x30 + value), in both directions. */
const QUIRK = ':;<=>?';

export const MEMORY_MAX = 14;

/** `QGM` + `0` + the address as one nibble in the device's 0x30+value form: 10 → `QGM0:`. */
export function memoryCommand(address: number): string {
  if (!Number.isInteger(address) || address < 0 || address > MEMORY_MAX) throw new RangeError(`memory address ${address} is not 0-${MEMORY_MAX}`);
  return `QGM0${String.fromCharCode(0x30 + address)}`;
}

/** Memory addresses 0 and 9-14: one 16-bit value (§1.6). */
export const MEMORY_WORDS: Record<number, { key: string; unit: string; scale: number }> = {
  0: { key: 'output_start_up_delay', unit: 's', scale: 1 },
  9: { key: 'low_input_voltage_alarm', unit: 'V', scale: 1 },
  10: { key: 'high_input_voltage_alarm', unit: 'V', scale: 1 },
  11: { key: 'max_input_voltage_shutoff', unit: 'V', scale: 1 },
  12: { key: 'low_input_current_alarm', unit: 'A', scale: 0.1 },
  13: { key: 'high_input_current_alarm', unit: 'A', scale: 0.1 },
  14: { key: 'shutdown_imminent_signal', unit: 'min', scale: 1 },
};

export type MemoryValue =
  | { address: number; kind: 'word'; key: string; raw: number; value: number; unit: string; disabled: boolean }
  | {
      address: number;
      kind: 'outlet';
      outlet: number;
      config: number;
      /** bit0: on at power-on; bit1 set: no automatic disconnect after an overload; bit2: front button enabled. */
      onAtPowerOn: boolean;
      overloadDisconnect: boolean;
      buttonEnabled: boolean;
      currentAlarmA: number;
    };

function hexDigits(s: string, address: number): number {
  const h = [...s].map((c) => {
    const q = QUIRK.indexOf(c);
    return q >= 0 ? 'ABCDEF'[q]! : c;
  });
  const text = h.join('');
  if (!/^[0-9A-Fa-f]+$/.test(text)) throw new FrameError(`QGM (address ${address}): not hex: ${show(s)}`, 'syntax');
  return Number.parseInt(text, 16);
}

/** The reply to `memoryCommand(address)`: characters 2-5 hold the value (0-1 are not known, §1.6). */
export function decodeMemory(payload: string, address: number): MemoryValue {
  const p = payload.trim();
  if (p.length < 6) throw new FrameError(`QGM (address ${address}): reply of ${p.length} characters, expected at least 6: ${show(p)}`, 'length');
  if (address >= 1 && address <= OUTLETS) {
    const config = hexDigits(p.slice(2, 4), address);
    return {
      address,
      kind: 'outlet',
      outlet: address,
      config,
      onAtPowerOn: (config & 1) !== 0,
      overloadDisconnect: (config & 2) === 0,
      buttonEnabled: (config & 4) !== 0,
      currentAlarmA: hexDigits(p.slice(4, 6), address) / 10,
    };
  }
  const spec = MEMORY_WORDS[address];
  if (!spec) throw new RangeError(`memory address ${address} is not 0-${MEMORY_MAX}`);
  const raw = hexDigits(p.slice(2, 6), address);
  return { address, kind: 'word', key: spec.key, raw, value: Math.round(raw * spec.scale * 10) / 10, unit: spec.unit, disabled: raw === 0xffff };
}

// ---- control encoding (§1.4) ----

export type Outlet = number | 'A';

function outletCode(o: Outlet): string {
  if (o === 'A') return 'A';
  if (!Number.isInteger(o) || o < 1 || o > OUTLETS) throw new RangeError(`outlet ${o} is not 1-${OUTLETS} or A`);
  return String(o);
}

/**
 * The two-character shutdown delay: `00` immediately (the original sent nothing for 0, §1.4),
 * `.1`-`.9` for 0.1-0.9 min, `01`-`99` for whole minutes. `tenths` is the delay in 0.1 min.
 */
export function shutdownDelayCode(tenths: number): string {
  if (tenths === 0) return '00';
  if (Number.isInteger(tenths) && tenths >= 1 && tenths <= 9) return `.${tenths}`;
  if (Number.isInteger(tenths) && tenths % 10 === 0 && tenths >= 10 && tenths <= 990) return String(tenths / 10).padStart(2, '0');
  throw new RangeError(`shutdown delay ${tenths / 10} min is not 0, 0.1-0.9 or 1-99`);
}

/** `S,<o><SS>`, or with a restore delay (0 = one second, 1-9999 min) `S,<o><SS>R<RRRR>`. */
export function shutdownCommand(outlet: Outlet, delayTenths: number, restoreMin?: number): string {
  const base = `S,${outletCode(outlet)}${shutdownDelayCode(delayTenths)}`;
  if (restoreMin === undefined) return base;
  if (!Number.isInteger(restoreMin) || restoreMin < 0 || restoreMin > 9999) throw new RangeError(`restore delay ${restoreMin} is not 0-9999`);
  return `${base}R${String(restoreMin).padStart(4, '0')}`;
}

export function cancelCommand(outlet: Outlet): string {
  return `CS,${outletCode(outlet)}`;
}

export const TEST_COMMAND = 'TP';
export const ENERGY_CLEAR_COMMAND = 'CEC';
/** The original MQTT script's switching recipe (§1.4): off = shutdown in 0.1 min; on = that, then restore after 1 s. */
export const SWITCH_DELAY_TENTHS = 1;
