/**
 * OBIS descriptors as data: one row per code the driver turns into a field.
 *
 * Sources: DSMR P1 Companion Standard 5.0.2 (NL) table 6.x, e-MUCS H 1.7.1 (BE, Fluvius),
 * Smarty P1 1.1 (LU), the Swedish "HAN port" list for the Sagemcom T211 (docs/protocols/dsmr-p1.md §5.4),
 * and dsmr_parser `obis_references.py` (E.ON HU, ESO LT, Sagemcom T210-D) for the rarer codes.
 *
 * `unit` is the unit the standard sends; the field's unit is the suffix of its name (docs/fields.md:
 * `_kwh`, `_w`, `_v`, ...). The codec converts what actually arrives into the field's unit by
 * moving the decimal point (kW -> W is x10^3, Wh -> kWh is x10^-3), so 1.727 kW is exactly
 * 1727 W, not 1726.9999999999998.
 */

/** Field groups a config can leave out (`exclude:`). */
export const FIELD_GROUPS = ['energy', 'power', 'phases', 'reactive', 'quality', 'demand', 'status', 'info', 'mbus'] as const;
export type FieldGroup = (typeof FIELD_GROUPS)[number];

/**
 * - float / int: a number (int: counters and codes, written with `i`);
 * - string: the text as sent; hextext: hex-encoded text (ids, messages), decoded when it is
 *   printable ASCII, kept as sent otherwise;
 * - eventlog: a profile buffer (`(n)(code)(time)(value)...`): only its entry count is kept;
 * - stamped: `(time)(value*unit)`: the value is kept (1-0:1.6.0, the month's peak);
 * - peaks: e-MUCS 0-0:98.1.0 monthly peaks: the newest month's peak is kept.
 */
export type ObisKind = 'float' | 'int' | 'string' | 'hextext' | 'eventlog' | 'stamped' | 'peaks';

export interface ObisDescriptor {
  code: string;
  /** Field name with its unit suffix; for unit 'auto', the stem ('_<unit>' is appended). */
  field: string;
  kind: ObisKind;
  /** Unit the standard sends (kW, kWh, ...); 'auto': whatever arrives names the field. */
  unit?: string;
  group: FieldGroup;
  description: string;
}

/** Units the telegrams use -> the field unit (suffix) and the power of ten that gets there. */
export const UNITS: Readonly<Record<string, { suffix: string; pow10: number }>> = {
  kWh: { suffix: 'kwh', pow10: 0 },
  Wh: { suffix: 'kwh', pow10: -3 },
  kvarh: { suffix: 'kvarh', pow10: 0 },
  varh: { suffix: 'kvarh', pow10: -3 },
  kW: { suffix: 'w', pow10: 3 },
  W: { suffix: 'w', pow10: 0 },
  kvar: { suffix: 'var', pow10: 3 },
  var: { suffix: 'var', pow10: 0 },
  kVA: { suffix: 'va', pow10: 3 },
  VA: { suffix: 'va', pow10: 0 },
  V: { suffix: 'v', pow10: 0 },
  A: { suffix: 'a', pow10: 0 },
  Hz: { suffix: 'hz', pow10: 0 },
  m3: { suffix: 'm3', pow10: 0 },
  GJ: { suffix: 'gj', pow10: 0 },
  s: { suffix: 's', pow10: 0 },
};

const rows: ObisDescriptor[] = [];
function add(code: string, field: string, kind: ObisKind, unit: string | undefined, group: FieldGroup, description: string): void {
  rows.push({ code, field, kind, unit, group, description });
}
const PHASES = [
  ['l1', 20],
  ['l2', 40],
  ['l3', 60],
] as const;

// Identity and versions (string fields, not tags: a replaced meter must not start new series).
add('1-3:0.2.8', 'p1_version', 'string', undefined, 'info', 'P1 interface version (42 = DSMR 4.2, 50 = 5.0)');
add('0-0:96.1.4', 'p1_version', 'string', undefined, 'info', 'e-MUCS version (BE), e.g. 50217');
add('0-0:96.1.1', 'equipment_id', 'hextext', undefined, 'info', 'meter equipment identifier');
add('0-0:42.0.0', 'equipment_id', 'hextext', undefined, 'info', 'COSEM logical device name (LU Smarty, E.ON HU)');
add('0-0:96.1.0', 'meter_serial', 'hextext', undefined, 'info', 'meter serial number (E.ON HU, Iskra IE)');
add('0-0:96.13.0', 'text_message', 'hextext', undefined, 'info', 'text message from the grid operator');
add('0-0:96.13.1', 'text_message_code', 'hextext', undefined, 'info', 'numeric message code (DSMR 2.2 to 4)');

