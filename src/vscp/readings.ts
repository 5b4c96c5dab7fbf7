/**
 * The 26 P1 readings the original `vscp-python-p1-power-meter` publishes as VSCP events, with
 * what it sent (`compat`) and what VSCP defines for them (`fixed`).
 * docs/protocols/vscp.md §2 (the original's table) and §8 (the corrected mapping).
 */

export type VscpSwitch = 'energy' | 'activeEffect' | 'reactiveEffect' | 'voltage' | 'current';

/** VSCP type codes (CLASS1.MEASUREMENT types, mirrored by class 1040). */
export const TYPE = { current: 5, energy: 13, power: 14, voltage: 16, reactivePower: 64, reactiveEnergy: 65 } as const;

export interface VscpReading {
  /** The original's config key suffix: `sensorindex_<name>`, `id_<name>`, `note_<name>`. */
  name: string;
  obis: string;
  switch: VscpSwitch;
  /** What the original sends: type and unit byte (§2.2). */
  compat: { type: number; unit: number };
  /** VSCP's own meaning (§8): type, unit byte, and the power of ten from the meter's unit. */
  fixed: { type: number; unit: number; shift: number };
  /** The GUID's last two bytes (the original's code default, = its sample config). */
  id: number;
  /** The sample config.ini's sensor index (row 17 reads a misspelt key: 0). */
  compatSensorIndex: number;
  /** The sample config.ini's note. */
  note: string;
}

type Fixed = VscpReading['fixed'];
const energy: Fixed = { type: TYPE.energy, unit: 1, shift: 0 };
const reactiveEnergy: Fixed = { type: TYPE.reactiveEnergy, unit: 0, shift: 0 };
const watts: Fixed = { type: TYPE.power, unit: 0, shift: 3 };
const vars: Fixed = { type: TYPE.reactivePower, unit: 0, shift: 3 };
const volts: Fixed = { type: TYPE.voltage, unit: 0, shift: 0 };
const amps: Fixed = { type: TYPE.current, unit: 0, shift: 0 };

const rows: [string, string, VscpSwitch, [number, number], Fixed, string][] = [
  ['sum_active_energy_out', '1-0:1.8.0', 'energy', [13, 1], energy, 'Meter reading active energy out'],
  ['sum_active_energy_in', '1-0:2.8.0', 'energy', [13, 1], energy, 'Meter reading active energy in'],
  ['sum_reactive_energy_out', '1-0:3.8.0', 'energy', [13, 0], reactiveEnergy, 'Meter reading reactive energy out'],
  ['sum_reactive_energy_in', '1-0:4.8.0', 'energy', [14, 0], reactiveEnergy, 'Meter reading reactive energy in'],
  ['momentan_active_effect_out', '1-0:1.7.0', 'activeEffect', [14, 0], watts, 'Active effect out'],
  ['momentan_active_effect_in', '1-0:2.7.0', 'activeEffect', [64, 0], watts, 'Active effect in'],
  ['momentan_reactive_effect_out', '1-0:3.7.0', 'reactiveEffect', [64, 0], vars, 'Reactive effect out'],
  ['momentan_reactive_effect_in', '1-0:4.7.0', 'reactiveEffect', [64, 0], vars, 'Reactive effect in'],
  ['momentan_active_effect_l1_out', '1-0:21.7.0', 'activeEffect', [14, 0], watts, 'Active effect L1 out'],
  ['momentan_active_effect_l1_in', '1-0:22.7.0', 'activeEffect', [14, 0], watts, 'Active effect L1 in'],
  ['momentan_active_effect_l2_out', '1-0:41.7.0', 'activeEffect', [14, 0], watts, 'Active effect L2 out'],
  ['momentan_active_effect_l2_in', '1-0:42.7.0', 'activeEffect', [14, 0], watts, 'Active effect L2 in'],
  ['momentan_active_effect_l3_out', '1-0:61.7.0', 'activeEffect', [14, 0], watts, 'Active effect L3 out'],
  ['momentan_active_effect_l3_in', '1-0:62.7.0', 'activeEffect', [14, 0], watts, 'Active effect L3 in'],
  ['momentan_reactive_effect_l1_out', '1-0:23.7.0', 'reactiveEffect', [14, 0], vars, 'Reactive effect L1 out'],
  ['momentan_reactive_effect_l1_in', '1-0:24.7.0', 'reactiveEffect', [14, 0], vars, 'Reactive effect L1 in'],
  ['momentan_reactive_effect_l2_out', '1-0:43.7.0', 'reactiveEffect', [14, 0], vars, 'Reactive effect L2 out'],
  ['momentan_reactive_effect_l2_in', '1-0:44.7.0', 'reactiveEffect', [14, 0], vars, 'Reactive effect L2 in'],
  ['momentan_reactive_effect_l3_out', '1-0:63.7.0', 'reactiveEffect', [14, 0], vars, 'Reactive effect L3 out'],
  ['momentan_reactive_effect_l3_in', '1-0:64.7.0', 'reactiveEffect', [14, 0], vars, 'Reactive effect L3 in'],
  ['voltage_l1', '1-0:32.7.0', 'voltage', [16, 0], volts, 'Voltage L1'],
  ['voltage_l2', '1-0:52.7.0', 'voltage', [16, 0], volts, 'Voltage L2'],
  ['voltage_l3', '1-0:72.7.0', 'voltage', [16, 0], volts, 'Voltage L3'],
  ['current_l1', '1-0:31.7.0', 'current', [5, 0], amps, 'Current L1'],
  ['current_l2', '1-0:51.7.0', 'current', [5, 0], amps, 'Current L2'],
  ['current_l3', '1-0:71.7.0', 'current', [5, 0], amps, 'Current L3'],
];

export const VSCP_READINGS: readonly VscpReading[] = rows.map(([name, obis, sw, [type, unit], fixed, note], i) => ({
  name,
  obis,
  switch: sw,
  compat: { type, unit },
  fixed,
  id: i + 1,
  // §9.7: the original reads `sensorindex_momentan_reactive_effectl2_out`, so row 17 stays 0.
  compatSensorIndex: name === 'momentan_reactive_effect_l2_out' ? 0 : i + 1,
  note,
}));

export const READING_NAMES = VSCP_READINGS.map((r) => r.name) as [string, ...string[]];
export const BY_OBIS: ReadonlyMap<string, VscpReading> = new Map(VSCP_READINGS.map((r) => [r.obis, r]));
