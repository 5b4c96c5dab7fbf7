/** Field metadata of the HDHK driver (docs/fields.md; README "Measurements"). */
import { byName, count, info, named, text } from '../fields.js';
import type { DriverFields } from '../types.js';

export const hdhkFields: DriverFields = {
  manufacturer: 'HDHK',
  measurements: {
    // One series per channel of one unit (bus address); the channel's `phase` tag only describes its circuit.
    hdhk: {
      series: ['unit', 'channel'],
      fields: {
        ...named(['apparent_power_va', 'frequency_hz']),
        current_a: byName('current_a', { min: 0 }),
        range_a: info(byName('range_a')),
        firmware: text(),
      },
    },
    hdhk_phase: {
      series: ['phase'],
      fields: { ...named(['current_a', 'apparent_power_va']), channels: count('info') },
    },
  },
};