// Active energy registers: totals (SE, LU, HU) and tariffs (NL/BE: 1 = low/night in NL, day in BE).
add('1-0:1.8.0', 'energy_import_kwh', 'float', 'kWh', 'energy', 'active energy imported, total');
add('1-0:2.8.0', 'energy_export_kwh', 'float', 'kWh', 'energy', 'active energy exported, total');
for (const t of [1, 2, 3, 4]) {
  add(`1-0:1.8.${t}`, `energy_import_t${t}_kwh`, 'float', 'kWh', 'energy', `active energy imported, tariff ${t}`);
  add(`1-0:2.8.${t}`, `energy_export_t${t}_kwh`, 'float', 'kWh', 'energy', `active energy exported, tariff ${t}`);
}
add('1-0:15.8.0', 'energy_combined_kwh', 'float', 'kWh', 'energy', 'active energy |import| + |export| (E.ON HU)');

// Instantaneous active power, whole meter; frequency and power factor.
add('1-0:1.7.0', 'power_import_w', 'float', 'kW', 'power', 'active power imported');
add('1-0:2.7.0', 'power_export_w', 'float', 'kW', 'power', 'active power exported');
add('1-0:14.7.0', 'frequency_hz', 'float', 'Hz', 'power', 'grid frequency');
add('1-0:13.7.0', 'power_factor', 'float', undefined, 'power', 'power factor, all phases');

// Reactive and apparent energy and power.
add('1-0:3.8.0', 'reactive_energy_import_kvarh', 'float', 'kvarh', 'reactive', 'reactive energy imported, total');
add('1-0:4.8.0', 'reactive_energy_export_kvarh', 'float', 'kvarh', 'reactive', 'reactive energy exported, total');
for (const t of [1, 2]) {
  add(`1-0:3.8.${t}`, `reactive_energy_import_t${t}_kvarh`, 'float', 'kvarh', 'reactive', `reactive energy imported, tariff ${t}`);
  add(`1-0:4.8.${t}`, `reactive_energy_export_t${t}_kvarh`, 'float', 'kvarh', 'reactive', `reactive energy exported, tariff ${t}`);
}
add('1-0:3.7.0', 'reactive_power_import_var', 'float', 'kvar', 'reactive', 'reactive power imported');
add('1-0:4.7.0', 'reactive_power_export_var', 'float', 'kvar', 'reactive', 'reactive power exported');
for (const q of [1, 2, 3, 4]) {
  add(`1-0:${q + 4}.8.0`, `reactive_energy_q${q}_kvarh`, 'float', 'kvarh', 'reactive', `reactive energy, quadrant ${q}`);
  add(`1-0:${q + 4}.7.0`, `reactive_power_q${q}_var`, 'float', 'kvar', 'reactive', `reactive power, quadrant ${q}`);
}
add('1-0:9.7.0', 'apparent_power_import_va', 'float', 'kVA', 'reactive', 'apparent power imported');
add('1-0:10.7.0', 'apparent_power_export_va', 'float', 'kVA', 'reactive', 'apparent power exported');

// Per phase: C = 20/40/60 + 1..4 (active +/-, reactive +/-), 31/51/71 current, 32/52/72 voltage.
for (const [ph, base] of PHASES) {
  add(`1-0:${base + 1}.7.0`, `power_import_${ph}_w`, 'float', 'kW', 'phases', `active power imported, ${ph}`);
  add(`1-0:${base + 2}.7.0`, `power_export_${ph}_w`, 'float', 'kW', 'phases', `active power exported, ${ph}`);
  add(`1-0:${base + 3}.7.0`, `reactive_power_import_${ph}_var`, 'float', 'kvar', 'reactive', `reactive power imported, ${ph}`);
  add(`1-0:${base + 4}.7.0`, `reactive_power_export_${ph}_var`, 'float', 'kvar', 'reactive', `reactive power exported, ${ph}`);
  add(`1-0:${base + 9}.7.0`, `apparent_power_import_${ph}_va`, 'float', 'kVA', 'reactive', `apparent power imported, ${ph}`);
  add(`1-0:${base + 10}.7.0`, `apparent_power_export_${ph}_va`, 'float', 'kVA', 'reactive', `apparent power exported, ${ph}`);
  add(`1-0:${base + 11}.7.0`, `current_${ph}_a`, 'float', 'A', 'phases', `current, ${ph}`);
  add(`1-0:${base + 12}.7.0`, `voltage_${ph}_v`, 'float', 'V', 'phases', `voltage, ${ph}`);
  add(`1-0:${base + 13}.7.0`, `power_factor_${ph}`, 'float', undefined, 'phases', `power factor, ${ph}`);
  add(`1-0:${base + 12}.32.0`, `voltage_sags_${ph}`, 'int', undefined, 'quality', `voltage sags counted, ${ph}`);
  add(`1-0:${base + 12}.36.0`, `voltage_swells_${ph}`, 'int', undefined, 'quality', `voltage swells counted, ${ph}`);
  add(`1-0:${base + 11}.4.0`, `current_limit_${ph}_a`, 'float', 'A', 'status', `current limit, ${ph} (BE, HU)`);
}

