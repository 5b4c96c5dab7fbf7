/**
 * Control verbs (`wattline vebus <device> <verb>`): pure validation, no I/O. Each verb is
 * refused unless the device's `options.control` allows it; `ess-power` only within the
 * configured limits. The session carries them out (session.ts).
 */
import { ConfigError, InputError } from '../../core/errors.js';
import type { ControlRequest, ControlVerbSpec, DriverControl } from '../types.js';
import type { VebusOptions } from './config.js';

export interface EssPowerParams {
  /** + charge the battery from AC, − feed from the battery to AC/grid (the original's set_power sign). */
  watts: number;
}

export const VEBUS_VERBS: readonly ControlVerbSpec[] = [
  {
    name: 'ess-power',
    usage: '<watts>',
    description: 'ESS set-point, W: positive charges the battery from AC, negative feeds AC/grid; written to RAM only (never EEPROM), within options.control.essPower',
  },
  { name: 'sleep', usage: '', description: 'Put the Multiplus to sleep (standby, about 1.3 W; raw frame 05 3F 04 00 00 00 C5); needs options.control.sleep' },
  { name: 'wakeup', usage: '', description: 'Wake the Multiplus up (raw frame 05 3F 07 00 00 00 C2); needs options.control.wakeup' },
];

const INTEGER = /^[+-]?\d+$/;

export function prepareVebusControl(verb: string, args: readonly string[], options: VebusOptions, device: string): ControlRequest {
  const control = options.control;
  if (verb === 'ess-power') {
    const limits = control?.essPower;
    if (!limits) throw new ConfigError(`${device}: ess-power is not allowed; set options.control.essPower: { min, max } (watts) for this device`);
    const range = `${limits.min}…${limits.max} W`;
    if (args.length !== 1) throw new InputError(`${device}: ess-power takes one argument, the set-point in watts (${range})`);
    const text = args[0]!.trim();
    if (!INTEGER.test(text)) throw new InputError(`${device}: ess-power "${args[0]}" is not a whole number of watts (${range})`);
    const watts = Number(text);
    if (watts < limits.min || watts > limits.max) throw new InputError(`${device}: ess-power ${watts} W is outside the allowed range ${range} (options.control.essPower)`);
    const params: EssPowerParams = { watts };
    const what = watts > 0 ? 'charge' : watts < 0 ? 'feed' : 'idle';
    return { verb, params, summary: `ESS set-point ${watts} W (${what}), RAM only` };
  }
  if (verb === 'sleep' || verb === 'wakeup') {
    if (args.length > 0) throw new InputError(`${device}: ${verb} takes no arguments`);
    if (!control?.[verb]) throw new ConfigError(`${device}: ${verb} is not allowed; set options.control.${verb}: true for this device`);
    return { verb, params: {}, summary: verb === 'sleep' ? 'put the Multiplus to sleep' : 'wake the Multiplus up' };
  }
  throw new InputError(`${device}: unknown verb "${verb}" (verbs: ${VEBUS_VERBS.map((v) => v.name).join(', ')})`);
}

export const vebusControl: DriverControl<VebusOptions> = {
  cliName: 'vebus',
  verbs: VEBUS_VERBS,
  prepare: prepareVebusControl,
};
