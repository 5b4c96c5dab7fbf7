/** Field metadata of the VE.Bus driver (docs/fields.md; README "Measurement `vebus`"), and its ESS set-point as a number entity. */
import { byName, count, named, state } from '../fields.js';
import type { DriverFields } from '../types.js';

/** README "State codes". Announced as a measurement, as it always was. */
const STATES = { '0': 'down', '1': 'startup', '2': 'off (sleep)', '3': 'slave', '4': 'invert_full', '5': 'invert_half', '6': 'invert_aes', '7': 'power_assist', '8': 'bypass', '9': 'charge' };
const LED = state({ '0': 'off', '1': 'on or blinking' }, 'gauge');

export const victronVebusFields: DriverFields = {
  manufacturer: 'Victron Energy',
  measurements: {
    // The device point has no phase tag, the per-phase points phase=L1…L4 (the series tags: the convention of docs/fields.md "Names").
    vebus: {
      fields: {
        state: state(STATES, 'gauge'),
        phases: count('gauge'),
        ...named(['battery_v', 'battery_a', 'battery_w', 'inverter_power_w', 'output_power_w', 'dc_inverter_a', 'dc_charger_a', 'inverter_hz', 'ess_setpoint_w']),
        soc_pct: byName('soc_pct', { min: 0, max: 100 }),
        // LED bit masks (bit 0 mains … bit 7 temperature), and each LED on its own.
        leds_on: state(undefined, 'gauge'),
        leds_blink: state(undefined, 'gauge'),
        ...Object.fromEntries(['mains', 'absorption', 'bulk', 'float', 'inverter', 'overload', 'low_bat', 'temperature'].map((n) => [`led_${n}`, LED])),
        ...named(['mains_v', 'inverter_v'], { min: 0, max: 300 }),
        ...named(['mains_hz']),
        // The largest MultiPlus/Quattro (15 kVA) draws ~65 A AC; a reading beyond ±100 A is a
        // misread word (655.34 A from a signed -0.02 A read unsigned).
        ...named(['mains_a', 'inverter_a'], { min: -100, max: 100 }),
      },
    },
  },
  entities: [
    // ESS set-point, W (+ charges from AC, − feeds): the range is options.control.essPower (the
    // driver refuses anything outside it); min/max are the driver's schema bounds.
    {
      component: 'number',
      path: 'ess-power',
      verb: 'ess-power',
      min: -32767,
      max: 32767,
      step: 1,
      unit: 'W',
      quantity: 'power',
      limits: (o) => (o as { control?: { essPower?: { min: number; max: number } } } | undefined)?.control?.essPower,
      stateFrom: { measurement: 'vebus', field: 'ess_setpoint_w' },
    },
  ],
};
