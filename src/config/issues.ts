import type { z } from 'zod';
import { MAX_TIMER_MS } from './bounds.js';
import { isSecretKey, maskUrl } from './secrets.js';

/**
 * `devices[1].port.baudRate` from a zod issue path; with the parsed document, a device entry
 * also shows its name (`devices[4] (heat-pump).schedule`), as users know their devices by name.
 */
export function formatPath(path: readonly PropertyKey[], doc?: unknown): string {
  let out = '';
  path.forEach((part, i) => {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
    if (i === 1 && path[0] === 'devices' && typeof part === 'number') {
      const name = deviceName(doc, part);
      if (name !== undefined) out += ` (${name})`;
    }
  });
  return out || '(top level)';
}

function deviceName(doc: unknown, index: number): string | undefined {
  const devices = doc !== null && typeof doc === 'object' ? (doc as { devices?: unknown }).devices : undefined;
  const entry = Array.isArray(devices) ? devices[index] : undefined;
  const name = entry !== null && typeof entry === 'object' ? (entry as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name !== '' ? (name.length > 40 ? name.slice(0, 40) + '…' : name) : undefined;
}

/** What a value was, for a message: its text, unless `concealed` says what to show instead. */
function describeInput(input: unknown, concealed?: string): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (concealed) return concealed;
  if (typeof input === 'string') {
    const shown = maskUrl(input);
    return `the text ${JSON.stringify(shown.length > 40 ? shown.slice(0, 40) + '…' : shown)}`;
  }
  return `${typeof input} ${String(input)}`;
}

/**
 * A secret key's value, or any value from the environment (where secrets live, whatever key
 * they are put under), is never printed: the message says what it is and where it came from.
 */
function concealment(issue: z.core.$ZodIssue, from: readonly string[] | undefined): string | undefined {
  if (from && from.length > 0) return `the value of ${from.map((n) => `\${${n}}`).join(', ')} (not shown: it may be a secret)`;
  if (!isSecretKey(issue.path.at(-1))) return undefined;
  const text = typeof issue.input === 'string';
  return `${text ? 'a text' : `a ${typeof issue.input}`} (not shown: a secret${text ? '' : '; quote it in the YAML'})`;
}

const ARTICLE: Record<string, string> = { int: 'an integer', object: 'a mapping', array: 'a list', record: 'a mapping', undefined: 'nothing' };

/**
 * One issue → one short sentence, without the path; `from`: the variables its value came from;
 * `known`: the keys allowed where an unknown key was found (to suggest the one meant).
 */
export function issueMessage(issue: z.core.$ZodIssue, from?: readonly string[], known?: readonly string[]): string {
  const secret = concealment(issue, from);
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'required';
      const expected = ARTICLE[issue.expected] ?? `a ${issue.expected}`;
      return `expected ${expected}, got ${describeInput(issue.input, secret)}`;
    }
    case 'unrecognized_keys': {
      const meant = issue.keys.flatMap((k) => {
        const m = known && closest(k, known);
        return m ? [issue.keys.length > 1 ? `"${m}" for "${k}"` : `"${m}"`] : [];
      });
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}${meant.length ? ` (did you mean ${meant.join(', ')}?)` : ''}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeInput(issue.input, secret)}`;
    case 'too_small':
      return issue.origin === 'string' && Number(issue.minimum) === 1
        ? 'must not be empty'
        : `must be ${issue.inclusive === false ? 'more than' : 'at least'} ${issue.minimum}${issue.origin === 'array' ? ' entries' : ''}`;
    case 'invalid_union': {
      // A literal choice (qos 0/1/2, influx version 1/2): say which values, not "Invalid input".
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : literalChoices(issue.errors);
      return options ? `expected one of ${options.map((v) => JSON.stringify(v)).join(', ')}, got ${describeInput(issue.input, secret)}` : issue.message;
    }
    case 'too_big':
      return `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${issue.maximum}${Number(issue.maximum) === MAX_TIMER_MS ? " (the longest delay Node's timers take, about 24.8 days)" : ''}`;
    default:
      return issue.message;
  }
}

function literalChoices(errors: readonly (readonly z.core.$ZodIssue[])[]): unknown[] | undefined {
  const values: unknown[] = [];
  for (const branch of errors) {
    const only = branch.length === 1 ? branch[0] : undefined;
    if (only?.code !== 'invalid_value' || only.path.length > 0) return undefined;
    values.push(...only.values);
  }
  return values.length > 0 ? values : undefined;
}

/** The key meant by a misspelt one: the same but for case, or at most two edits away (timeZone → timezone, shedule → schedule). */
function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = k.toLowerCase() === lower ? 0 : distance(lower, k.toLowerCase());
    if (d <= Math.min(2, Math.floor(k.length / 3)) && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The keys an object schema allows at `path` of `doc` (through defaults, optionals, lists and the union a discriminator picks). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[], doc: unknown): string[] | undefined {
  let s: any = unwrap(schema, doc);
  let d: any = doc;
  for (const key of path) {
    if (s?.def?.type === 'object') s = s.shape[key as string];
    else if (s?.def?.type === 'array') s = s.element;
    else return undefined;
    d = d?.[key];
    s = unwrap(s, d);
  }
  return s?.def?.type === 'object' ? Object.keys(s.shape) : undefined;
}

function unwrap(schema: any, doc: any): any {
  let s = schema;
  for (;;) {
    const def = s?.def;
    if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch'].includes(def?.type)) s = def.innerType;
    else if (def?.type === 'pipe') s = def.in;
    else if (def?.type === 'union' && def.discriminator) s = def.options.find((o: any) => o.shape?.[def.discriminator]?.def?.values?.includes(doc?.[def.discriminator]));
    else return s;
  }
}

/**
 * Every issue as `path: message`, one per line, in document order; `doc` (the parsed file)
 * names the devices; `from` tells which variables a value came from (those values are not shown);
 * with the schema, a misspelt key gets the one meant.
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
  doc?: unknown,
  from?: (path: readonly PropertyKey[]) => readonly string[] | undefined,
  schema?: z.ZodType,
): string[] {
  return issues.map((issue) => {
    const known = issue.code === 'unrecognized_keys' && schema ? keysAt(schema, issue.path, doc) : undefined;
    return `${formatPath([...prefix, ...issue.path], doc)}: ${issueMessage(issue, from?.(issue.path), known)}`;
  });
}
