/**
 * Field metadata helpers (docs/fields.md): the naming convention every driver follows ("Names"
 * there: the unit is the field name's suffix, `_kwh`, `_w`, `_v`, ...) turned into
 * `FieldSpec`s, and the lookup outputs use: a declared field, else a driver's pattern, else the
 * convention. Drivers declare their fields in `<id>/fields.ts` with these.
 */
import type { FieldValue, Point } from '../core/point.js';
import type { DeviceIdentity, DriverFields, FieldKind, FieldSpec, FlagMeaning, MeasurementFields, Quantity } from './types.js';

/** Suffix → unit, quantity, kind. Longest suffix first (`_kvarh` before `_var`, `_va` before `_a`). */
const SUFFIXES: readonly (readonly [string, string, Quantity, FieldKind])[] = [
  ['_kvarh', 'kvarh', 'reactive_energy', 'counter'],
  ['_kwh', 'kWh', 'energy', 'counter'],
  ['_wh', 'Wh', 'energy', 'counter'],
  ['_gj', 'GJ', 'energy', 'counter'],
  ['_m3', 'm³', 'volume', 'counter'],
  ['_var', 'var', 'reactive_power', 'gauge'],
  ['_va', 'VA', 'apparent_power', 'gauge'],
  ['_pct', '%', 'percentage', 'gauge'],
  ['_hz', 'Hz', 'frequency', 'gauge'],
  ['_ms', 'ms', 'duration', 'gauge'],
  ['_w', 'W', 'power', 'gauge'],
  ['_v', 'V', 'voltage', 'gauge'],
  ['_a', 'A', 'current', 'gauge'],
  ['_c', '°C', 'temperature', 'gauge'],
  ['_s', 's', 'duration', 'gauge'],
];

/** docs/fields.md "Names": `unit` (a bus address), `outlet`, `channel`, `phase`, `source` identify a series. */
export const CONVENTION_SERIES: readonly string[] = ['unit', 'outlet', 'channel', 'phase', 'source'];

function suffixOf(field: string) {
  return SUFFIXES.find(([s]) => field.endsWith(s));
}

/** A numeric field described by its name's unit suffix (`current_l1_a` → current in A, a gauge); `over` corrects the rest. */
export function byName(field: string, over: Partial<FieldSpec> = {}): FieldSpec {
  const s = suffixOf(field);
  const spec: FieldSpec = s ? { quantity: s[2], unit: s[1], kind: s[3] } : { quantity: 'number', kind: 'gauge' };
  return { ...spec, ...over };
}

/** Fields described by their names, as a `fields` record: `named(['input_v', 'input_hz'], { min: 0 })`. */
export function named(fields: readonly string[], over: Partial<FieldSpec> = {}): Record<string, FieldSpec> {
  return Object.fromEntries(fields.map((f) => [f, byName(f, over)]));
}

export const text = (kind: FieldKind = 'info'): FieldSpec => ({ quantity: 'text', kind });
export const flag = (meaning?: FlagMeaning): FieldSpec => (meaning ? { quantity: 'flag', kind: 'state', flag: meaning } : { quantity: 'flag', kind: 'state' });
export const count = (kind: FieldKind = 'counter'): FieldSpec => ({ quantity: 'count', kind });
export const state = (states?: Readonly<Record<string, string>>, kind: FieldKind = 'state'): FieldSpec => (states ? { quantity: 'state', kind, states } : { quantity: 'state', kind });
/** The same spec under a rating/setting's kind (`info`). */
export const info = (spec: FieldSpec): FieldSpec => ({ ...spec, kind: 'info' });

/** `energy_import_t1_kwh` → `energy import t1`. */
export function defaultName(field: string): string {
  const s = SUFFIXES.find(([x]) => field.endsWith(x) && field.length > x.length);
  return (s ? field.slice(0, -s[0].length) : field).replace(/_/g, ' ');
}

/** A field as the driver declared it, with its display name and (for `quantityByTag`) this point's quantity. */
export interface ResolvedField extends FieldSpec {
  name: string;
  /** False when the driver does not declare the field and the naming convention described it. */
  declared: boolean;
}

/** The convention for a field no driver declares: booleans are flags, strings texts (info, except `status`), numbers by their suffix. */
function byConvention(field: string, value: FieldValue): FieldSpec {
  if (typeof value === 'boolean') return flag();
  if (typeof value === 'string') return text(field === 'status' ? 'state' : 'info');
  const spec = byName(field);
  // Ratings (input_voltage_nominal_v) never change: settings, not readings.
  return field.includes('_nominal') ? info(spec) : spec;
}

/** The declared spec of a field (exact key, then patterns), undefined when the driver does not declare it. */
export function declaredField(m: MeasurementFields | undefined, field: string): FieldSpec | undefined {
  if (!m) return undefined;
  if (Object.hasOwn(m.fields, field)) return m.fields[field];
  const spec = m.patterns?.find(([re]) => re.test(field))?.[1];
  return typeof spec === 'function' ? spec(field) : spec;
}

/** What one field of one point is: declared by the driver, or by the naming convention. */
export function describeField(fields: DriverFields | undefined, measurement: string, field: string, value: FieldValue, tags: Readonly<Record<string, string>>): ResolvedField {
  const declared = declaredField(fields?.measurements[measurement], field);
  const spec = declared ?? byConvention(field, value);
  const resolved: ResolvedField = { ...spec, name: spec.name ?? defaultName(field), declared: declared !== undefined };
  if (spec.quantityByTag) resolved.quantity = spec.quantityByTag.values[tags[spec.quantityByTag.tag] ?? ''] ?? spec.quantity;
  return resolved;
}

/** The tags that identify a measurement's series within a device: declared, else the convention of docs/fields.md "Names". */
export function seriesTags(fields: DriverFields | undefined, measurement: string): readonly string[] {
  return fields?.measurements[measurement]?.series ?? CONVENTION_SERIES;
}

/**
 * Model, maker and firmware as points usually tell them: tags `model`, `mfr`, `firmware`, or
 * fields `firmware` (text or number) and `model` (text). Drivers with quirks give `identify`.
 */
export function identityFromPoint(point: Point, cleanModel: (model: string) => string = (m) => m.trim()): DeviceIdentity {
  const firmware = point.tags.firmware ?? point.fields.firmware;
  const rawModel = point.tags.model || point.fields.model;
  // Runs for every point MQTT publishes: most tell nothing, and those get no new object.
  if (firmware === undefined && rawModel === undefined && !point.tags.mfr) return NOTHING;
  const id: DeviceIdentity = {};
  if (typeof firmware === 'string' || typeof firmware === 'number') id.firmware = String(firmware);
  const model = point.tags.model || (typeof point.fields.model === 'string' && cleanModel(point.fields.model));
  if (model) id.model = model;
  if (point.tags.mfr) id.manufacturer = point.tags.mfr;
  return id;
}

const NOTHING: DeviceIdentity = Object.freeze({});

/** Every field a driver declares by exact key, as `[measurement, field, spec]` (docs, tests, other outputs). */
export function declaredFields(fields: DriverFields): [string, string, FieldSpec][] {
  return Object.entries(fields.measurements).flatMap(([m, mf]) => Object.entries(mf.fields).map(([f, spec]): [string, string, FieldSpec] => [m, f, spec]));
}
