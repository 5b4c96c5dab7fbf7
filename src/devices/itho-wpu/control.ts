/**
 * Control verbs (`wattline itho <device> <verb>`): the reads need no config; setting-set
 * and manual exist only when `control.allow` names them, and the CLI asks for confirmation.
 * prepare() is pure: arguments parsed and checked here; scaling by the datatype's decimals
 * happens in the session, which reads the setting's datatype from the WPU first.
 */
import { ConfigError, InputError } from '../../core/errors.js';
import type { ControlRequest, ControlVerbSpec, DriverControl } from '../types.js';
import type { IthoWpuOptions } from './config.js';

export type IthoParams =
  | { verb: 'nodeid' | 'serial' | 'datatype' | 'datalog' | 'counters' }
  | { verb: 'setting'; id: number }
  | { verb: 'setting-set'; id: number; value: number; text: string }
  | { verb: 'manual'; id: number; value: number; text: string; start: boolean };

const VERBS: readonly ControlVerbSpec[] = [
  { name: 'nodeid', usage: '', description: 'Manufacturer, hardware type, product and list version', readOnly: true },
  { name: 'serial', usage: '', description: 'Serial number', readOnly: true },
  { name: 'datatype', usage: '', description: 'The type code of every datalog field, with its label', readOnly: true },
  { name: 'datalog', usage: '', description: 'Every datalog field, decoded and labelled', readOnly: true },
  { name: 'counters', usage: '', description: 'Operating counters (hours, starts), labelled', readOnly: true },
  { name: 'setting', usage: '<id>', description: 'One installer setting: value, min, max, step', readOnly: true },
  { name: 'setting-set', usage: '<id> <value>', description: 'Write one installer setting (scaled by its decimals; sent once, never repeated)', confirm: true },
  { name: 'manual', usage: '<id> <value|stop>', description: 'Start (value) or finish (stop) a manual-operation override', confirm: true },
];

function parseId(text: string | undefined, verb: string, max: number): number {
  if (text === undefined || !/^\d+$/.test(text)) throw new InputError(`itho ${verb}: expected an id 0..${max}, got ${text === undefined ? 'nothing' : JSON.stringify(text)}`);
  const id = Number(text);
  if (id > max) throw new InputError(`itho ${verb}: id ${id} is out of range 0..${max}`);
  return id;
}

function parseValue(text: string | undefined, verb: string): number {
  if (text === undefined) throw new InputError(`itho ${verb}: expected a value`);
  if (/^-/.test(text.trim())) throw new InputError(`itho ${verb}: negative values are refused (got ${text})`);
  if (!/^\d+(\.\d+)?$/.test(text.trim())) throw new InputError(`itho ${verb}: expected a non-negative number such as 48 or 2.5, got ${JSON.stringify(text)}`);
  return Number(text);
}

function allowed(options: IthoWpuOptions, verb: 'setting-set' | 'manual', device: string): void {
  if (!options.control.allow.includes(verb)) {
    throw new ConfigError(`${device}: ${verb} is not allowed by the config (add it to options.control.allow of this device)`);
  }
}

export const ithoControl: DriverControl<IthoWpuOptions> = {
  cliName: 'itho',
  verbs: VERBS,
  prepare(verb, args, options, device): ControlRequest {
    const extra = (n: number) => {
      if (args.length > n) throw new InputError(`itho ${verb}: unexpected argument ${JSON.stringify(args[n])}`);
    };
    switch (verb) {
      case 'nodeid':
      case 'serial':
      case 'datatype':
      case 'datalog':
      case 'counters':
        extra(0);
        return { verb, params: { verb } satisfies IthoParams, summary: `read ${verb}` };
      case 'setting': {
        extra(1);
        const id = parseId(args[0], verb, 255);
        return { verb, params: { verb, id } satisfies IthoParams, summary: `read setting ${id}` };
      }
      case 'setting-set': {
        allowed(options, verb, device);
        extra(2);
        const id = parseId(args[0], verb, 255);
        const value = parseValue(args[1], verb);
        return { verb, params: { verb, id, value, text: args[1]!.trim() } satisfies IthoParams, summary: `set setting ${id} to ${args[1]!.trim()}` };
      }
      case 'manual': {
        allowed(options, verb, device);
        extra(2);
        const id = parseId(args[0], verb, 0xffff);
        const stop = args[1] === 'stop';
        const value = stop ? 0 : parseValue(args[1], verb);
        const text = stop ? 'stop' : args[1]!.trim();
        return { verb, params: { verb, id, value, text, start: !stop } satisfies IthoParams, summary: stop ? `finish manual override ${id}` : `manual override ${id} = ${text}` };
      }
      default:
        throw new ConfigError(`${device}: unknown verb "${verb}" for driver itho-wpu (verbs: ${VERBS.map((v) => v.name).join(', ')})`);
    }
  },
};

/** Decimals written in a user's number ("2.50" → 2). */
export function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}
