import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYamlScalar } from 'yaml';
import { formatIssues } from '../config/issues.js';
import { systemClock } from '../core/clock.js';
import { ConfigError, InputError } from '../core/errors.js';
import { encodePoints } from '../core/line-protocol.js';
import type { Precision } from '../core/point.js';
import { drivers, findDriver } from '../devices/index.js';
import { action, EXIT } from './common.js';
import { devicesIn, parseInput } from '../backfill/input.js';
import { HeldOpen } from '../backfill/held.js';
import { decodeGroup, groupRecords, type ReplayRecord } from '../backfill/replay.js';
import type { DecodeContext, DecodeResult, Driver } from '../devices/types.js';
import type { Point } from '../core/point.js';
import { pointToJson } from './json-output.js';

interface DecodeOpts {
  option: string[];
  device: string;
  precision: Precision;
  format: 'lp' | 'json';
}

export function registerDecodeVerb(program: Command): void {
  program
    .command('decode')
    .description('Decode raw captures (a capture file of JSON lines, any driver; for dsmr-p1 also plain telegram text) into line protocol on stdout')
    .argument('<driver>', `driver id (${drivers.map((d) => d.id).join(', ')})`)
    .argument('[file]', 'capture file, or - for standard input', '-')
    .option('-o, --option <key=value>', "a driver option, as in the config's options: (repeatable)", collect, [])
    .option('--device <name>', 'the device tag of the points', 'decoded')
    .option('--precision <p>', 'timestamp precision: s, ms, us, ns', 'ms')
    .option('--format <format>', 'lp (line protocol) or json', 'lp')
    .addHelpText(
      'after',
      `
Examples:
  wattline decode dsmr-p1 p1-log.txt -o timestamps=meter
  wattline decode hdhk bus1.captures.jsonl -o 'units=[...]'   (capture file: see README "Capture files")
  cat telegram.txt | wattline decode dsmr-p1 - --format json
Timestamps come from the device's own clock where the driver has one (-o timestamps=collection
for the time of decoding). Problems are reported one line each on stderr (which telegram, which line, why);
everything that decodes is still printed. Exit 1 when anything did not decode.`,
    )
    .action(
      action(async (driverId: string, file: string, opts: DecodeOpts) => {
        const driver = findDriver(driverId);
        if (!driver) throw new ConfigError(`unknown driver "${driverId}" (known: ${drivers.map((d) => d.id).join(', ')})`);
        if (!driver.decode && !driver.decodeCapture) throw new ConfigError(`driver ${driverId} cannot decode captures`);
        if (!['s', 'ms', 'us', 'ns'].includes(opts.precision)) throw new ConfigError(`--precision: expected s, ms, us or ns, got "${opts.precision}"`);
        if (opts.format !== 'lp' && opts.format !== 'json') throw new ConfigError(`--format: expected lp or json, got "${opts.format}"`);

        const given = parseOptions(opts.option);
        const input = readInput(file);
        const name = file === '-' ? 'stdin' : file;
        const parsedInput = parseInput(input, name, driver, opts.device);
        // A plain log has no arrival times: drivers with a device clock use it unless told
        // otherwise. Capture files (JSON lines) carry each record's time.
        const meterTime = 'timestamps' in given || parsedInput.kind === 'captures' ? undefined : driver.options.safeParse({ ...given, timestamps: 'meter' });
        const parsed = meterTime?.success ? meterTime : driver.options.safeParse(given, { reportInput: true });
        if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues, ['--option']).join('\n'));
        const held = new HeldOpen();
        const ctx = { device: opts.device, options: parsed.data, tags: {}, clock: systemClock, held };
        let records = parsedInput.kind === 'captures' ? parsedInput.records : [];
        const devices = devicesIn(records);
        if (devices.length > 1) {
          // One device's polls at a time: decoders may keep state between them (HDHK registers 0-2).
          if (!devices.includes(opts.device)) throw new ConfigError(`${name} holds captures of devices ${devices.join(', ')}: pick one with --device`);
          records = records.filter((r) => r.device === opts.device);
        }
        let result: DecodeResult;
        try {
          result = parsedInput.kind === 'plain' ? driver.decode!(input, ctx) : decodeCaptures(driver, records, ctx);
        } finally {
          held.close();
        }
        if (opts.format === 'json') {
          process.stdout.write(JSON.stringify(result.points.map(pointToJson), null, 2) + '\n');
        } else {
          const { lines, dropped } = encodePoints(result.points, opts.precision);
          if (lines.length) process.stdout.write(lines.join('\n') + '\n');
          for (const d of dropped) result.errors.push(`point dropped: ${d.reason}`);
        }
        for (const e of result.errors) process.stderr.write(`wattline: ${name}: ${e}\n`);
        if (result.points.length === 0 && result.errors.length === 0) process.stderr.write(`wattline: ${name}: nothing to decode\n`);
        return result.errors.length > 0 || result.points.length === 0 ? EXIT.failed : EXIT.ok;
      }),
    );
}

/** Every poll (or telegram) of a capture file through decodeCapture; errors name the lines. */
function decodeCaptures(driver: Driver, records: ReplayRecord[], ctx: DecodeContext<unknown>): DecodeResult {
  const points: Point[] = [];
  const errors: string[] = [];
  for (const group of groupRecords(driver, records)) {
    const r = decodeGroup(driver, group, ctx);
    points.push(...r.points);
    for (const e of r.errors) errors.push(`${group.where}: ${e}`);
  }
  return { points, errors };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseOptions(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--option ${JSON.stringify(pair)}: expected key=value`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      const typed = parseYamlScalar(raw);
      // Numbers, booleans, and YAML/JSON lists and maps (`units=[{id: 1, ...}]`) as such.
      if (typeof typed === 'number' || typeof typed === 'boolean' || (typeof typed === 'object' && typed !== null)) value = typed;
    } catch {
      /* keep the text */
    }
    out[pair.slice(0, eq)] = value;
  }
  return out;
}

function readInput(file: string): Buffer {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (err as Error).message;
    throw new InputError(`decode: cannot read ${file}: ${why}`);
  }
}
