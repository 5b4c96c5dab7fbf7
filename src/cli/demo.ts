/**
 * `wattline demo`: the worker on every driver's simulator, asked for by name (`npm start`).
 * No other verb falls back to it: a missing config is exit 2 (config/locate.ts).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../core/errors.js';
import { packageRoot } from '../core/package.js';
import { drivers } from '../devices/index.js';
import { demoDevices } from '../simulators/index.js';
import { action, globals } from './common.js';
import { runDaemon } from './run.js';

export function registerDemoVerb(program: Command): void {
  program
    .command('demo')
    .description('Run the worker on built-in simulated devices (no hardware, no config; InfluxDB when INFLUX_URL is set)')
    .addHelpText(
      'after',
      `
Every driver's simulator, polled every 2 s, the lines printed on stdout. INFLUX_URL (and
INFLUX_DATABASE, or INFLUX_VERSION=2 with INFLUX_BUCKET/INFLUX_TOKEN) from the environment or
./.env sends them to InfluxDB. Its outbox: data/demo-outbox.sqlite in a clone of the
repository, otherwise under $XDG_STATE_HOME/wattline (~/.local/state/wattline); never in the
working directory of an installed package. SIGTERM or Ctrl-C stops it.`,
    )
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        if (globals(cmd).config !== undefined) throw new ConfigError('demo: --config: the demo runs its built-in config; use `wattline run --config <file>` for yours');
        const loaded = loadConfig({ drivers, demo: true, demoDir: demoDir(process.env), demoDevices: demoDevices() });
        return runDaemon(cmd, loaded);
      }),
    );
}

/**
 * What the demo's relative paths (data/demo-outbox.sqlite, the Itho demo map and cache) are
 * relative to: the clone itself (its tsconfig.json marks it: a package has none), so
 * `npm start` keeps data/ where it always was; an installed package's demo keeps its state
 * where the XDG base directory spec puts state, not in whatever folder it was started from.
 */
export function demoDir(env: NodeJS.ProcessEnv): string {
  const root = packageRoot();
  if (existsSync(join(root, 'tsconfig.json'))) return root;
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'wattline');
}
