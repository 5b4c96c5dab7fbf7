/**
 * `wattline control <device> <verb> [args...]` and the per-driver aliases (`wattline pdu …`,
 * `wattline vebus …`): a driver's control verbs. The arguments and the config's allowance are
 * checked before anything connects (exit 2). While `wattline run` owns the device's port, the
 * request goes through its control endpoint; otherwise this process opens the port itself.
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { LoadedConfig } from '../config/load.js';
import { resolveConfigPath } from '../config/load.js';
import type { DeviceConfig } from '../config/schema.js';
import { sendToRunningWorker } from '../control/client.js';
import { systemClock } from '../core/clock.js';
import { ConfigError, errorMessage, InputError, TimeoutError, TransportError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { drivers } from '../devices/index.js';
import type { ControlRequest, ControlResult, Driver } from '../devices/types.js';
import { openDevice, prepareControl } from '../assembly/device.js';
import { action, EXIT, load, logger } from './common.js';
import { heldPortMessage } from './via-worker.js';

export interface ControlOpts {
  yes?: boolean;
  format: string;
  timeout: string;
  worker: boolean;
}

/** Registers `control` and one alias per driver's cliName; returns the aliases' commands by name. */
export function registerControlVerbs(program: Command): Map<string, Command> {
  addControlCommand(program, 'control', null);
  const aliases = new Map<string, Command>();
  for (const driver of drivers) {
    if (driver.control?.cliName) aliases.set(driver.control.cliName, addControlCommand(program, driver.control.cliName, driver));
  }
  return aliases;
}

function addControlCommand(program: Command, name: string, only: Driver | null): Command {
  const withControl = only ? [only] : drivers.filter((d) => d.control);
  const command = program
    .command(name)
    .description(only ? `${only.description}: control verbs (same as wattline control)` : 'Send a control verb to a device (outlets, set-points, settings): through the running worker, or directly')
    .argument('<device>', only ? `a configured ${only.id} device` : 'a configured device whose driver has control verbs')
    .argument('<verb>', 'what to do (listed below)')
    .argument('[args...]', "the verb's arguments");
  return withControlOptions(command)
    .addHelpText('after', () => verbHelp(withControl))
    .action(
      action(async (device: string, verb: string, args: string[], opts: ControlOpts, cmd: Command) => {
        const loaded = load(cmd, true);
        const config = findDevice(loaded, device);
        const driver = drivers.find((d) => d.id === config.driver)!;
        if (only && driver.id !== only.id) throw new ConfigError(`${device} is a ${driver.id} device, not ${only.id} (use wattline control ${device} …)`);
        return controlDevice(loaded, config, driver, verb, args, opts, cmd);
      }),
    );
}

/** The options every control command takes (`control`, the driver aliases, `ups`). */
export function withControlOptions(command: Command): Command {
  return command
    .option('-y, --yes', 'do not ask for confirmation (verbs that change device settings ask)')
    .option('--format <format>', 'text or json', 'text')
    .option('--timeout <ms>', 'give up after this long', '30000')
    .option('--no-worker', 'never go through a running worker; open the port here (fails while a worker holds it)');
}

/**
 * One control verb for a device already found in the config: arguments and allowance checked
 * before anything connects (exit 2), then through the running worker if it holds the device,
 * otherwise directly; the result printed as text or JSON.
 */
