/** What `wattline backfill` does; backfill.ts registers the verb and imports this on use. */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { runBackfill, type BackfillResult, type BackfillSink } from '../backfill/engine.js';
import { startSender, type SenderResult } from '../backfill/sender.js';
import { decodeInThread } from '../backfill/thread.js';
import { devicesIn, parseInput, readInputFile } from '../backfill/input.js';
import { buildUnits, type SourceSpec } from '../backfill/sources.js';
import { resolveConfigPath, type LoadedConfig } from '../config/load.js';
import type { DeviceConfig } from '../config/schema.js';
import { systemClock } from '../core/clock.js';
import { ConfigError, WattlineError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Precision } from '../core/point.js';
import { drivers, findDriver } from '../devices/index.js';
import { backfillOutboxPath } from '../outbox/priority-outbox.js';
import { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import { baseTags } from '../assembly/device.js';
import { createFlusher, createWriter } from '../assembly/delivery.js';
import { openCaptures } from '../assembly/stores.js';
import { EXIT, load, logger } from './common.js';

/** A backfill that cannot run as asked (no captures in the range, a driver mismatch): exit 1. */
export class BackfillError extends WattlineError {
  override name = 'BackfillError';
  constructor(message: string) {
    super(message, 'backfill');
  }
}

export interface BackfillOpts {
  device?: string;
  from?: string;
  to?: string;
  driver?: string;
  input?: string;
  dryRun?: boolean;
  queueOnly?: boolean;
  progress: boolean;
}

interface Plan {
  spec: SourceSpec;
  total: number;
  unit: string;
  job: string;
  what: string;
  /** What a unit is: polls, telegrams, pieces. */
  unitsAre: string;
}

/** `wattline backfill`, once its options are parsed (registered in backfill.ts). */
export async function runBackfillVerb(opts: BackfillOpts, cmd: Command): Promise<number> {
  const loaded = load(cmd, true);
  const log = logger(cmd, loaded);
  const plan = opts.input !== undefined ? planFile(loaded, opts) : planArchive(loaded, opts);
  return await execute(loaded, plan, opts, log);
}

function parseTime(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ConfigError(`${flag}: not a time: ${JSON.stringify(value)} (ISO 8601, e.g. 2026-11-25T17:00:00Z)`);
  return ms;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Part of a run's checkpoint key: after a config change the same command starts afresh (all points anew). */
function configHash(options: unknown, tags: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify({ options, tags })).digest('hex').slice(0, 16);
}

function deviceConfig(loaded: LoadedConfig, name: string): DeviceConfig | undefined {
  return (loaded.config.devices as DeviceConfig[]).find((d) => d.name === name);
}

function planArchive(loaded: LoadedConfig, opts: BackfillOpts): Plan {
  if (opts.device === undefined) throw new ConfigError('backfill: give --device <name> (re-decode its archived captures) or --driver <id> --input <file>');
  if (opts.driver !== undefined) throw new ConfigError("backfill: --driver goes with --input; archived captures are decoded by the device's configured driver");
  const device = deviceConfig(loaded, opts.device);
  const names = (loaded.config.devices as DeviceConfig[]).map((d) => d.name);
  if (!device) throw new ConfigError(`backfill: no device named "${opts.device}" in the config (devices: ${names.join(', ') || 'none'})`);
  const driver = findDriver(device.driver)!;
  if (!driver.decodeCapture) throw new ConfigError(`backfill: driver ${driver.id} cannot re-decode captures (no decodeCapture)`);
  const fromMs = parseTime(opts.from, '--from');
  const toMs = parseTime(opts.to, '--to');
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) throw new ConfigError(`--from ${opts.from} is after --to ${opts.to}`);

  const path = resolveConfigPath(loaded, loaded.config.capture.path);
  if (!existsSync(path)) throw new BackfillError(`no capture archive at ${path}: no device has had capture: on yet`);
  const store = openCaptures(loaded);
  try {
    const mine = store.stats().filter((s) => s.device === device.name);
    if (mine.length === 0) {
      const held = store.stats().map((s) => `${s.device} (${s.records} records)`);
      throw new BackfillError(`no captures of device ${device.name} in ${path} (it holds: ${held.join(', ') || 'nothing'}; is capture: on set for it?)`);
    }
    const foreign = mine.filter((s) => s.driver !== driver.id);
    if (foreign.length > 0) {
      throw new BackfillError(
        `captures of device ${device.name} come from driver ${foreign.map((s) => s.driver).join(', ')}, but it is configured with driver ${driver.id} now: ` +
          'they cannot be decoded (give the old driver back to that name, or export them with `wattline captures export`)',
      );
    }
    // Without --to: up to now (captures made during the run wait for the next one).
    const query = { device: device.name, fromMs, toMs: toMs ?? Date.now() };
    const total = store.count(query);
    if (total === 0) {
      const first = Math.min(...mine.map((s) => s.firstMs));
      const last = Math.max(...mine.map((s) => s.lastMs));
      throw new BackfillError(
        `no captures of device ${device.name} between ${fromMs === undefined ? 'the beginning' : iso(fromMs)} and ${toMs === undefined ? 'now' : iso(toMs)} ` + `(its captures run from ${iso(first)} to ${iso(last)})`,
      );
    }
    return {
      spec: { driver: driver.id, device: device.name, options: device.options, tags: baseTags(loaded, device), source: { kind: 'archive', path, query } },
      total,
      unit: 'records',
      job: `archive ${device.name} ${fromMs ?? ''} ${toMs ?? ''} ${configHash(device.options, baseTags(loaded, device))}`,
      what: `${total} archived records of ${device.name}`,
      unitsAre: driver.kind === 'poll' ? 'polls' : 'records',
    };
  } finally {
    store.close();
  }
}

