/**
 * NUT variables as data: standard names (NUT developer guide, "NUT command and
 * variable naming scheme": docs/nut-names.txt) → field names with their unit, and the
 * `ups.status` flags (nut-names.txt, "ups.status"; upsmon's list of status words).
 *
 * Descriptive variables (maker, model, serial, firmware) are read once per connection.
 */

export type FieldType = 'float' | 'int' | 'string';

export interface VarDescriptor {
  /** NUT variable name, e.g. `battery.charge`. */
  nut: string;
  /** Field name with its unit suffix (docs/fields.md "Names"). */
  field: string;
  type: FieldType;
  /** Unit for the README; '' for strings and counts. */
  unit: string;
}

const d = (nut: string, field: string, type: FieldType, unit: string): VarDescriptor => ({ nut, field, type, unit });

/** Standard variables with a known unit. Integers are rounded if a UPS reports a fraction. */
export const VARIABLES: readonly VarDescriptor[] = [
  d('battery.charge', 'battery_charge_pct', 'float', '%'),
  d('battery.charge.low', 'battery_charge_low_pct', 'float', '%'),
  d('battery.charge.warning', 'battery_charge_warning_pct', 'float', '%'),
  d('battery.runtime', 'battery_runtime_s', 'int', 's'),
  d('battery.runtime.low', 'battery_runtime_low_s', 'int', 's'),
  d('battery.voltage', 'battery_voltage_v', 'float', 'V'),
  d('battery.voltage.nominal', 'battery_voltage_nominal_v', 'float', 'V'),
  d('battery.current', 'battery_current_a', 'float', 'A'),
  d('battery.temperature', 'battery_temperature_c', 'float', '°C'),
  d('input.voltage', 'input_voltage_v', 'float', 'V'),
  d('input.voltage.nominal', 'input_voltage_nominal_v', 'float', 'V'),
  d('input.current', 'input_current_a', 'float', 'A'),
  d('input.frequency', 'input_frequency_hz', 'float', 'Hz'),
  d('input.frequency.nominal', 'input_frequency_nominal_hz', 'float', 'Hz'),
  d('input.transfer.low', 'input_transfer_low_v', 'float', 'V'),
  d('input.transfer.high', 'input_transfer_high_v', 'float', 'V'),
  d('input.realpower', 'input_realpower_w', 'float', 'W'),
  d('output.voltage', 'output_voltage_v', 'float', 'V'),
  d('output.voltage.nominal', 'output_voltage_nominal_v', 'float', 'V'),
  d('output.current', 'output_current_a', 'float', 'A'),
  d('output.frequency', 'output_frequency_hz', 'float', 'Hz'),
  d('output.frequency.nominal', 'output_frequency_nominal_hz', 'float', 'Hz'),
  d('output.realpower', 'output_realpower_w', 'float', 'W'),
  d('output.power', 'output_power_va', 'float', 'VA'),
  d('ups.load', 'ups_load_pct', 'float', '%'),
  d('ups.realpower', 'ups_realpower_w', 'float', 'W'),
  d('ups.realpower.nominal', 'ups_realpower_nominal_w', 'float', 'W'),
  d('ups.power', 'ups_power_va', 'float', 'VA'),
  d('ups.power.nominal', 'ups_power_nominal_va', 'float', 'VA'),
  d('ups.temperature', 'ups_temperature_c', 'float', '°C'),
  d('ups.efficiency', 'ups_efficiency_pct', 'float', '%'),
  d('ups.delay.shutdown', 'ups_delay_shutdown_s', 'int', 's'),
  d('ups.delay.start', 'ups_delay_start_s', 'int', 's'),
  d('ups.timer.shutdown', 'ups_timer_shutdown_s', 'int', 's'),
  d('ups.timer.start', 'ups_timer_start_s', 'int', 's'),
  d('ups.timer.reboot', 'ups_timer_reboot_s', 'int', 's'),
  d('ambient.temperature', 'ambient_temperature_c', 'float', '°C'),
  d('ambient.humidity', 'ambient_humidity_pct', 'float', '%'),
  d('ups.alarm', 'alarm', 'string', ''),
  d('ups.test.result', 'test_result', 'string', ''),
  d('ups.beeper.status', 'beeper_status', 'string', ''),
  // Hexadecimal USB ids and version strings: text, never numbers (`0601` is not 601, `051d` is
  // not "no field"); field names as the generic ones would be.
  d('ups.vendorid', 'ups_vendorid', 'string', ''),
  d('ups.productid', 'ups_productid', 'string', ''),
  d('ups.firmware.aux', 'ups_firmware_aux', 'string', ''),
];

export const VARIABLES_BY_NAME: ReadonlyMap<string, VarDescriptor> = new Map(VARIABLES.map((v) => [v.nut, v]));

