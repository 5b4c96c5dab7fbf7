/**
 * What `run` checks before it opens a port or writes a file, beyond the schema:
 * the files the config names (those read exist, those written can be created, without creating
 * anything), InfluxDB's CA file, the MQTT section's TLS files and device names, and serial ports (a missing one is
 * a warning: a device may be unplugged, and the worker keeps trying to open it). `config check`
 * and `run`/`once`/`test` call this one function, so they can never disagree.
 */
import { X509Certificate } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, statSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { Driver } from '../devices/types.js';
import { formatPath } from '../config/issues.js';
import { ConfigProblems, resolveConfigPath, type LoadedConfig, type SalvagedConfig } from '../config/load.js';

export interface CheckOptions {
  /** The verb writes: outbox, capture archive and driver files must be creatable (run, once; not test). */
  writes: boolean;
  /** The verb starts the MQTT output (run). */
  mqtt: boolean;
}

export interface ConfigCheck {
  /** One line each, `file: place: what`; any of them refuses the start (exit 2). */
  problems: string[];
  /** Said, but no reason to refuse (a serial port not plugged in yet). */
  warnings: string[];
  /** The mqtt section's summary for `config check` (empty without one, or when not asked). */
  mqtt: string[];
}

/**
 * Load the config (`load`: loadConfig with the verb's options) and check it as `run` does before
 * it starts: the one function `config check`, `run`, `once` and `test` use. Refused: one
 * ConfigError with every problem, the schema's and (for the parts that passed it) the files'.
 */
export async function loadChecked(load: () => LoadedConfig, drivers: readonly Driver[], options: CheckOptions): Promise<{ loaded: LoadedConfig; check: ConfigCheck }> {
  let loaded: LoadedConfig;
  try {
    loaded = load();
  } catch (err) {
    if (err instanceof ConfigProblems && err.partial) {
      const more = await checkConfig(err.partial, drivers, options);
      if (more.problems.length > 0) throw new ConfigError([err.message, ...more.problems].join('\n'));
    }
    throw err;
  }
  const check = await checkConfig(loaded, drivers, options);
  if (check.problems.length > 0) throw new ConfigError(check.problems.join('\n'));
  return { loaded, check };
}

/** A loaded config, or the parts of a refused one that passed the schema. */
type Checked = Pick<LoadedConfig, 'path' | 'dir' | 'name'> & { config: SalvagedConfig };

