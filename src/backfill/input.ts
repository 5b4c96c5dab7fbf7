/**
 * Input files for `decode` and `backfill --input`: a capture file (JSON lines, the one
 * format; src/outbox/capture-format.ts) or, for drivers with decode(), their plain raw input
 * (a P1 telegram log). The whole file is checked before anything is written: a bad line
 * stops the run with its line number and the reason.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, InputError } from '../core/errors.js';
import type { Driver } from '../devices/types.js';
import { captureLines, looksLikeCaptureFile } from '../outbox/capture-format.js';
import type { ReplayRecord } from './replay.js';

export type ParsedInput = { kind: 'captures'; records: (ReplayRecord & { device?: string; driver?: string })[] } | { kind: 'plain'; data: Buffer };

export function readInputFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (err as Error).message;
    throw new InputError(`${what}: cannot read ${file}: ${why}`);
  }
}

/**
 * Which format `data` is in, for `driver`; capture files parsed and checked line by line.
 * With `device` (and records that name it), only that device's records are taken, so one
 * device can be picked from a whole-archive export.
 */
export function parseInput(data: Buffer, name: string, driver: Driver, device?: string): ParsedInput {
  if (!looksLikeCaptureFile(data.subarray(0, 4096))) {
    if (driver.decode) return { kind: 'plain', data };
    const first = data.toString('latin1', 0, Math.min(data.length, 40)).split('\n')[0];
    throw new InputError(`${name}:1: unknown format: expected a capture file (JSON lines, one {"time":…,"direction":…,"hex"|"text":…} per line), got ${JSON.stringify(first)}`);
  }
  if (!driver.decodeCapture) throw new ConfigError(`driver ${driver.id} cannot decode capture files (it has no decodeCapture)`);
  const records: (ReplayRecord & { device?: string; driver?: string })[] = [];
  const lines = [...captureLines(data, name)];
  const pick = device !== undefined && lines.some((l) => l.record.device === device);
  for (const { record, line } of lines) {
    if (pick && record.device !== device) continue;
    if (record.driver !== undefined && record.driver !== driver.id) {
      throw new InputError(`${name}:${line}: a capture of driver ${record.driver}, but this run decodes ${driver.id}`);
    }
    const r: ReplayRecord & { device?: string; driver?: string } = { timeMs: record.timeMs, direction: record.direction, data: record.data, cycle: record.cycle, position: line, where: `${name}:${line}` };
    if (record.device !== undefined) r.device = record.device;
    records.push(r);
  }
  if (records.length === 0) throw new InputError(`${name}: no capture records in the file`);
  return { kind: 'captures', records };
}

/** The device names in the records (in order of first appearance). */
export function devicesIn(records: readonly { device?: string }[]): string[] {
  return [...new Set(records.flatMap((r) => (r.device === undefined ? [] : [r.device])))];
}
