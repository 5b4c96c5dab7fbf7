/**
 * `wattline pdu <device> <verb> [args]` (and `wattline control`): the verbs, their arguments
 * parsed and range-checked (InputError naming the accepted ranges), and the config's
 * allowance checked (ConfigError) — all pure. The session sends what prepare() built.
 */
import { ConfigError, InputError } from '../../core/errors.js';
import type { ControlRequest, ControlVerbSpec, DriverControl } from '../types.js';
import { cancelCommand, ENERGY_CLEAR_COMMAND, MEMORY_MAX, OUTLETS, shutdownCommand, SWITCH_DELAY_TENTHS, TEST_COMMAND, type Outlet } from './codec.js';
import type { PduOptions, PduWriteVerb } from './config.js';

export const PDU_VERBS: readonly ControlVerbSpec[] = [
  { name: 'shutdown', usage: '<outlet|A> <delay>', description: 'Switch an outlet (or A: all) off after a delay in minutes: 0 = immediately, 0.1-0.9, or 1-99' },
  {
    name: 'shutdown-restore',
    usage: '<outlet|A> <delay> <restore>',
    description: 'Switch off after <delay> (as for shutdown), back on after <restore> minutes (0 = after one second, 1-9999)',
  },
  { name: 'cancel', usage: '<outlet|A>', description: 'Cancel a pending shutdown or restore' },
  { name: 'on', usage: '<outlet|A>', description: 'Switch on: off outlets get shutdown in 0.1 min + restore after 1 s, a pending shutdown is cancelled, outlets already on are left alone' },
  { name: 'off', usage: '<outlet|A>', description: 'Switch off after the PDU\'s 6 s "shutdown imminent" warning (shutdown in 0.1 min); a running restore is cancelled; off outlets are left alone' },
  { name: 'test', usage: '', description: 'All LEDs and the buzzer on for 5 s' },
  { name: 'energy-clear', usage: '', description: 'Clear every energy (kWh) counter' },
  { name: 'memory', usage: '<address>', description: `Read memory address 0-${MEMORY_MAX} (settings: start-up delay, outlet alarms and config, input thresholds)`, readOnly: true },
];

export type PduControlParams = { kind: 'command'; command: string; outlets?: Outlet } | { kind: 'switch'; to: 'on' | 'off'; outlet: Outlet } | { kind: 'memory'; address: number };

const OUTLET_RANGE = `an outlet 1-${OUTLETS} or A (all)`;
const DELAY_RANGE = '0 (immediately), 0.1-0.9, or whole minutes 1-99';
const RESTORE_RANGE = 'whole minutes 0-9999 (0 = after one second)';

function parseOutlet(verb: string, s: string | undefined): Outlet {
  if (s === undefined) throw new InputError(`pdu ${verb}: missing the outlet: ${OUTLET_RANGE}`);
  if (/^[aA]$/.test(s)) return 'A';
  if (/^[1-9]$/.test(s) && Number(s) <= OUTLETS) return Number(s);
  throw new InputError(`pdu ${verb}: outlet "${s}" is not ${OUTLET_RANGE}`);
}

/** Minutes → tenths of a minute, as §1.4 allows them. */
function parseDelay(verb: string, s: string | undefined): number {
  if (s === undefined) throw new InputError(`pdu ${verb}: missing the delay: ${DELAY_RANGE}`);
  if (!/^(?:\d{1,2}(?:\.\d)?|\.\d)$/.test(s)) throw new InputError(`pdu ${verb}: delay "${s}" is not ${DELAY_RANGE}`);
  const tenths = Math.round(Number(s) * 10);
  const ok = tenths === 0 || (tenths >= 1 && tenths <= 9) || (tenths % 10 === 0 && tenths >= 10 && tenths <= 990);
  if (!ok) throw new InputError(`pdu ${verb}: delay "${s}" is not ${DELAY_RANGE}`);
  return tenths;
}

function parseRestore(verb: string, s: string | undefined): number {
  if (s === undefined) throw new InputError(`pdu ${verb}: missing the restore delay: ${RESTORE_RANGE}`);
  if (!/^\d{1,4}$/.test(s)) throw new InputError(`pdu ${verb}: restore delay "${s}" is not ${RESTORE_RANGE}`);
  return Number(s);
}

function noMore(verb: string, args: readonly string[], n: number, usage: string): void {
  if (args.length > n) throw new InputError(`pdu ${verb}: too many arguments (${args.slice(n).join(' ')}); usage: ${verb} ${usage}`.trimEnd());
}

function minutes(tenths: number): string {
  return tenths === 0 ? 'immediately' : `in ${tenths / 10} min`;
}

function outletText(o: Outlet): string {
  return o === 'A' ? 'all outlets' : `outlet ${o}`;
}