/** The checks beyond the schema, on a loaded config or on what passed of a refused one. */
export async function checkConfig(loaded: Checked | LoadedConfig, drivers: readonly Driver[], options: CheckOptions): Promise<ConfigCheck> {
  const name = loaded.name ?? loaded.path ?? 'config';
  const result: ConfigCheck = { problems: [], warnings: [], mqtt: [] };
  const problem = (where: string, what: string | null) => {
    if (what) result.problems.push(`${name}: ${where}: ${what}`);
  };
  const config = loaded.config as SalvagedConfig;
  const complete = config.devices.every((d) => d !== undefined);
  const devices = config.devices.flatMap((device, index) => (device?.enabled ? [{ device, index }] : []));

  if (options.writes) {
    if (config.outbox) problem('outbox.path', writableProblem(resolveConfigPath(loaded, config.outbox.path)));
    if (config.capture && devices.some(({ device }) => device.capture)) problem('capture.path', writableProblem(resolveConfigPath(loaded, config.capture.path)));
  }
  // What the writers read at start (tls.ts): refused here as run would refuse it.
  const ca = config.influx?.tls?.ca;
  if (ca) problem('influx.tls.ca', certificateProblem(resolveConfigPath(loaded, ca)));
  if (options.mqtt && config.mqtt) {
    // Loaded only when configured (a worker without MQTT does not carry its modules); offline, no broker.
    const { mqttSummary } = await import('../mqtt/summary.js');
    const enabled = devices.map(({ device }) => ({ name: device.name, driver: drivers.find((x) => x.id === device.driver)!, options: device.options }));
    try {
      // Which devices the compatibility topics name is known only when every device entry passed.
      const mqtt = complete ? config.mqtt : { ...config.mqtt, compatibility: { ...config.mqtt.compatibility, mode: 'off' as const } };
      result.mqtt = mqttSummary(mqtt, enabled, `wattline-${config.site ?? hostname()}`, (p) => resolveConfigPath(loaded, p));
      if (complete && config.mqtt.vscp) {
        // The P1 device and the GUID (a named interface's MAC), as run resolves them at start.
        const { createVscpOutput } = await import('../vscp/output.js');
        const vscp = createVscpOutput(
          config.mqtt.vscp,
          enabled.map((d) => ({ name: d.name, driver: d.driver.id })),
        );
        result.mqtt.push(`vscp: ${config.mqtt.vscp.profile} profile, telegrams of ${vscp.device}, GUID ${vscp.guid}`);
      }
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      result.problems.push(`${name}: ${err.message}`);
    }
  }
  for (const { device, index } of devices) {
    const driver = drivers.find((d) => d.id === device.driver);
    if (!driver) continue;
    const place = (...rest: PropertyKey[]) => formatPath(['devices', index, ...rest], { devices: config.devices });
    const inputs = new Set(driver.inputFiles ?? []);
    for (const key of driver.pathOptions ?? []) {
      const file = optionAt(device.options, key);
      if (typeof file !== 'string') continue;
      // A simulated device's simulator writes what the real device's owner provides (the demo's parameter map).
      if (inputs.has(key) && !device.simulate) problem(place('options', ...key.split('.')), readableProblem(file));
      else if (options.writes) problem(place('options', ...key.split('.')), writableProblem(file));
    }
    if (device.simulate || driver.link === 'network') continue;
    const local = device.port ? { key: 'port', path: device.port.path } : device.hid?.path ? { key: 'hid', path: device.hid.path } : null;
    if (local && !/^[a-z][a-z0-9+.-]*:\/\//i.test(local.path) && !existsSync(local.path)) {
      result.warnings.push(`${name}: ${place(local.key, 'path')}: ${local.path} does not exist (yet): the worker starts without it and keeps trying to open it`);
    }
  }
  return result;
}

function optionAt(options: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), options);
}

function statOf(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function can(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** A file read and never written: it exists, is a file, and can be read. */
function readableProblem(file: string): string | null {
  const st = statOf(file);
  if (!st) return `${file} not found`;
  if (!st.isFile()) return `${file} is ${st.isDirectory() ? 'a folder' : 'not a regular file'}`;
  return can(file, constants.R_OK) ? null : `${file} is not readable`;
}

/** A CA file: readable, and a PEM certificate. */
function certificateProblem(file: string): string | null {
  const unreadable = readableProblem(file);
  if (unreadable) return unreadable;
  try {
    new X509Certificate(readFileSync(file));
    return null;
  } catch (err) {
    return `${file} is not a PEM certificate (${errorMessage(err)})`;
  }
}

/**
 * A file the worker writes (SQLite, with -wal/-shm files beside it): an existing one is a
 * regular file it can write, and the nearest existing folder on its way can take new files.
 * Nothing is created to find out.
 */
function writableProblem(file: string): string | null {
  const st = statOf(file);
  if (st) {
    if (!st.isFile()) return `${file} is ${st.isDirectory() ? 'a folder' : 'not a regular file'}`;
    if (!can(file, constants.R_OK | constants.W_OK)) return `${file} is not writable`;
  }
  let dir = dirname(file);
  let dst = statOf(dir);
  while (!dst && dirname(dir) !== dir) {
    dir = dirname(dir);
    dst = statOf(dir);
  }
  if (!dst?.isDirectory()) return `cannot create ${file}: ${dir} is not a folder`;
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    return `cannot create ${file}: ${dir} is not writable (${errorMessage(err).split(',')[0]})`;
  }
  return null;
}
