import { createWriteStream, existsSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveConfigPath, type LoadedConfig } from '../config/load.js';
import { ConfigError, InputError } from '../core/errors.js';
import { findDriver } from '../devices/index.js';
import type { NewCapture } from '../outbox/capture-store.js';
import { openCaptures } from '../assembly/stores.js';
import { action, EXIT, load } from './common.js';

const IMPORT_BATCH = 5000;

function archivePath(loaded: LoadedConfig): string {
  return resolveConfigPath(loaded, loaded.config.capture.path);
}

function parseTime(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ConfigError(`${flag}: not a time: ${JSON.stringify(value)} (ISO 8601, e.g. 2026-11-25T17:00:00Z)`);
  return ms;
}

export function registerCaptureVerbs(program: Command): void {
  const captures = program
    .command('captures')
    .description('The capture archive (raw exchanges of devices with capture: on): stats, export, import')
    .addHelpText('after', '\nThe file format (JSON lines) is described in the README, section "Capture files".');

  captures
    .command('stats')
    .description('Records, bytes and time span per device in the capture archive')
    .option('--json', 'as JSON')
    .action(
      action(async (opts: { json?: boolean }, cmd: Command) => {
        const loaded = load(cmd, true);
        const path = archivePath(loaded);
        if (!existsSync(path)) {
          process.stderr.write(`wattline: no capture archive at ${path} (no device has had capture: on yet)\n`);
          return EXIT.failed;
        }
        const store = openCaptures(loaded);
        try {
          const stats = store.stats();
          if (opts.json) {
            process.stdout.write(JSON.stringify({ path, devices: stats.map((s) => ({ ...s, first: new Date(s.firstMs).toISOString(), last: new Date(s.lastMs).toISOString() })) }, null, 2) + '\n');
            return EXIT.ok;
          }
          process.stdout.write(`${path}\n`);
          for (const s of stats) {
            process.stdout.write(`${s.device}\t${s.driver}\t${s.records} records\t${s.bytes} bytes\t${new Date(s.firstMs).toISOString()} … ${new Date(s.lastMs).toISOString()}\n`);
          }
          if (stats.length === 0) process.stdout.write('(empty)\n');
          return EXIT.ok;
        } finally {
          store.close();
        }
      }),
    );

  captures
    .command('export')
    .description('Write archived captures as a capture file (JSON lines)')
    .option('--device <name>', 'only this device')
    .option('--from <time>', 'from this time on (ISO 8601)')
    .option('--to <time>', 'up to this time (ISO 8601)')
    .option('-o, --output <file>', 'write here instead of stdout')
    .action(
      action(async (opts: { device?: string; from?: string; to?: string; output?: string }, cmd: Command) => {
        const loaded = load(cmd, true);
        const query = { device: opts.device, fromMs: parseTime(opts.from, '--from'), toMs: parseTime(opts.to, '--to') };
        const path = archivePath(loaded);
        if (!existsSync(path)) throw new InputError(`no capture archive at ${path}`);
        // Capture-file code loads only for export/import, not with every verb (`run` included).
        const { formatCaptureLine } = await import('../outbox/capture-format.js');
        const store = openCaptures(loaded);
        const out: NodeJS.WritableStream = opts.output ? createWriteStream(opts.output) : process.stdout;
        let n = 0;
        try {
          let buf: string[] = [];
          for (const r of store.read(query)) {
            buf.push(formatCaptureLine(r));
            n++;
            if (buf.length >= 1000) {
              if (!out.write(buf.join('\n') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
              buf = [];
            }
          }
          if (buf.length) out.write(buf.join('\n') + '\n');
        } finally {
          store.close();
          if (out !== process.stdout) await new Promise<void>((r) => out.end(() => r()));
        }
        process.stderr.write(`exported ${n} records\n`);
        return n === 0 ? EXIT.failed : EXIT.ok;
      }),
    );

  captures
    .command('import')
    .description('Add a capture file (JSON lines) to the archive, e.g. from another worker; then `backfill --device`')
    .argument('<file>', 'capture file, or - for standard input')
    .option('--device <name>', 'device name for records that carry none (or to rename them all)')
    .option('--driver <id>', 'driver id for records that carry none')
    .action(
      action(async (file: string, opts: { device?: string; driver?: string }, cmd: Command) => {
        const loaded = load(cmd, true);
        if (opts.driver !== undefined && !findDriver(opts.driver)) throw new ConfigError(`--driver: unknown driver "${opts.driver}"`);
        const [{ readInputFile }, { captureLines }] = await Promise.all([import('../backfill/input.js'), import('../outbox/capture-format.js')]);
        const data = readInputFile(file, 'captures import');
        const name = file === '-' ? 'stdin' : file;
        // Check the whole file first: nothing is imported from a file with a bad line.
        const rows: NewCapture[] = [];
        const cycles = new Map<string, number>();
        const store = openCaptures(loaded);
        try {
          for (const { record, line } of captureLines(data, name)) {
            const device = opts.device ?? record.device;
            const driver = record.driver ?? opts.driver;
            if (device === undefined) throw new InputError(`${name}:${line}: record names no device: give --device`);
            if (driver === undefined) throw new InputError(`${name}:${line}: record names no driver: give --driver`);
            if (!findDriver(driver)) throw new InputError(`${name}:${line}: unknown driver "${driver}"`);
            // The file's cycle ids become fresh ones of this archive (they must not meet existing polls).
            let cycle: number | null = null;
            if (record.cycle !== null) {
              const key = `${device} ${record.cycle}`;
              cycle = cycles.get(key) ?? store.nextCycle();
              cycles.set(key, cycle);
            }
            rows.push({ timeMs: record.timeMs, device, driver, cycle, direction: record.direction, text: record.text, data: record.data });
          }
          for (let i = 0; i < rows.length; i += IMPORT_BATCH) store.insertMany(rows.slice(i, i + IMPORT_BATCH));
        } finally {
          store.close();
        }
        process.stderr.write(`imported ${rows.length} records into ${archivePath(loaded)}\n`);
        return rows.length === 0 ? EXIT.failed : EXIT.ok;
      }),
    );
}
