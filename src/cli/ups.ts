/**
 * `wattline ups <device> commands` and `wattline ups <device> cmd <name> [value]`: NUT
 * instant commands for a configured nut-ups device (src/devices/nut-ups/commands.ts).
 * A command the device's `options.commands.allow` does not list is refused (exit 2)
 * before anything connects; an ERR from upsd is exit 1 with one line.
 */
import type { Command } from 'commander';
import type { LoadedConfig } from '../config/load.js';
import type { DeviceConfig } from '../config/schema.js';
import { ConfigError, InputError } from '../core/errors.js';
import type { NutUpsOptions } from '../devices/nut-ups/config.js';
import { listInstantCommands, runInstantCommand } from '../devices/nut-ups/commands.js';
import { drivers } from '../devices/index.js';
import { NutError } from '../devices/nut-ups/protocol.js';
import { createTransport } from '../assembly/transport.js';
import { action, EXIT, load } from './common.js';

const HINTS: Record<string, string> = {
  'ACCESS-DENIED': 'check username/password and that the upsd.users user has this command under instcmds',
  'USERNAME-REQUIRED': 'set options.username/password to an upsd.users user with instcmds',
  'PASSWORD-REQUIRED': 'set options.password',
  'CMD-NOT-SUPPORTED': 'the UPS driver does not offer it; `wattline ups <device> commands` lists what it offers',
  'UNKNOWN-UPS': 'check options.ups (`upsc -l` lists the names upsd knows)',
};

export function registerUpsVerbs(program: Command): void {
  program
    .command('ups')
    .description('NUT instant commands of a nut-ups device: list them, or send one the config allows')
    .argument('<device>', 'a configured nut-ups device')
    .argument('<action>', 'commands (list what the UPS offers) or cmd (send one)')
    .argument('[args...]', 'for cmd: <name> [value]')
    .addHelpText(
      'after',
      `
Examples:
  wattline ups rack-ups commands                      what the UPS offers, with descriptions
  wattline ups rack-ups cmd test.battery.start        start a battery test
  wattline ups rack-ups cmd load.off.delay 120        a command with a value

cmd sends only what the device's config allows (options.commands.allow; none by default)
and needs options.username/password of an upsd.users user with instcmds, e.g.:
  [wattline]
    password = secret            (in upsd.users; wattline gets it from options.password)
    instcmds = test.battery.start
Exit codes: 0 upsd answered OK (printed), 1 upsd answered ERR or could not be reached,
2 not a nut-ups device, command not allowed, or bad usage.`,
    )
    .action(
      action(async (device: string, verb: string, args: string[], _opts: unknown, cmd: Command) => {
        const loaded = load(cmd, false);
        const d = nutDevice(loaded, device);
        const options = d.options as NutUpsOptions;
        if (verb === 'commands') {
          if (args.length) throw new InputError(`ups ${device} commands: takes no arguments (got ${args.join(' ')})`);
          const list = await withLink(d, (transport) => listInstantCommands(options, { device, transport, descriptions: true, signal: AbortSignal.timeout(options.timeoutMs * 20) }));
          for (const c of list) process.stdout.write(c.description ? `${c.name}\t${c.description}\n` : `${c.name}\n`);
          if (list.length === 0) process.stderr.write(`wattline: ${device}: upsd lists no instant commands for UPS ${options.ups}\n`);
          return EXIT.ok;
        }
        if (verb === 'cmd') {
          const [name, value, ...rest] = args;
          if (name === undefined || rest.length) throw new InputError(`ups ${device} cmd: expected <name> [value]`);
          const allowed = options.commands.allow;
          if (!allowed.includes(name)) {
            throw new ConfigError(`${device}: instant command "${name}" is not allowed by the config (options.commands.allow: ${allowed.length ? allowed.join(', ') : 'none'})`);
          }
          try {
            const reply = await withLink(d, (transport) => runInstantCommand(options, name, value, { device, transport, signal: AbortSignal.timeout(options.timeoutMs * 4) }));
            process.stdout.write(`${reply.line}\n`);
            return EXIT.ok;
          } catch (err) {
            if (!(err instanceof NutError)) throw err;
            const hint = HINTS[err.nutCode];
            process.stderr.write(`wattline: ${device}: upsd refused ${name} on UPS ${options.ups}: ERR ${err.nutCode}${err.extra ? ` ${err.extra}` : ''}${hint ? ` (${hint.replace('<device>', device)})` : ''}\n`);
            return EXIT.failed;
          }
        }
        throw new InputError(`ups ${device}: unknown action "${verb}" (expected commands or cmd)`);
      }),
    );
}

function nutDevice(loaded: LoadedConfig, name: string): DeviceConfig {
  const nut = (loaded.config.devices as DeviceConfig[]).filter((d) => d.driver === 'nut-ups');
  const d = nut.find((x) => x.name === name);
  if (!d) throw new ConfigError(`no nut-ups device named "${name}" (nut-ups devices: ${nut.map((x) => x.name).join(', ') || 'none'})`);
  return d;
}

/** The device's link: upsd over TCP, or the simulator on a sim link with `simulate: true`. */
async function withLink<T>(d: DeviceConfig, fn: (transport: ReturnType<typeof createTransport>['transport']) => Promise<T>): Promise<T> {
  const driver = drivers.find((x) => x.id === d.driver)!;
  const { transport, simulator } = createTransport(d, driver);
  try {
    await simulator?.ready;
    return await fn(transport);
  } finally {
    simulator?.stop();
  }
}
