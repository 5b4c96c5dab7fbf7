import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument, parse as parseYamlScalar } from 'yaml';
import { ConfigError } from '../core/errors.js';
import type { Driver } from '../devices/types.js';
import { demoConfig } from './demo.js';
import { environmentWithDotenv, interpolate } from './env.js';
import { formatIssues, formatPath } from './issues.js';
import { locateConfig, notFoundMessage } from './locate.js';
import { buildConfigSchema, type WattlineConfig } from './schema.js';

export { DEFAULT_CONFIG_PATH } from './locate.js';

export interface LoadedConfig {
  config: WattlineConfig;
  /** The file read, or null for the built-in demo. */
  path: string | null;
  /** What the output paths are relative to. */
  dir: string;
  demo: boolean;
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
    resolveDriverPaths(config, options.drivers, dir);
    return { config, path: null, dir, demo: true };
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
  const resolved = resolveRefs(raw, env, name, []);
  const config = validate(resolved, options.drivers, name);
  resolveDriverPaths(config, options.drivers, dir);
  return { config, path, dir, demo: false };
}

/** File paths inside driver options (Driver.pathOptions) are relative to the config file, like every other path in it. */
function resolveDriverPaths(config: WattlineConfig, drivers: readonly Driver[], dir: string): void {
  for (const device of config.devices as { driver: string; options: unknown }[]) {
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
  const value = doc.toJS();
  return value ?? {};
}

/** `${VAR}` in every string; a value that is only `${VAR}` takes the type its text has (8086 → number). */
function resolveRefs(value: unknown, env: Record<string, string | undefined>, file: string, path: PropertyKey[]): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    const out = interpolate(value, env, `${file}: ${formatPath(path)}`);
    if (/^\$\{[^}]+\}$/.test(value)) {
      try {
        const typed = parseYamlScalar(out);
        if (typeof typed === 'number' || typeof typed === 'boolean') return typed;
      } catch {
        /* keep the text */
      }
    }
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveRefs(v, env, file, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, env, file, [...path, k])]));
  }
  return value;
}

/** Validate a parsed config; every problem becomes one line `file: path: what`. */
export function validate(raw: unknown, drivers: readonly Driver[], name: string): WattlineConfig {
  const known = new Set(drivers.map((d) => d.id));
  const problems: string[] = [];
  if (raw !== null && typeof raw === 'object' && Array.isArray((raw as { devices?: unknown }).devices)) {
    (raw as { devices: unknown[] }).devices.forEach((d, i) => {
      const id = d !== null && typeof d === 'object' ? (d as { driver?: unknown }).driver : undefined;
      if (id === undefined) problems.push(`${name}: devices[${i}].driver: required (one of ${[...known].join(', ')})`);
      else if (typeof id !== 'string' || !known.has(id)) {
        problems.push(`${name}: devices[${i}].driver: unknown driver ${JSON.stringify(id)} (known: ${[...known].join(', ')})`);
      }
    });
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  const result = buildConfigSchema(drivers).safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(formatIssues(result.error.issues).map((line) => `${name}: ${line}`).join('\n'));
  }
  return result.data;
}

/** Paths in the config are relative to the config file's folder. */
export function resolveConfigPath(loaded: LoadedConfig, path: string): string {
  return isAbsolute(path) ? path : resolve(loaded.dir, path);
}
