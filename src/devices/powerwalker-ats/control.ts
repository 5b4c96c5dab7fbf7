/** `wattline ats <device> memory <address>`: the ATS's only verb, a read (no allowance needed). */
import { InputError } from '../../core/errors.js';
import type { ControlRequest, ControlVerbSpec, DriverControl } from '../types.js';
import { ATS_MEMORY_MAX } from './codec.js';
import type { AtsOptions } from './config.js';

export const ATS_VERBS: readonly ControlVerbSpec[] = [
  { name: 'memory', usage: '<address>', description: `Read memory address 0-${ATS_MEMORY_MAX} (transfer thresholds per source, overload %, phase window, breaking/blanking times)`, readOnly: true },
];

export function prepareAtsControl(verb: string, args: readonly string[]): ControlRequest {
  if (verb !== 'memory') throw new InputError(`ats: unknown verb "${verb}" (verbs: memory)`);
  const s = args[0];
  if (args.length > 1) throw new InputError(`ats memory: too many arguments (${args.slice(1).join(' ')}); usage: memory <address>`);
  if (s === undefined || !/^\d{1,2}$/.test(s) || Number(s) > ATS_MEMORY_MAX) throw new InputError(`ats memory: address "${s ?? ''}" is not 0-${ATS_MEMORY_MAX}`);
  const address = Number(s);
  return { verb, params: { kind: 'memory', address }, summary: `read memory address ${address}` };
}

export const atsControl: DriverControl<AtsOptions> = {
  cliName: 'ats',
  verbs: ATS_VERBS,
  prepare: (verb, args) => prepareAtsControl(verb, args),
};
