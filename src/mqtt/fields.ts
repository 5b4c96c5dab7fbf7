/**
 * What Home Assistant needs to know about a field, read from the driver's field metadata
 * (src/devices/<id>/fields.ts, docs/fields.md): the quantity gives the device class, the kind
 * the state class (`counter` → total_increasing, `gauge` → measurement, `info` → diagnostic),
 * flags become binary sensors. Nothing here knows a driver or a measurement.
 */
import type { FieldValue } from '../core/point.js';
import type { ResolvedField } from '../devices/fields.js';
import type { FlagMeaning, Quantity } from '../devices/types.js';

export type Component = 'sensor' | 'binary_sensor';

export interface FieldMeta {
  component: Component;
  unit?: string;
  deviceClass?: string;
  stateClass?: 'measurement' | 'total' | 'total_increasing';
  /** Settings, ids and ranges: shown under "Diagnostic" in Home Assistant. */
  diagnostic?: boolean;
}

/** Quantities that have a Home Assistant sensor device class of the same meaning (the others have none). */
const DEVICE_CLASSES: Partial<Record<Quantity, string>> = {
  energy: 'energy',
  reactive_energy: 'reactive_energy',
  power: 'power',
  apparent_power: 'apparent_power',
  reactive_power: 'reactive_power',
  power_factor: 'power_factor',
  voltage: 'voltage',
  current: 'current',
  frequency: 'frequency',
  temperature: 'temperature',
  battery: 'battery',
  duration: 'duration',
  volume: 'volume',
  gas: 'gas',
  water: 'water',
};

const FLAG_CLASSES: Record<FlagMeaning, string> = { problem: 'problem', power: 'power', battery_low: 'battery', battery_charging: 'battery_charging' };

export function deviceClassOf(quantity: Quantity | undefined): string | undefined {
  return quantity && DEVICE_CLASSES[quantity];
}

/** Home Assistant metadata of one field (as the driver describes it) with this value. */
export function fieldMeta(field: ResolvedField, value: FieldValue): FieldMeta {
  if (field.quantity === 'flag' || typeof value === 'boolean') {
    return { component: 'binary_sensor', deviceClass: field.flag && FLAG_CLASSES[field.flag], stateClass: undefined, unit: undefined };
  }
  // Text has no unit, class or statistics (a field never changes type: docs/fields.md "Names").
  if (typeof value === 'string') return { component: 'sensor', diagnostic: field.kind === 'info' };
  const meta: FieldMeta = { component: 'sensor' };
  if (field.unit) meta.unit = field.unit;
  const deviceClass = deviceClassOf(field.quantity);
  if (deviceClass) meta.deviceClass = deviceClass;
  meta.stateClass = field.kind === 'counter' ? 'total_increasing' : field.kind === 'gauge' ? 'measurement' : undefined;
  if (field.kind === 'info') meta.diagnostic = true;
  return meta;
}
