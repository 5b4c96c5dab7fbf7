/**
 * The line protocol every simulated device produces, from the real `wattline test` command, and a
 * small reader for it (the dashboard tests synthesise history from these lines and check that
 * every measurement and field a dashboard names exists).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { runCli } from './cli.js';

export interface ParsedLine {
  measurement: string;
  tags: Record<string, string>;
  /** Field name → its token as written (`1.5`, `3i`, `"text"`, `true`). */
  fields: Record<string, string>;
  timeText: string;
}

/** Splits at `sep` outside double quotes and not after a backslash. */
function split(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function parseLine(line: string): ParsedLine {
  const [head, fieldText, timeText] = split(line, ' ');
  if (head === undefined || fieldText === undefined || timeText === undefined) throw new Error(`not a line with a timestamp: ${line}`);
  const [measurement, ...tagParts] = split(head, ',');
  const tags: Record<string, string> = {};
  for (const t of tagParts) {
    const eq = t.indexOf('=');
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  const fields: Record<string, string> = {};
  for (const f of split(fieldText, ',')) {
    const eq = f.indexOf('=');
    fields[f.slice(0, eq)] = f.slice(eq + 1);
  }
  return { measurement: measurement!, tags, fields, timeText };
}

/** One collection of every simulated device (`wattline test`), as parsed lines. */
export async function simulatedLines(prefix: string): Promise<ParsedLine[]> {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-simlines-'));
  try {
    const path = join(dir, 'wattline.yaml');
    writeFileSync(path, stringify({ outbox: { path: 'outbox.sqlite' }, devices: simulatedDeviceEntries(prefix) }));
    const r = await runCli(['--config', path, 'test']);
    if (r.code !== 0) throw new Error(`wattline test exited ${r.code}: ${r.stderr}`);
    return r.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(parseLine);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
