/** Field metadata of the PowerWalker ATS driver (docs/fields.md; README "Measurements"). */
import { byName, flag, info, named, state, text } from '../fields.js';
import type { DriverFields } from '../types.js';

const FAULTS = ['syncron_bad', 'aux_pwr1_fail', 'aux_pwr2_fail', 'short_fault', 'overload_fault', 'overload_alarm', 'on_fault_mode'];
const SOURCE = { '0': 'none', '1': 'source 1', '2': 'source 2' };

export const powerwalkerAtsFields: DriverFields = {
  manufacturer: 'PowerWalker',
  measurements: {
    ats: {
      fields: {
        ...named(['load_pct', 'temperature_c']),
        // A 16 A ATS; an overload reads above its rating until it trips: plausible up to 4x.
        output_a: byName('output_a', { min: 0, max: 64 }),
        // Degrees between the sources' phases; no unit announced so far (the key has none the convention knows).
        sync_angle_deg: { quantity: 'number', kind: 'gauge' },
        // All 24 QAS positions, position 0 the highest bit.
        status_bits: state(undefined, 'info'),
        active_source: state(SOURCE),
        preferred_source: state(SOURCE),
        ...Object.fromEntries(FAULTS.map((f) => [f, flag('problem')])),
      },
    },
    ats_source: {
      fields: {
        voltage_v: byName('voltage_v', { min: 0, max: 300 }),
        frequency_hz: byName('frequency_hz'),
        ...Object.fromEntries(['voltage_bad', 'freq_bad', 'wave_bad'].map((f) => [f, flag('problem')])),
        active: flag('power'),
        preferred: flag(),
      },
    },
    ats_info: {
      fields: {
        firmware: text(),
        protocol: text(),
        ...Object.fromEntries(['rated_output_v', 'rated_output_a', 'rated_output_hz', 'battery_v'].map((f) => [f, info(byName(f))])),
      },
    },
  },
};
