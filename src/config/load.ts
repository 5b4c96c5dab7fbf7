import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { Driver } from '../devices/types.js';
import { demoConfig } from './demo.js';
import { environmentWithDotenv, missingVariable, resolveRefs, retype, type References } from './env.js';
import { formatIssues, formatPath } from './issues.js';
import { locateConfig, notFoundMessage } from './locate.js';
import { resolveInfluxPaths } from './influx.js';
import { buildConfigSchema, deviceSchemaFor, type DeviceConfig, type WattlineConfig } from './schema.js';

export { DEFAULT_CONFIG_PATH } from './locate.js';

export interface LoadedConfig {
  config: WattlineConfig;
  /** The file read, or null for the built-in demo. */
  path: string | null;
  /** What the output paths are relative to. */
  dir: string;
  demo: boolean;
  /** How messages name the config (the path as given, or the demo). */
  name?: string;
}

export interface LoadOptions {
  drivers: readonly Driver[];
  /** An explicit --config path; without it the search of locate.ts. */
  path?: string;
  /** The built-in demo config instead of a file (`wattline demo` only: no verb falls back to it). */
  demo?: boolean;
  /** What the demo's relative paths (outbox, Itho map and cache) are relative to; default cwd. */
  demoDir?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The system-wide config's place (default /etc/wattline/wattline.yaml; tests move it). */
  systemPath?: string;
  /** The devices the demo runs (drivers with a simulator, with their demo options); default: every driver, no options. */
  demoDevices?: readonly { driver: string; options?: unknown }[];
}

export function loadConfig(options: LoadOptions): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  if (options.demo) {
    const env = environmentWithDotenv([resolve(cwd, '.env')], options.env);
    const raw = demoConfig(env, options.demoDevices ?? options.drivers.map((d) => ({ driver: d.id })));
    const dir = options.demoDir ?? cwd;
    const config = validate(raw, options.drivers, 'built-in demo config');
    resolveDriverPaths(config.devices as DeviceConfig[], options.drivers, dir);
    return { config, path: null, dir, demo: true, name: 'built-in demo config' };
  }
  const located = locateConfig({ path: options.path, env: options.env ?? process.env, cwd, systemPath: options.systemPath });
  if (!located.found) throw new ConfigError(notFoundMessage(located));
  const { path, name } = located;

  const dir = dirname(path);
  const env = environmentWithDotenv([...new Set([resolve(dir, '.env'), resolve(cwd, '.env')])], options.env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read: ${(err as Error).message}`);
  }
  const raw = parseYaml(text, name);
  const refs: References = { typable: new Set(), missing: [], from: new Map() };
  const resolved = resolveRefs(raw, env, refs);
  let config: WattlineConfig;
  try {
    config = validate(resolved, options.drivers, name, { refs });
  } catch (err) {
    if (err instanceof ConfigProblems && err.salvaged) {
      resolveDriverPaths(
        err.salvaged.devices.filter((d) => d !== undefined),
        options.drivers,
        dir,
      );
      err.partial = { config: err.salvaged, path, dir, name };
    }
    throw err;
  }
  resolveDriverPaths(config.devices as DeviceConfig[], options.drivers, dir);
  resolveInfluxPaths(config.influx, dir);
  return { config, path, dir, demo: false, name };
}

/** File paths inside driver options (Driver.pathOptions) are relative to the config file, like every other path in it. */
function resolveDriverPaths(devices: readonly DeviceConfig[], drivers: readonly Driver[], dir: string): void {
  for (const device of devices) {
    const keys = drivers.find((d) => d.id === device.driver)?.pathOptions ?? [];
    for (const key of keys) {
      const parts = key.split('.');
      let holder = device.options as Record<string, unknown> | undefined;
      for (const part of parts.slice(0, -1)) holder = holder?.[part] as Record<string, unknown> | undefined;
      const last = parts[parts.length - 1]!;
      const value = holder?.[last];
      if (holder && typeof value === 'string' && !isAbsolute(value)) holder[last] = resolve(dir, value);
    }
  }
}

function parseYaml(text: string, name: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const where = e.linePos ? `${name}:${e.linePos[0].line}:${e.linePos[0].col}` : name;
    throw new ConfigError(`${where}: not valid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  let value: unknown;
  try {
    // yaml's maxAliasCount (100) stops a "billion laughs" file before it takes the memory.
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new ConfigError(`${name}: not valid YAML: ${errorMessage(err)} (more than ${MAX_ALIAS_COUNT} alias expansions)`);
  }
  return value ?? {};
}

const MAX_ALIAS_COUNT = 100;