function planFile(loaded: LoadedConfig, opts: BackfillOpts): Plan {
  if (opts.driver === undefined) throw new ConfigError(`backfill --input: give --driver <id> (${drivers.map((d) => d.id).join(', ')})`);
  const driver = findDriver(opts.driver);
  if (!driver) throw new ConfigError(`--driver: unknown driver "${opts.driver}" (known: ${drivers.map((d) => d.id).join(', ')})`);
  const file = opts.input!;
  const data = readInputFile(file, 'backfill');
  const input = parseInput(data, file, driver, opts.device);

  // Which device the points belong to: --device, the one named in the file, or the only one configured with this driver.
  const inFile = input.kind === 'captures' ? devicesIn(input.records) : [];
  const sameDriver = (loaded.config.devices as DeviceConfig[]).filter((d) => d.driver === driver.id);
  let name = opts.device;
  if (name === undefined && inFile.length > 1) throw new ConfigError(`${file} holds captures of devices ${inFile.join(', ')}: pick one with --device`);
  name ??= inFile[0] ?? (sameDriver.length === 1 ? sameDriver[0]!.name : undefined);
  if (name === undefined) throw new ConfigError('backfill: say which device the points belong to (the device tag): --device <name>');
  const device = deviceConfig(loaded, name);
  if (device && device.driver !== driver.id) throw new ConfigError(`device ${name} is configured with driver ${device.driver}, not ${driver.id}`);

  let options: unknown = device ? device.options : driver.options.parse({});
  const tags = device ? baseTags(loaded, device) : baseTags(loaded, { tags: {} } as DeviceConfig);
  let source: SourceSpec['source'];
  let total: number;
  let unit: string;
  if (input.kind === 'captures') {
    const fromMs = parseTime(opts.from, '--from') ?? -Infinity;
    const toMs = parseTime(opts.to, '--to') ?? Infinity;
    const records = input.records.filter((r) => r.timeMs >= fromMs && r.timeMs <= toMs);
    if (records.length === 0) throw new BackfillError(`${file}: no captures of device ${name}${opts.from || opts.to ? ' in that time range' : ''}`);
    source = { kind: 'captures', file, name: file, fromMs, toMs, ...(opts.device !== undefined ? { device: opts.device } : {}) };
    total = records.length;
    unit = 'records';
  } else {
    if (opts.from !== undefined || opts.to !== undefined) throw new ConfigError('--from/--to select capture records; a plain telegram log is imported whole');
    // A log has no arrival times: the device's own clock it is (P1: timestamps: meter).
    const meter = driver.options.safeParse({ ...(options as object), timestamps: 'meter' });
    if (meter.success) options = meter.data;
    source = { kind: 'plain', file, name: file };
    total = input.data.length;
    unit = 'bytes';
  }
  return {
    spec: { driver: driver.id, device: name, options, tags, source },
    total,
    unit,
    job: `file ${driver.id} ${name} ${resolve(file)} ${data.length} ${configHash(options, tags)}`,
    what: `${file} as device ${name}`,
    unitsAre: input.kind === 'plain' ? 'pieces' : driver.kind === 'poll' ? 'polls' : 'records',
  };
}

