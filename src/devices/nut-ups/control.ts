/**
 * NUT instant commands as control verbs (`wattline control <device> …`, alias `wattline ups
 * <device> …`, or through the running worker): `commands` lists what upsd offers for the UPS,
 * `cmd <name> [value]` sends one the device's `options.commands.allow` lists. prepare() is
 * pure (arguments and allowance checked before anything connects); carryOut() runs on the
 * session's own connection to upsd, after its STARTTLS and login.
 */
import { ConfigError, InputError } from '../../core/errors.js';
import type { ControlRequest, ControlResult, DriverControl } from '../types.js';
import type { NutUpsOptions } from './config.js';
import { NutUpsError } from './errors.js';
import { cmdDescRequest, instcmdRequest, ListReader, listCmdRequest, NutError, readCmdDesc, readInstcmdReply } from './codec.js';

export type NutUpsControlParams = { kind: 'list' } | { kind: 'instcmd'; name: string; line: string };

/** What to do about an ERR upsd gives an instant command. */
const HINTS: Record<string, string> = {
  'ACCESS-DENIED': 'check username/password and that the upsd.users user has this command under instcmds',
  'USERNAME-REQUIRED': 'set options.username/password to an upsd.users user with instcmds',
  'PASSWORD-REQUIRED': 'set options.password',
  'CMD-NOT-SUPPORTED': 'the UPS driver does not offer it; `wattline ups <device> commands` lists what it offers',
  'UNKNOWN-UPS': 'check options.ups (`upsc -l` lists the names upsd knows)',
};

export const nutUpsControl: DriverControl<NutUpsOptions> = {
  verbs: [
    { name: 'commands', usage: '', description: 'List the instant commands upsd offers for this UPS, with their descriptions', readOnly: true },
    { name: 'cmd', usage: '<name> [value]', description: 'Send an instant command (test.battery.start, load.off.delay 120, …) that options.commands.allow lists' },
  ],
  prepare(verb, args, options, device): ControlRequest {
    if (verb === 'commands') {
      if (args.length) throw new InputError(`ups ${device} commands: takes no arguments (got ${args.join(' ')})`);
      return { verb, params: { kind: 'list' } satisfies NutUpsControlParams, summary: `list the instant commands of UPS ${options.ups}` };
    }
    const [name, value, ...rest] = args;
    if (name === undefined || rest.length) throw new InputError(`ups ${device} cmd: expected <name> [value]`);
    const allowed = options.commands.allow;
    if (!allowed.includes(name)) {
      throw new ConfigError(`${device}: instant command "${name}" is not allowed by the config (options.commands.allow: ${allowed.length ? allowed.join(', ') : 'none'})`);
    }
    let line: string;
    try {
      line = instcmdRequest(options.ups, name, value);
    } catch (err) {
      throw new InputError(`ups ${device} cmd: ${(err as Error).message}`);
    }
    return { verb, params: { kind: 'instcmd', name, line } satisfies NutUpsControlParams, summary: `instant command ${name}${value !== undefined ? ` ${value}` : ''} on UPS ${options.ups}` };
  },
};

/** One request on the session's connection; ERR replies reject with a NutError and keep the connection. */
export type UpsdRequest = <T>(command: string, onLine: (line: string) => { value: T } | undefined) => Promise<T>;

/** Carry out a prepared request; an ERR from upsd becomes a NutUpsError saying what to do about it. */
export async function carryOut(params: NutUpsControlParams, ups: string, device: string, request: UpsdRequest): Promise<ControlResult> {
  try {
    if (params.kind === 'list') return await listCommands(ups, request);
    const reply = await request(params.line, (line) => {
      const r = readInstcmdReply(line);
      if (!r.ok) throw r.error;
      return { value: r.value };
    });
    return { message: reply.line, data: { command: params.name, ...(reply.tracking ? { tracking: reply.tracking } : {}) } };
  } catch (err) {
    if (!(err instanceof NutError)) throw err;
    const hint = HINTS[err.nutCode]?.replace('<device>', device);
    const what = params.kind === 'list' ? 'the command list' : params.name;
    const reason = err.nutCode === 'ACCESS-DENIED' ? 'access-denied' : err.nutCode === 'UNKNOWN-UPS' ? 'unknown-ups' : 'nut';
    throw new NutUpsError(`${device}: upsd refused ${what} on UPS ${ups}: ERR ${err.nutCode}${err.extra ? ` ${err.extra}` : ''}${hint ? ` (${hint})` : ''}`, device, reason, [], { cause: err });
  }
}

/** `LIST CMD`, then `GET CMDDESC` for each (an older upsd without CMDDESC answers ERR: the name alone). */
async function listCommands(ups: string, request: UpsdRequest): Promise<ControlResult> {
  const reader = new ListReader('CMD', ups);
  const entries = await request(listCmdRequest(ups), (line) => {
    const out = reader.push(line);
    if (!out.done) return undefined;
    if (!out.ok) throw out.error;
    return { value: out.entries };
  });
  const commands: { name: string; description?: string }[] = [];
  for (const name of entries.keys()) {
    const description = await request(cmdDescRequest(ups, name), (line) => {
      const r = readCmdDesc(line, ups, name);
      return { value: r.ok ? r.value : undefined };
    });
    commands.push(description === undefined ? { name } : { name, description });
  }
  const message = commands.length === 0 ? `upsd lists no instant commands for UPS ${ups}` : commands.map((c) => (c.description ? `${c.name}\t${c.description}` : c.name)).join('\n');
  return { message, data: { commands } };
}
