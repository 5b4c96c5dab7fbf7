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

/** One issue → one short sentence, without the path; `from`: the variables its value came from. */
export function issueMessage(issue: z.core.$ZodIssue, from?: readonly string[]): string {
  const secret = concealment(issue, from);
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'required';
      const expected = ARTICLE[issue.expected] ?? `a ${issue.expected}`;
      return `expected ${expected}, got ${describeInput(issue.input, secret)}`;
    }
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
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

/**
 * Every issue as `path: message`, one per line, in document order; `doc` (the parsed file)
 * names the devices; `from` tells which variables a value came from (those values are not shown).
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
  doc?: unknown,
  from?: (path: readonly PropertyKey[]) => readonly string[] | undefined,
): string[] {
  return issues.map((issue) => `${formatPath([...prefix, ...issue.path], doc)}: ${issueMessage(issue, from?.(issue.path))}`);
}
