/**
 * The MQTT output's field rules as they were before issue 22 moved them into the drivers
 * (src/mqtt/fields.ts at 4582c15, unchanged below this comment but for its two types, which
 * src/mqtt/fields.ts still has): the oracle that shows the
 * drivers' metadata gives Home Assistant the same units, classes and names for every field a
 * driver declares, not only for those the demo devices emit (test/unit/fields-legacy.test.ts).
 */
import type { FieldValue } from '../../src/core/point.js';
import type { FieldMeta } from '../../src/mqtt/fields.js';

/** Suffix → unit, device class, state class. Longest suffix first (`_kvarh` before `_var`, `_va` before `_a`). */
const SUFFIXES: readonly [string, Omit<FieldMeta, 'component'>][] = [
  ['_kvarh', { unit: 'kvarh', deviceClass: 'reactive_energy', stateClass: 'total_increasing' }],
  ['_kwh', { unit: 'kWh', deviceClass: 'energy', stateClass: 'total_increasing' }],
  ['_wh', { unit: 'Wh', deviceClass: 'energy', stateClass: 'total_increasing' }],
  ['_gj', { unit: 'GJ', deviceClass: 'energy', stateClass: 'total_increasing' }],
  ['_m3', { unit: 'm³', deviceClass: 'volume', stateClass: 'total_increasing' }],
  ['_var', { unit: 'var', deviceClass: 'reactive_power', stateClass: 'measurement' }],
  ['_va', { unit: 'VA', deviceClass: 'apparent_power', stateClass: 'measurement' }],
  ['_pct', { unit: '%', stateClass: 'measurement' }],
  ['_hz', { unit: 'Hz', deviceClass: 'frequency', stateClass: 'measurement' }],
  ['_ms', { unit: 'ms', deviceClass: 'duration', stateClass: 'measurement' }],
  ['_w', { unit: 'W', deviceClass: 'power', stateClass: 'measurement' }],
  ['_v', { unit: 'V', deviceClass: 'voltage', stateClass: 'measurement' }],
  ['_a', { unit: 'A', deviceClass: 'current', stateClass: 'measurement' }],
  ['_c', { unit: '°C', deviceClass: 'temperature', stateClass: 'measurement' }],
  ['_s', { unit: 's', deviceClass: 'duration', stateClass: 'measurement' }],
];

type Override = Partial<FieldMeta> | ((tags: Record<string, string>) => Partial<FieldMeta>);

const flag = (deviceClass?: string): Override => ({ component: 'binary_sensor', deviceClass, stateClass: undefined, unit: undefined });
const counter: Override = { stateClass: 'total_increasing' };
const diagnostic: Override = { diagnostic: true, stateClass: undefined };

/**
 * Per measurement: field name (or /pattern/) → correction. Measurement names are the drivers'
 * (docs/fields.md "Names"; each driver's README lists its fields).
 */
const OVERRIDES: Record<string, [string | RegExp, Override][]> = {
  p1: [
    [/^(long_)?power_failures$|^power_failure_log_entries$|^voltage_(sags|swells)_l\d$/, counter],
    [/^power_factor(_l\d)?$/, { deviceClass: 'power_factor', stateClass: 'measurement' }],
    [/^(tariff|breaker_state)$/, { stateClass: undefined }],
    [/^(limiter_threshold|current_limit)/, diagnostic],
  ],
  p1_mbus: [
    // M-Bus readings: gas, water or heat, told by the mbus_type tag.
    ['reading_m3', (tags) => ({ deviceClass: tags.mbus_type === 'water' ? 'water' : tags.mbus_type === 'gas' ? 'gas' : 'volume' })],
    ['valve_position', { stateClass: undefined }],
  ],
  hdhk: [
    ['range_a', diagnostic],
    ['firmware', diagnostic],
  ],
  hdhk_phase: [['channels', diagnostic]],
  ups: [
    ['battery_charge_pct', { deviceClass: 'battery' }],
    [/_(low|warning)_(pct|s)$|^input_transfer_/, diagnostic],
    [/^ups_(delay|timer)_/, diagnostic],
    ['on_line', flag('power')],
    ['low_battery', flag('battery')],
    [/^(replace_battery|overload|forced_shutdown|alarm_active)$/, flag('problem')],
    ['charging', flag('battery_charging')],
    [/^(on_battery|high_battery|discharging|bypass|calibrating|offline|trimming|boosting|testing)$/, flag()],
  ],
  // PowerWalker PDU/ATS (their README's field lists): alarm and fault bits are 0/1 integers.
  pdu: [
    [/^alarm_(low|high)_input_[va]$|^alarm_aux\d_power_fail$/, flag('problem')],
    ['alarm_bits', { ...diagnostic, unit: undefined }],
  ],
  pdu_outlet: [[/^status$/, { stateClass: undefined }]],
  pdu_info: [[/./, diagnostic]],
  ats: [
    [/^(syncron_bad|aux_pwr\d_fail|short_fault|overload_fault|overload_alarm|on_fault_mode)$/, flag('problem')],
    [/^(active|preferred)_source$/, { stateClass: undefined }],
    ['status_bits', diagnostic],
  ],
  ats_source: [
    [/^(voltage|freq|wave)_bad$/, flag('problem')],
    ['active', flag('power')],
    ['preferred', flag()],
  ],
  ats_info: [[/^rated_|^battery_v$/, diagnostic]],
};

/** Home Assistant metadata of one field of one measurement. */
export function fieldMeta(measurement: string, field: string, value: FieldValue, tags: Record<string, string>): FieldMeta {
  let meta: FieldMeta;
  if (typeof value === 'boolean') meta = { component: 'binary_sensor' };
  else if (typeof value === 'string') meta = { component: 'sensor', diagnostic: field !== 'status' };
  else {
    const suffix = SUFFIXES.find(([s]) => field.endsWith(s));
    meta = suffix ? { component: 'sensor', ...suffix[1] } : { component: 'sensor', stateClass: 'measurement' };
    // Ratings (input_voltage_nominal_v) never change: settings, not readings.
    if (field.includes('_nominal')) meta = { ...meta, diagnostic: true, stateClass: undefined };
  }
  for (const [match, override] of OVERRIDES[measurement] ?? []) {
    if (typeof match === 'string' ? match !== field : !match.test(field)) continue;
    meta = { ...meta, ...(typeof override === 'function' ? override(tags) : override) };
    break;
  }
  return meta;
}

/** Human words for an entity name: `energy_import_t1_kwh` → `energy import t1`. */
export function fieldLabel(field: string): string {
  const suffix = SUFFIXES.find(([s]) => field.endsWith(s) && field.length > s.length);
  return (suffix ? field.slice(0, -suffix[0].length) : field).replace(/_/g, ' ');
}

/** Identifying tags per measurement (src/mqtt/series.ts at 4582c15). */
const SERIES_TAGS: Record<string, readonly string[]> = { p1: [], p1_mbus: ['channel'], hdhk: ['unit', 'channel'], hdhk_phase: ['phase'], ups: [] };
export function seriesTags(measurement: string): readonly string[] {
  return SERIES_TAGS[measurement] ?? ['unit', 'outlet', 'channel', 'phase', 'source'];
}

/** Makers by driver id (src/mqtt/discovery.ts at 4582c15). */
export const MANUFACTURERS: Record<string, string> = {
  'powerwalker-pdu': 'PowerWalker',
  'powerwalker-ats': 'PowerWalker',
  'victron-vebus': 'Victron Energy',
  hdhk: 'HDHK',
  'itho-wpu': 'Itho Daalderop',
};