/** `ups.status` words → integer flag fields (1 when the word is present, else 0). */
export const STATUS_FLAGS: readonly { word: string; field: string; meaning: string }[] = [
  { word: 'OL', field: 'on_line', meaning: 'on line (mains power)' },
  { word: 'OB', field: 'on_battery', meaning: 'on battery' },
  { word: 'LB', field: 'low_battery', meaning: 'low battery' },
  { word: 'HB', field: 'high_battery', meaning: 'high battery' },
  { word: 'RB', field: 'replace_battery', meaning: 'the battery needs to be replaced' },
  { word: 'CHRG', field: 'charging', meaning: 'the battery is charging' },
  { word: 'DISCHRG', field: 'discharging', meaning: 'the battery is discharging (inverter providing load power)' },
  { word: 'BYPASS', field: 'bypass', meaning: 'UPS bypass circuit is active, no battery protection available' },
  { word: 'CAL', field: 'calibrating', meaning: 'UPS is running a runtime calibration' },
  { word: 'OFF', field: 'offline', meaning: 'UPS is offline and is not supplying power to the load' },
  { word: 'OVER', field: 'overload', meaning: 'UPS is overloaded' },
  { word: 'TRIM', field: 'trimming', meaning: 'UPS is trimming incoming voltage' },
  { word: 'BOOST', field: 'boosting', meaning: 'UPS is boosting incoming voltage' },
  { word: 'FSD', field: 'forced_shutdown', meaning: 'forced shutdown (upsmon primary)' },
  { word: 'ALARM', field: 'alarm_active', meaning: 'an alarm is active (see the alarm field)' },
  { word: 'TEST', field: 'testing', meaning: 'UPS is testing its battery' },
];

/** Descriptive variables: read once per connection, used as tags (option `info`) and logged. */
export const INFO_VARIABLES = {
  mfr: ['device.mfr', 'ups.mfr'],
  model: ['device.model', 'ups.model'],
  serial: ['device.serial', 'ups.serial'],
  firmware: ['ups.firmware'],
} as const satisfies Record<string, readonly string[]>;

export type DeviceInfo = Partial<Record<keyof typeof INFO_VARIABLES, string>>;

/** Variables that are never fields: the driver's own settings, upsd's, and the ones decoded above. */
export function isSkipped(name: string): boolean {
  return name.startsWith('driver.') || name.startsWith('server.') || name === 'ups.status';
}

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A NUT value as a number, or undefined when it is not one (NUT sends every value as text). */
export function parseNumber(value: string): number | undefined {
  const t = value.trim();
  if (!NUMBER.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** Field name for a numeric variable with no descriptor: `ups.power-factor` → `ups_power_factor`. */
export function sanitiseName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export interface Decoded {
  fields: Record<string, { type: FieldType; value: number | string }>;
  status: { raw: string; flags: Record<string, 0 | 1>; unknown: string[] } | undefined;
  /** Variables with a descriptor whose value did not parse: name and raw value. */
  bad: { name: string; value: string }[];
}

/** All variables of one `LIST VAR` → typed values (pure; points.ts turns them into a point). */
export function decodeVariables(vars: ReadonlyMap<string, string>): Decoded {
  const out: Decoded = { fields: {}, status: undefined, bad: [] };
  const infoNames = new Set<string>(Object.values(INFO_VARIABLES).flat());
  for (const [name, value] of vars) {
    if (isSkipped(name)) continue;
    const desc = VARIABLES_BY_NAME.get(name);
    if (desc) {
      if (desc.type === 'string') {
        out.fields[desc.field] = { type: 'string', value };
        continue;
      }
      const n = parseNumber(value);
      const v = n !== undefined && desc.type === 'int' ? Math.round(n) : n;
      // An integer a double no longer holds exactly (2.46e22 s of runtime) is no reading either.
      if (v === undefined || (desc.type === 'int' && !Number.isSafeInteger(v))) out.bad.push({ name, value });
      else out.fields[desc.field] = { type: desc.type, value: v };
      continue;
    }
    if (infoNames.has(name)) continue;
    const n = parseNumber(value);
    if (n === undefined) continue; // descriptive text we have no use for
    const field = sanitiseName(name);
    if (field && !(field in out.fields)) out.fields[field] = { type: 'float', value: n };
  }
  const status = vars.get('ups.status');
  if (status !== undefined) out.status = decodeStatus(status);
  return out;
}

export function decodeStatus(raw: string): { raw: string; flags: Record<string, 0 | 1>; unknown: string[] } {
  const words = new Set(raw.trim().split(/\s+/).filter(Boolean));
  const flags: Record<string, 0 | 1> = {};
  for (const f of STATUS_FLAGS) flags[f.field] = words.has(f.word) ? 1 : 0;
  const known = new Set(STATUS_FLAGS.map((f) => f.word));
  return { raw: raw.trim(), flags, unknown: [...words].filter((w) => !known.has(w)) };
}

/** Device info from the variables (first of the NUT names that is present and not empty). */
export function deviceInfo(vars: ReadonlyMap<string, string>): DeviceInfo {
  const info: DeviceInfo = {};
  for (const [key, names] of Object.entries(INFO_VARIABLES) as [keyof DeviceInfo, readonly string[]][]) {
    const v = names.map((n) => vars.get(n)?.trim()).find((x) => x);
    if (v) info[key] = v;
  }
  return info;
}