async function execute(loaded: LoadedConfig, plan: Plan, opts: BackfillOpts, log: Logger): Promise<number> {
  const precision: Precision = loaded.config.influx?.precision ?? 'ms';
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const outboxPath = backfillOutboxPath(resolveConfigPath(loaded, loaded.config.outbox.path));
  try {
    if (opts.dryRun) {
      // Line protocol on stdout, decoded right here: nothing to overlap with.
      const { units, close } = buildUnits(plan.spec);
      try {
        const sink: BackfillSink = { commit: (lines) => void (lines.length && process.stdout.write(lines.join('\n') + '\n')), checkpoint: () => null, finished: () => undefined, pending: () => null };
        return report(await runBackfill({ units, sink, precision, signal: stop.signal }), null, plan, opts, outboxPath);
      } finally {
        close();
      }
    }
    const c = loaded.config.outbox;
    const outbox = new SqliteOutbox(outboxPath, { maxRows: c.maxRows, maxBytes: c.maxBytes }, { synchronous: c.synchronous });
    const influx = loaded.config.influx;
    const delivery = influx && !opts.queueOnly ? { flusher: createFlusher(outbox, influx, systemClock, log.child({ room: 'backfill-flusher' })), writer: createWriter(influx, log), batchSize: influx.batchSize } : null;
    const sender = delivery ? startSender(outbox, delivery, precision, log, stop) : null;
    const bar = await progressBar(opts.progress, plan.total, plan.unit);
    try {
      log.info({ backfill: plan.what, into: outboxPath }, 'backfill started');
      const started = Date.now();
      const show = (progress: number, points: number) => bar?.update(progress, { points, rate: Math.round(progress / Math.max(0.001, (Date.now() - started) / 1000)) });
      const run = decodeInThread(plan, outbox, precision, stop.signal, show, sender);
      const result = await run.result;
      show(result.interrupted ? result.units : plan.total, result.points);
      bar?.stop();
      const sent = sender ? await sender.finish(result.interrupted) : null;
      // Finished only when every chunk is in InfluxDB or in the outbox; otherwise the checkpoint stays.
      if (!result.interrupted && run.unresolved() === 0) outbox.clearCheckpoint(plan.job);
      else result.interrupted = true;
      return report(result, sent, plan, opts, outboxPath);
    } finally {
      bar?.stop();
      outbox.close();
    }
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

function report(result: BackfillResult, sent: SenderResult | null, plan: Plan, opts: BackfillOpts, outboxPath: string): number {
  const err = (line: string) => process.stderr.write(`wattline: ${line}\n`);
  for (const f of result.failures) for (const e of f.errors) err(`${f.where}: ${e}`);
  if (result.failed > result.failures.length) err(`… and ${result.failed - result.failures.length} more that did not decode`);
  const resumed = result.resumedFrom !== null ? `; resumed an interrupted run (${result.resumed} already done)` : '';
  const failed = result.problems > 0 ? `; ${result.problems} problems in ${result.failed} of them (listed above)` : '';
  process.stderr.write(`backfill: ${plan.what}: ${result.units} ${plan.unitsAre} decoded into ${result.points} points${failed}${resumed}\n`);
  if (sent) {
    process.stderr.write(`backfill: ${sent.delivered} points sent to InfluxDB${sent.deadLettered ? `, ${sent.deadLettered} refused (dead letters in ${outboxPath})` : ''}\n`);
    if (sent.error) err(`InfluxDB: ${sent.error}; the rest waits in ${outboxPath} (wattline run or drain sends it)`);
  } else if (!opts.dryRun) {
    process.stderr.write(`backfill: queued in ${outboxPath}; \`wattline run\` or \`wattline drain\` sends it\n`);
  }
  if (result.interrupted) {
    err(`backfill ${sent?.error ? 'stopped' : 'interrupted'}: what was committed stays; run the same command again to continue`);
    return EXIT.failed;
  }
  if (sent?.error) return EXIT.failed;
  return result.failed > 0 ? EXIT.failed : EXIT.ok;
}

async function progressBar(wanted: boolean, total: number, unit: string) {
  if (!wanted || !process.stderr.isTTY) return null;
  // cli-progress is loaded only here: it costs the daemon ~7 MB resident otherwise.
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar(
    { format: `backfill [{bar}] {percentage}% {value}/{total} ${unit} | {rate} ${unit}/s | {points} points | ETA {eta_formatted}`, stream: process.stderr, etaBuffer: 200, fps: 5 },
    Presets.shades_classic,
  );
  bar.start(total, 0, { points: 0, rate: 0 });
  return bar;
}
