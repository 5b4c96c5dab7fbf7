/**
 * `wattline ups <device> commands` and `wattline ups <device> cmd <name> [value]`: the nut-ups
 * driver's control verbs (src/devices/nut-ups/control.ts) under the name they had before they
 * were control verbs; the same as `wattline control <device> commands | cmd …`. A command the
 * device's `options.commands.allow` does not list is refused (exit 2) before anything
 * connects; an ERR from upsd is exit 1 with one line.
 */
import type { Command } from 'commander';
import type { LoadedConfig } from '../config/load.js';
import type { DeviceConfig } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { drivers } from '../devices/index.js';
import type { Driver } from '../devices/types.js';
import { action, load } from './common.js';
import { controlDevice, withControlOptions, type ControlOpts } from './control.js';

/** From the registry: the CLI names no driver folder. */
const nutUpsDriver: Driver = drivers.find((d) => d.id === 'nut-ups')!;

export function registerUpsVerbs(program: Command): void {
  const command = program
    .command('ups')
    .description('NUT instant commands of a nut-ups device: list them, or send one the config allows (same as wattline control)')
    .argument('<device>', 'a configured nut-ups device')
    .argument('<action>', 'commands (list what the UPS offers) or cmd (send one)')
    .argument('[args...]', 'for cmd: <name> [value]');
  withControlOptions(command)
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
While \`wattline run\` holds the device, the command goes through its connection to upsd.
Exit codes: 0 upsd answered OK (printed), 1 upsd answered ERR or could not be reached,
2 not a nut-ups device, command not allowed, or bad usage.`,
    )
    .action(
      action(async (device: string, verb: string, args: string[], opts: ControlOpts, cmd: Command) => {
        const loaded = load(cmd, true);
        return controlDevice(loaded, nutDevice(loaded, device), nutUpsDriver, verb, args, opts, cmd);
      }),
    );
}

function nutDevice(loaded: LoadedConfig, name: string): DeviceConfig {
  const nut = (loaded.config.devices as DeviceConfig[]).filter((d) => d.driver === nutUpsDriver.id);
  const d = nut.find((x) => x.name === name);
  if (!d) throw new ConfigError(`no nut-ups device named "${name}" (nut-ups devices: ${nut.map((x) => x.name).join(', ') || 'none'})`);
  return d;
}