/** The config must list the verb, and the outlet (or `all` for A). */
function checkAllowed(device: string, verb: PduWriteVerb, outlet: Outlet | undefined, options: PduOptions): void {
  const { allow, outlets } = options.control;
  if (!allow.includes(verb)) {
    throw new ConfigError(`${device}: control verb "${verb}" is not allowed for this device (allowed: ${allow.join(', ') || 'none'}); add it to options.control.allow`);
  }
  if (outlet === undefined) return;
  const ok = outlets === 'all' || (outlet !== 'A' && outlets.includes(outlet));
  if (!ok) {
    const listed = (outlets as number[]).join(', ') || 'none';
    const hint = outlet === 'A' ? 'outlet A (all) needs options.control.outlets: all' : `add ${outlet} to options.control.outlets`;
    throw new ConfigError(`${device}: ${verb} on ${outletText(outlet)} is not allowed (allowed outlets: ${listed}); ${hint}`);
  }
}

export function preparePduControl(verb: string, args: readonly string[], options: PduOptions, device: string): ControlRequest {
  const spec = PDU_VERBS.find((v) => v.name === verb);
  if (!spec) throw new InputError(`pdu: unknown verb "${verb}" (verbs: ${PDU_VERBS.map((v) => v.name).join(', ')})`);
  switch (verb) {
    case 'memory': {
      noMore(verb, args, 1, spec.usage);
      const s = args[0];
      if (s === undefined || !/^\d{1,2}$/.test(s) || Number(s) > MEMORY_MAX) throw new InputError(`pdu memory: address "${s ?? ''}" is not 0-${MEMORY_MAX}`);
      const address = Number(s);
      return { verb, params: { kind: 'memory', address } satisfies PduControlParams, summary: `read memory address ${address}` };
    }
    case 'shutdown': {
      noMore(verb, args, 2, spec.usage);
      const outlet = parseOutlet(verb, args[0]);
      const delay = parseDelay(verb, args[1]);
      checkAllowed(device, verb, outlet, options);
      return { verb, params: { kind: 'command', command: shutdownCommand(outlet, delay), outlets: outlet } satisfies PduControlParams, summary: `shutdown ${outletText(outlet)} ${minutes(delay)}` };
    }
    case 'shutdown-restore': {
      noMore(verb, args, 3, spec.usage);
      const outlet = parseOutlet(verb, args[0]);
      const delay = parseDelay(verb, args[1]);
      const restore = parseRestore(verb, args[2]);
      checkAllowed(device, verb, outlet, options);
      const back = restore === 0 ? 'back on after 1 s' : `back on after ${restore} min`;
      return {
        verb,
        params: { kind: 'command', command: shutdownCommand(outlet, delay, restore), outlets: outlet } satisfies PduControlParams,
        summary: `shutdown ${outletText(outlet)} ${minutes(delay)}, ${back}`,
      };
    }
    case 'cancel': {
      noMore(verb, args, 1, spec.usage);
      const outlet = parseOutlet(verb, args[0]);
      checkAllowed(device, verb, outlet, options);
      return { verb, params: { kind: 'command', command: cancelCommand(outlet), outlets: outlet } satisfies PduControlParams, summary: `cancel shutdown/restore of ${outletText(outlet)}` };
    }
    case 'on':
    case 'off': {
      noMore(verb, args, 1, spec.usage);
      const outlet = parseOutlet(verb, args[0]);
      checkAllowed(device, verb, outlet, options);
      return { verb, params: { kind: 'switch', to: verb, outlet } satisfies PduControlParams, summary: `switch ${outletText(outlet)} ${verb}` };
    }
    case 'test':
    case 'energy-clear': {
      noMore(verb, args, 0, spec.usage);
      checkAllowed(device, verb, undefined, options);
      const command = verb === 'test' ? TEST_COMMAND : ENERGY_CLEAR_COMMAND;
      const summary = verb === 'test' ? 'test: LEDs and buzzer on for 5 s' : 'clear every energy counter';
      return { verb, params: { kind: 'command', command } satisfies PduControlParams, summary };
    }
  }
  throw new InputError(`pdu: verb "${verb}" has no handler`);
}

export const pduControl: DriverControl<PduOptions> = {
  cliName: 'pdu',
  verbs: PDU_VERBS,
  prepare: preparePduControl,
};

/** The switching recipe's commands for one outlet (§1.4, mqtt.py). */
export function switchCommand(outlet: Outlet, to: 'on' | 'off'): string {
  return to === 'on' ? shutdownCommand(outlet, SWITCH_DELAY_TENTHS, 0) : shutdownCommand(outlet, SWITCH_DELAY_TENTHS);
}