export interface ValidateOptions {
  /** From resolveRefs: whole-`${VAR}` paths that may be typed, and unset variables (each one line, all at once). */
  refs?: References;
}

/** Validate a parsed config; every problem becomes one line `file: path: what`, all of them at once. */
export function validate(raw: unknown, drivers: readonly Driver[], name: string, options: ValidateOptions = {}): WattlineConfig {
  const known = new Set(drivers.map((d) => d.id));
  const missing = options.refs?.missing ?? [];
  const problems = missing.map((m) => missingVariable(`${name}: ${formatPath(m.path, raw)}`, m.name));
  // Issues under these paths follow from a problem already said (an unset variable, an unknown driver).
  const said: PropertyKey[][] = missing.map((m) => m.path);
  if (raw !== null && typeof raw === 'object' && Array.isArray((raw as { devices?: unknown }).devices)) {
    (raw as { devices: unknown[] }).devices.forEach((d, i) => {
      const id = d !== null && typeof d === 'object' ? (d as { driver?: unknown }).driver : undefined;
      const where = `${name}: ${formatPath(['devices', i, 'driver'], raw)}`;
      if (id === undefined) problems.push(`${where}: required (one of ${[...known].join(', ')})`);
      else if (typeof id !== 'string' || !known.has(id)) problems.push(`${where}: unknown driver ${JSON.stringify(id)} (known: ${[...known].join(', ')})`);
      else return;
      said.push(['devices', i]);
    });
  }
  const schema = buildConfigSchema(drivers);
  let doc = raw;
  let result = schema.safeParse(doc, { reportInput: true });
  // Each round can reveal the next typed value (a union picks its branch only once its discriminator is typed).
  for (let round = 0; !result.success && options.refs && round < 8; round++) {
    const next = retype(doc, result.error.issues, options.refs.typable);
    if (next === doc) break;
    doc = next;
    result = schema.safeParse(doc, { reportInput: true });
  }
  if (!result.success) {
    const fresh = result.error.issues.filter((issue) => !said.some((p) => p.every((k, i) => issue.path[i] === k)));
    const from = (path: readonly PropertyKey[]) => options.refs?.from.get(JSON.stringify(path));
    problems.push(...formatIssues(fresh, [], doc, from, schema).map((line) => `${name}: ${line}`));
  }
  if (problems.length > 0 || !result.success) {
    const bad = [...said, ...(result.success ? [] : result.error.issues.map((issue) => issue.path))];
    throw new ConfigProblems(problems.join('\n'), salvage(doc, bad, drivers, schema));
  }
  return result.data;
}

/** A config's sections and devices that passed, the others left out (SalvagedConfig). */
export type SalvagedConfig = Partial<Omit<WattlineConfig, 'devices'>> & { devices: (DeviceConfig | undefined)[] };

/**
 * The config was refused; `partial` holds what passed the schema, so the checks of the files
 * can still run on it and every problem is said at once (check.ts: loadChecked).
 */
export class ConfigProblems extends ConfigError {
  partial?: Pick<LoadedConfig, 'path' | 'dir' | 'name'> & { config: SalvagedConfig };
  constructor(
    message: string,
    readonly salvaged: SalvagedConfig | undefined,
  ) {
    super(message);
  }
}

/** The sections (outbox, capture, mqtt, site) and devices without a problem, parsed on their own. */
function salvage(doc: unknown, bad: readonly (readonly PropertyKey[])[], drivers: readonly Driver[], schema: ReturnType<typeof buildConfigSchema>): SalvagedConfig | undefined {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  // A problem inside the place, or at a place holding it.
  const clean = (place: PropertyKey[]) => !bad.some((b) => place.every((k, i) => i >= b.length || b[i] === k) && (b.length > 0 || place.length === 0));
  const d = doc as Record<string, unknown>;
  const out: SalvagedConfig = { devices: [] };
  for (const key of ['site', 'outbox', 'capture', 'mqtt'] as const) {
    if (!clean([key])) continue;
    const r = schema.shape[key].safeParse(d[key]);
    if (r.success) (out as Record<string, unknown>)[key] = r.data;
  }
  if (Array.isArray(d.devices)) {
    out.devices = d.devices.map((entry, i) => {
      const driver = drivers.find((x) => x.id === (entry as { driver?: unknown } | null)?.driver);
      return driver && clean(['devices', i]) ? (deviceSchemaFor(driver).safeParse(entry).data as DeviceConfig | undefined) : undefined;
    });
  }
  return out;
}

/** Paths in the config are relative to the config file's folder. */
export function resolveConfigPath(loaded: Pick<LoadedConfig, 'dir'>, path: string): string {
  return isAbsolute(path) ? path : resolve(loaded.dir, path);
}
