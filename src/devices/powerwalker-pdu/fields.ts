/**
 * Field metadata of the PowerWalker PDU driver (docs/fields.md; README "Measurements"), its
 * model as the PDU reports it, and its outlets as switches (MQTT, Home Assistant).
 */
import type { FieldValue } from '../../core/point.js';
import { byName, count, flag, identityFromPoint, info, named, state, text } from '../fields.js';
import type { DriverFields, SwitchEntity } from '../types.js';

/**
 * What an RC-16A IEC (230 V mains, 16 A in total) can report, not its rating: an overload
 * reads above 16 A until the breaker trips, so current is plausible up to 4x the rating; a
 * reading beyond is a garbled reply (the worker leaves it out: devices/problems.ts).
 */
const MAINS = { min: 0, max: 300 };
const AMPS = { min: 0, max: 64 };

/** The PI90 outlet status digit (docs/protocols/powerwalker.md §1.5). */
const OUTLET_STATUS = { '0': 'off', '1': 'on', '2': 'shutdown active', '3': 'shutdown imminent', '4': 'restore active', '5': 'overload alarm', '6': 'locked' };

function num(v: FieldValue | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return undefined;
  return Number(v.value);
}

/**
 * Outlet state as a switch shows it: where the outlet is heading, so that the state
 * published after a command and the next polls agree. From a boolean/0-1 `on` field, or the
 * status digit: a pending shutdown (2, 3) is OFF unless a restore follows it
 * (`restore_countdown_s` > 0: the driver's `on` recipe for an off outlet, or
 * shutdown-restore), a running restore (4) is ON; locked says nothing.
 */
export function outletState(fields: Record<string, FieldValue>): 'ON' | 'OFF' | undefined {
  const on = num(fields.on);
  if (on !== undefined) return on ? 'ON' : 'OFF';
  const status = num(fields.status);
  if (status === undefined || status === 6) return undefined;
  if (status === 2 || status === 3) return (num(fields.restore_countdown_s) ?? 0) > 0 ? 'ON' : 'OFF';
  return status === 1 || status === 4 || status === 5 ? 'ON' : 'OFF';
}

/** An outlet switch over a driver's `on <outlet>` / `off <outlet>` verbs. */
export function outletSwitch(measurement: string): SwitchEntity {
  return { component: 'switch', path: 'outlet', measurement, targetTag: 'outlet', onVerb: 'on', offVerb: 'off', state: outletState };
}

const ALARMS = ['alarm_low_input_v', 'alarm_high_input_v', 'alarm_low_input_a', 'alarm_high_input_a', 'alarm_aux1_power_fail', 'alarm_aux2_power_fail'];

export const powerwalkerPduFields: DriverFields = {
  manufacturer: 'PowerWalker',
  measurements: {
    pdu: {
      fields: {
        input_v: byName('input_v', MAINS),
        input_a: byName('input_a', AMPS),
        ...named(['input_hz', 'temperature_c', 'input_kwh', 'input_w', 'input_va']),
        ...Object.fromEntries(ALARMS.map((f) => [f, flag('problem')])),
        // Status positions 0-7, position 0 the highest bit.
        alarm_bits: state(undefined, 'info'),
      },
    },
    pdu_outlet: {
      fields: {
        current_a: byName('current_a', AMPS),
        ...named(['energy_kwh', 'power_w', 'apparent_power_va', 'shutdown_countdown_s', 'restore_countdown_s']),
        status: state(OUTLET_STATUS),
      },
    },
    pdu_info: {
      fields: {
        ...Object.fromEntries(['protocol', 'firmware', 'model', 'in_out_phase'].map((f) => [f, text()])),
        nominal_input_v: info(byName('nominal_input_v')),
        nominal_output_v: info(byName('nominal_output_v')),
        input_sockets: count('info'),
        output_sockets: count('info'),
      },
    },
  },
  // The model field comes left-padded with '#' (`############PDU`).
  identify: (point) => identityFromPoint(point, (m) => m.replace(/^#+/, '').trim()),
  entities: [outletSwitch('pdu_outlet')],
};
