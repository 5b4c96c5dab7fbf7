import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { parse as parseYamlScalar } from 'yaml';
import type { z } from 'zod';
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
function isWholeReference(text: string): boolean {
  return /^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$/.test(text);
}

export interface References {
  /** Paths (JSON of the path) whose whole value was one `${VAR}`: typed from their text where the schema wants a number or boolean. */
  typable: Set<string>;
  missing: { path: PropertyKey[]; name: string }[];
  /** Paths (JSON) of values with substitutions, and the variables in them: such values are never shown in a message. */
  from: Map<string, string[]>;
}

/** `${VAR}` in every string, always as text (a digits-only password stays a string); see `retype` for the other types. */
export function resolveRefs(value: unknown, env: Record<string, string | undefined>, refs: References, path: PropertyKey[] = []): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    const { text, missing, names } = interpolate(value, env);
    for (const name of missing) refs.missing.push({ path, name });
    if (names.length > 0) refs.from.set(JSON.stringify(path), names);
    if (isWholeReference(value) && missing.length === 0) refs.typable.add(JSON.stringify(path));
    return text;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveRefs(v, env, refs, [...path, i]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, env, refs, [...path, k])]));
  }
  return value;
}

/**
 * Where the schema refused the text of a whole `${VAR}` because it wants another type
 * (`port: ${PORT}`, `version: ${V}`, `enabled: ${ON}`), read that text as YAML reads a plain
 * scalar (8086, 0x1F, true). Returns the same object when nothing changed.
 */
export function retype(doc: unknown, issues: readonly z.core.$ZodIssue[], typable: ReadonlySet<string>): unknown {
  let out = doc;
  for (const issue of issues) {
    const wantsOther = (issue.code === 'invalid_type' && issue.expected !== 'string') || issue.code === 'invalid_value' || issue.code === 'invalid_union';
    if (!wantsOther || !typable.has(JSON.stringify(issue.path))) continue;
    const holder = issue.path.slice(0, -1).reduce<any>((o, k) => o?.[k], out);
    const key = issue.path.at(-1)!;
    if (typeof holder?.[key] !== 'string') continue;
    let typed: unknown;
    try {
      typed = parseYamlScalar(holder[key]);
    } catch {
      continue;
    }
    if (typeof typed !== 'number' && typeof typed !== 'boolean') continue;
    if (out === doc) out = structuredClone(doc);
    issue.path.slice(0, -1).reduce<any>((o, k) => o[k], out)[key] = typed;
  }
  return out;
}