export async function controlDevice(loaded: LoadedConfig, config: DeviceConfig, driver: Driver, verb: string, args: readonly string[], opts: ControlOpts, cmd: Command): Promise<number> {
  const log = logger(cmd, loaded, 'warn');
  if (opts.format !== 'text' && opts.format !== 'json') throw new ConfigError(`--format: expected text or json, got "${opts.format}"`);
  const timeoutMs = Number(opts.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new ConfigError(`--timeout: expected milliseconds (a positive whole number), got "${opts.timeout}"`);
  const device = config.name;

  // Validation and allowance first: a refused command never touches the port.
  const request = prepareControl(driver, config, verb, args);
  const spec = driver.control!.verbs.find((v) => v.name === verb)!;
  if (spec.confirm && !opts.yes) await confirm(`${device}: ${request.summary}`);

  const outboxPath = resolveConfigPath(loaded, loaded.config.outbox.path);
  const remote = opts.worker && config.enabled ? await sendToRunningWorker(outboxPath, { device, verb, args: [...args], timeoutMs }) : null;
  let result: ControlResult;
  let via: 'worker' | 'direct';
  if (remote) {
    result = { message: remote.message, ...(remote.data ? { data: remote.data } : {}) };
    via = 'worker';
  } else {
    result = await runDirect(loaded, config, driver, request, timeoutMs, log);
    via = 'direct';
  }
  log.debug({ device, verb, via }, 'control done');
  if (opts.format === 'json') process.stdout.write(JSON.stringify({ device, verb, summary: request.summary, via, message: result.message, data: result.data ?? {} }, null, 2) + '\n');
  else process.stdout.write(`${result.message}\n`);
  return EXIT.ok;
}

function findDevice(loaded: LoadedConfig, name: string): DeviceConfig {
  const all = loaded.config.devices as DeviceConfig[];
  const config = all.find((d) => d.name === name);
  if (!config) throw new ConfigError(`no device named "${name}" (configured: ${all.map((d) => d.name).join(', ') || 'none'})`);
  return config;
}

/** No worker owns the port: open it, carry out the one request, close it again. */
async function runDirect(loaded: LoadedConfig, config: DeviceConfig, driver: Driver, request: ControlRequest, timeoutMs: number, log: Logger): Promise<ControlResult> {
  const { simulator, session } = openDevice(loaded, config, driver, { clock: systemClock, log });
  if (!session.control) throw new ConfigError(`driver ${driver.id} has no control verbs`);
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    await simulator?.ready;
    await session.start();
    return await session.control(request, signal);
  } catch (err) {
    if (signal.aborted && !(err instanceof TimeoutError)) throw new TimeoutError(`${config.name} ${request.verb}: no result within ${timeoutMs} ms`);
    const held = config.port ? heldPortMessage(config.port.path, errorMessage(err)) : null;
    if (held) throw new TransportError(`${config.name}: ${held}`, false);
    throw err;
  } finally {
    await session.close().catch(() => undefined);
    simulator?.stop();
  }
}

async function confirm(what: string): Promise<void> {
  if (!process.stdin.isTTY) throw new ConfigError(`${what}: this changes the device; add --yes to confirm (no terminal to ask on)`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${what}\nType YES to go ahead: `);
    if (answer.trim() !== 'YES') throw new InputError('not confirmed; nothing was sent');
  } finally {
    rl.close();
  }
}

function verbHelp(list: readonly Driver[]): string {
  if (list.length === 0) return '\nNo driver offers control verbs yet.';
  const parts = list.map((d) => {
    const rows = d.control!.verbs.map((v) => {
      const synopsis = `${v.name} ${v.usage}`.trimEnd();
      const text = `${v.description}${v.readOnly ? ' (read only)' : ''}${v.confirm ? ' (asks to confirm)' : ''}`;
      return synopsis.length < 34 ? `    ${synopsis.padEnd(34)} ${text}` : `    ${synopsis}\n    ${''.padEnd(34)} ${text}`;
    });
    return `  ${d.id}:\n${rows.join('\n')}`;
  });
  return `
Verbs by driver:
${parts.join('\n')}

Verbs that change something are refused unless the device's config allows them (the driver's
README says how). While \`wattline run\` holds the device's port, the request goes through its
control endpoint (a unix socket beside the outbox, token-protected); otherwise the port is
opened here. Exit codes: 0 done, 1 the device refused (NAK, ERR) or did not answer,
2 bad arguments or not allowed.`;
}
