/**
 * PowerWalker ATS (PI97) replies (docs/protocols/powerwalker.md §1.5-§1.7): QATS (both sources, output),
 * QAS (24 status bits), QRI (ratings), GM (memory map 0-20). Pure: payload text → values.
 */
import { FrameError } from '../../core/errors.js';
import { decimal, integer, show, statusString, tokens } from '../powerwalker/codec.js';

export interface AtsReading {
  sources: { voltageV: number; frequencyHz: number }[];
  loadPct: number;
  outputA: number;
  syncAngleDeg: number;
  temperatureC: number;
}

/** `QATS`: src1 V, Hz, src2 V, Hz, load %, output A, sync angle, temperature °C. */
export function decodeAts(payload: string): AtsReading {
  const n = tokens(payload, 8, 'QATS').map((t, i) => decimal(t, 'QATS', `field ${i + 1}`));
  return {
    sources: [
      { voltageV: n[0]!, frequencyHz: n[1]! },
      { voltageV: n[2]!, frequencyHz: n[3]! },
    ],
    loadPct: n[4]!,
    outputA: n[5]!,
    syncAngleDeg: n[6]!,
    temperatureC: n[7]!,
  };
}

/** QAS positions 0-15 (§1.5); 16-23 are unused. */
export const ATS_STATUS_KEYS = [
  'src1_voltage_bad',
  'src1_freq_bad',
  'src1_wave_bad',
  'src2_voltage_bad',
  'src2_freq_bad',
  'src2_wave_bad',
  'on_src2',
  'on_src1',
  'preferred_src2',
  'syncron_bad',
  'aux_pwr1_fail',
  'aux_pwr2_fail',
  'short_fault',
  'overload_fault',
  'overload_alarm',
  'on_fault_mode',
] as const;
export type AtsStatusKey = (typeof ATS_STATUS_KEYS)[number];

export interface AtsStatus {
  flags: Record<AtsStatusKey, number>;
  /** All 24 characters as one integer, position 0 the highest bit. */
  bits: number;
}

/** `QAS`: exactly 24 characters of 0/1 (the original neither checked the length nor the characters). */
export function decodeAtsStatus(payload: string): AtsStatus {
  const [t] = tokens(payload, 1, 'QAS');
  const s = statusString(t!, 24, /[01]/, 'QAS');
  const flags = Object.fromEntries(ATS_STATUS_KEYS.map((k, i) => [k, Number(s[i])])) as Record<AtsStatusKey, number>;
  return { flags, bits: Number.parseInt(s, 2) };
}

/** `QRI`: rated output V, rated output A, battery V, rated output Hz; `---.-` where the ATS has none. */
export interface AtsRatings {
  ratedOutputV?: number;
  ratedOutputA?: number;
  batteryV?: number;
  ratedOutputHz?: number;
}

export function decodeRatings(payload: string): AtsRatings {
  const t = tokens(payload, 4, 'QRI');
  const opt = (s: string, what: string) => (/^-+\.?-*$/.test(s) ? undefined : decimal(s, 'QRI', what));
  const r: AtsRatings = {};
  const set = <K extends keyof AtsRatings>(k: K, v: number | undefined) => {
    if (v !== undefined) r[k] = v;
  };
  set('ratedOutputV', opt(t[0]!, 'rated output voltage'));
  set('ratedOutputA', opt(t[1]!, 'rated output current'));
  set('batteryV', opt(t[2]!, 'battery voltage'));
  set('ratedOutputHz', opt(t[3]!, 'rated output frequency'));
  return r;
}

export const ATS_MEMORY_MAX = 20;

/** GM addresses 0-20 (§1.6; names after the original, whose `src*_freq_low_high` is read as `_low_back`). */
export const ATS_MEMORY_KEYS = [
  'src1_voltage_high_loss',
  'src1_voltage_high_back',
  'src1_voltage_low_loss',
  'src1_voltage_low_back',
  'src1_freq_high_loss',
  'src1_freq_high_back',
  'src1_freq_low_loss',
  'src1_freq_low_back',
  'src2_voltage_high_loss',
  'src2_voltage_high_back',
  'src2_voltage_low_loss',
  'src2_voltage_low_back',
  'src2_freq_high_loss',
  'src2_freq_high_back',
  'src2_freq_low_loss',
  'src2_freq_low_back',
  'overload_alarm_pct',
  'overload_fault_pct',
  'acceptable_phases_deg',
  'breaking_time_ms',
  'blanking_time_ms',
] as const;

/** `GM` + the address as 4 decimal digits: 0 → `GM0000`. */
export function atsMemoryCommand(address: number): string {
  if (!Number.isInteger(address) || address < 0 || address > ATS_MEMORY_MAX) throw new RangeError(`memory address ${address} is not 0-${ATS_MEMORY_MAX}`);
  return `GM${String(address).padStart(4, '0')}`;
}

/** The reply to `atsMemoryCommand`: one decimal integer (README: GM0000 → 258). */
export function decodeAtsMemory(payload: string, address: number): { address: number; key: string; value: number } {
  const [t] = tokens(payload, 1, `GM${String(address).padStart(4, '0')}`);
  const key = ATS_MEMORY_KEYS[address];
  if (!key) throw new FrameError(`GM: address ${address} is not 0-${ATS_MEMORY_MAX}`, 'unexpected');
  return { address, key, value: integer(t!, 'GM', `address ${address} (${show(t!)})`) };
}