// Power quality counters.
add('0-0:96.7.21', 'power_failures', 'int', undefined, 'quality', 'power failures in any phase');
add('0-0:96.7.9', 'long_power_failures', 'int', undefined, 'quality', 'long power failures in any phase');
add('1-0:99.97.0', 'power_failure_log_entries', 'eventlog', undefined, 'quality', 'entries in the long power failure log (the log itself is not kept)');

// Capacity tariff (BE e-MUCS 1.7: 15-minute average demand and peaks).
add('1-0:1.4.0', 'demand_avg_w', 'float', 'kW', 'demand', 'current 15-minute average demand (import)');
add('1-0:1.6.0', 'demand_month_max_w', 'stamped', 'kW', 'demand', "this month's highest 15-minute demand");
add('0-0:98.1.0', 'demand_last_month_max_w', 'peaks', 'kW', 'demand', "the newest closed month's highest demand, from the 13-month buffer");

// Tariff, breaker, limiter.
add('0-0:96.14.0', 'tariff', 'int', undefined, 'status', 'active tariff (1 or 2)');
add('0-0:96.3.10', 'breaker_state', 'int', undefined, 'status', 'breaker / switch position (1 = closed)');
add('0-0:17.0.0', 'limiter_threshold', 'float', 'auto', 'status', 'power limiter threshold (kW, kVA or A as sent)');

/** Descriptors by code (`A-B:C.D.E`). */
export const OBIS: ReadonlyMap<string, ObisDescriptor> = new Map(rows.map((d) => [d.code, d]));

/** M-Bus codes, `0-n:...` with n the channel (1..4): one device each (gas, water, heat). */
export const MBUS_CODES = {
  deviceType: '24.1.0',
  equipmentIds: ['96.1.0', '96.1.1'],
  /** (time)(value*unit): temperature-corrected (24.2.1) or not (24.2.3, BE gas); both -> reading. */
  readings: ['24.2.1', '24.2.3'],
  /** DSMR 2.2/3: (time)(..)(..)(..)(code)(unit), the value on the next line. */
  legacyReading: '24.3.0',
  valve: '24.4.0',
} as const;

/** M-Bus device types (EN 13757-3 table 3) -> the `mbus_type` tag. */
export const MBUS_TYPES: Readonly<Record<number, string>> = {
  2: 'electricity',
  3: 'gas',
  4: 'heat',
  6: 'warm_water',
  7: 'water',
  10: 'cooling',
  11: 'cooling',
  12: 'heat',
  13: 'heat_cooling',
};

export function mbusTypeName(code: number | undefined): string {
  if (code === undefined) return 'unknown';
  return MBUS_TYPES[code] ?? `type_${code}`;
}

/**
 * An OBIS code as one small integer, so lines are matched without cutting the code out of
 * the text (and the key stays a V8 small integer: A <= 3, B <= 15, C, D, E <= 255 cover
 * every P1 code). Other codes get -1: valid, but never in the table.
 */
export function obisKey(a: number, b: number, c: number, d: number, e: number): number {
  if (a > 3 || b > 15 || c > 255 || d > 255 || e > 255) return -1;
  return (((a << 4) | b) << 24) | (c << 16) | (d << 8) | e;
}

/** `A-B:C.D.E` -> obisKey, for the table above. */
export function obisKeyOf(code: string): number {
  const m = /^(\d+)-(\d+):(\d+)\.(\d+)\.(\d+)$/.exec(code);
  const key = m ? obisKey(+m[1], +m[2], +m[3], +m[4], +m[5]) : -1;
  if (key < 0) throw new Error(`bad OBIS code in the table: ${code}`);
  return key;
}

/** Descriptors by obisKey. */
export const OBIS_BY_KEY: ReadonlyMap<number, ObisDescriptor> = new Map(rows.map((d) => [obisKeyOf(d.code), d]));
