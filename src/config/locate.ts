/**
 * Which config file a verb reads: `--config`, then `$WATTLINE_CONFIG`, then `./wattline.yaml`,
 * then `/etc/wattline/wattline.yaml` (the installed service's, README "Install on a Raspberry
 * Pi"). The first two are what the user named: when that file is missing it is an error, not
 * a reason to look further. Nothing here creates or opens anything.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const DEFAULT_CONFIG_PATH = 'wattline.yaml';
export const SYSTEM_CONFIG_PATH = '/etc/wattline/wattline.yaml';

export interface LocateOptions {
  /** `--config`. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  cwd: string;
  /** Where the system-wide config lives (tests point it elsewhere). */
  systemPath?: string;
}

export type Located =
  /** `name`: how messages call the file (what the user typed, or the default's name). */
  | { found: true; path: string; name: string }
  /** `searched`: every place looked at, in order, for the message. */
  | { found: false; searched: string[]; named?: string };

export function locateConfig(options: LocateOptions): Located {
  const env = options.env ?? process.env;
  if (options.path !== undefined) return named(options.path, '--config', options.cwd);
  if (env.WATTLINE_CONFIG) return named(env.WATTLINE_CONFIG, '$WATTLINE_CONFIG', options.cwd);
  const local = resolve(options.cwd, DEFAULT_CONFIG_PATH);
  if (existsSync(local)) return { found: true, path: local, name: DEFAULT_CONFIG_PATH };
  const system = options.systemPath ?? SYSTEM_CONFIG_PATH;
  if (existsSync(system)) return { found: true, path: system, name: system };
  return { found: false, searched: ['--config (not given)', '$WATTLINE_CONFIG (not set)', local, system] };
}

function named(given: string, how: string, cwd: string): Located {
  const path = resolve(cwd, given);
  return existsSync(path) ? { found: true, path, name: given } : { found: false, searched: [path], named: how };
}

/** The one line a verb exits 2 with when no config was found. */
export function notFoundMessage(located: Extract<Located, { found: false }>): string {
  if (located.named) return `${located.searched[0]}: config file not found (named by ${located.named}; copy wattline.example.yaml there)`;
  return `config file not found; looked at ${located.searched.join(', ')}. ` + 'Copy wattline.example.yaml to one of those places, or try the simulated devices with `wattline demo`';
}
