/**
 * The one capture file format (docs/capture.md; README "Capture files"): JSON lines, one raw
 * exchange per line, in capture order.
 *
 *   {"time":"2026-11-25T17:50:00.123Z","device":"bus1","driver":"hdhk","cycle":17,"direction":"tx","hex":"010300080010c5c4"}
 *   {"time":"2026-11-25T17:50:01.000Z","device":"meter","driver":"dsmr-p1","direction":"rx","text":"/ISK5\\2M550T-1012\r\n...!E6C8\r\n"}
 *
 * - time: ISO 8601 with milliseconds (UTC), or a number of Unix ms;
 * - direction: rx (from the device) or tx (to it);
 * - hex (raw bytes, lower case) or text (telegram text, P1; bytes as Latin-1): exactly one;
 * - cycle: which collect() of a poll driver the record belongs to (poll drivers need it;
 *   records of one collect() share it); absent for stream drivers.
 * - device, driver: where it came from (optional in hand-made files for `decode`).
 */
import { InputError } from '../core/errors.js';
import { TIME_MAX, TIME_MIN } from '../core/line-protocol.js';

export interface CaptureLine {
  timeMs: number;
  device?: string;
  driver?: string;
  cycle: number | null;
  direction: 'rx' | 'tx';
  text: boolean;
  data: Buffer;
}

export function formatCaptureLine(r: CaptureLine): string {
  const out: Record<string, unknown> = { time: new Date(r.timeMs).toISOString() };
  if (r.device !== undefined) out.device = r.device;
  if (r.driver !== undefined) out.driver = r.driver;
  if (r.cycle !== null) out.cycle = r.cycle;
  out.direction = r.direction;
  if (r.text) out.text = r.data.toString('latin1');
  else out.hex = r.data.toString('hex');
  return JSON.stringify(out);
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
// The whole milliseconds InfluxDB can store (its nanosecond int64 range): a record outside
// would decode into points the encoder drops, so it is refused where its line is known.
const MIN_MS = Number(TIME_MIN / 1_000_000n);
const MAX_MS = Number(TIME_MAX / 1_000_000n);
const RANGE = `${new Date(MIN_MS).toISOString()} to ${new Date(MAX_MS).toISOString()}`;

/** One line of a capture file; `where` (`file:line N`) starts every error. */
export function parseCaptureLine(line: string, where: string): CaptureLine {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new InputError(`${where}: not a JSON capture record (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(`${where}: a capture record is a JSON object`);
  const o = v as Record<string, unknown>;
  const bad = (why: string) => new InputError(`${where}: ${why}`);
  let timeMs: number;
  if (typeof o.time === 'number' && Number.isFinite(o.time)) timeMs = Math.trunc(o.time);
  else if (typeof o.time === 'string' && !Number.isNaN(Date.parse(o.time))) timeMs = Date.parse(o.time);
  else throw bad(`"time" must be an ISO 8601 time or Unix ms, got ${JSON.stringify(o.time)}`);
  if (timeMs < MIN_MS || timeMs > MAX_MS) throw bad(`"time" ${JSON.stringify(o.time)} is outside InfluxDB's range (${RANGE})`);
  if (o.direction !== 'rx' && o.direction !== 'tx') throw bad(`"direction" must be "rx" or "tx", got ${JSON.stringify(o.direction)}`);
  const hasHex = 'hex' in o;
  const hasText = 'text' in o;
  if (hasHex === hasText) throw bad('give exactly one of "hex" (raw bytes) or "text" (telegram text)');
  let data: Buffer;
  if (hasHex) {
    if (typeof o.hex !== 'string' || !HEX.test(o.hex)) throw bad('"hex" must be pairs of hex digits');
    data = Buffer.from(o.hex, 'hex');
  } else {
    if (typeof o.text !== 'string') throw bad('"text" must be a string');
    data = Buffer.from(o.text, 'latin1');
  }
  let cycle: number | null = null;
  if (o.cycle !== undefined) {
    if (!Number.isSafeInteger(o.cycle)) throw bad(`"cycle" must be an integer, got ${JSON.stringify(o.cycle)}`);
    cycle = o.cycle as number;
  }
  for (const k of ['device', 'driver'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) throw bad(`"${k}" must be a non-empty string`);
  }
  const known = new Set(['time', 'device', 'driver', 'cycle', 'direction', 'hex', 'text']);
  const unknown = Object.keys(o).filter((k) => !known.has(k));
  if (unknown.length > 0) throw bad(`unknown key ${JSON.stringify(unknown[0])} (keys: ${[...known].join(', ')})`);
  const out: CaptureLine = { timeMs, cycle, direction: o.direction, text: hasText, data };
  if (typeof o.device === 'string') out.device = o.device;
  if (typeof o.driver === 'string') out.driver = o.driver;
  return out;
}

/** Whether an input looks like a capture file (its first non-blank character is `{`). */
export function looksLikeCaptureFile(head: Buffer): boolean {
  for (const b of head) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b;
  }
  return false;
}

/** The lines of a capture file with their 1-based numbers, blank lines skipped. */
export function* captureLines(input: Buffer, name: string): Generator<{ record: CaptureLine; line: number }> {
  const text = input.toString('utf8');
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (raw === '') continue;
    yield { record: parseCaptureLine(raw, `${name}:${line}`), line };
  }
}
