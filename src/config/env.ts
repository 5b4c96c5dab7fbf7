import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError } from '../core/errors.js';

/**
 * The environment a config is resolved in: `.env` files first (nearest wins),
 * the real environment over them, as docker-compose and dotenv do.
 */
export function environmentWithDotenv(dotenvPaths: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = {};
  for (const path of [...dotenvPaths].reverse()) {
    if (!existsSync(path)) continue;
    try {
      Object.assign(merged, parseEnv(readFileSync(path, 'utf8')));
    } catch (err) {
      throw new ConfigError(`${path}: cannot read: ${(err as Error).message}`);
    }
  }
  return { ...merged, ...env };
}

const REF = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replace `${VAR}` and `${VAR:-default}` in a string; `$$` is a literal `$`. Returns the
 * variables used, and those unset without a default (the caller reports them all at once).
 */
export function interpolate(text: string, env: Record<string, string | undefined>): { text: string; missing: string[]; names: string[] } {
  const missing: string[] = [];
  const names: string[] = [];
  const out = text.replace(REF, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    names.push(name!);
    const value = env[name!];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    missing.push(name!);
    return '';
  });
  return { text: out, missing, names };
}

/** The one line for an unset variable. */
export function missingVariable(where: string, name: string): string {
  return `${where}: \${${name}} is not set (set it in the environment or in .env)`;
}

/** A whole value that is only `${VAR}` (or `${VAR:-default}`): its text may be read as a number or boolean where the schema wants one. */
export function isWholeReference(text: string): boolean {
  return /^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$/.test(text);
}
