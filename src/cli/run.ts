import type { Command } from 'commander';
import { loadChecked } from '../assembly/config-check.js';
import { resolveConfigPath, type LoadedConfig } from '../config/load.js';
import { startControlServer, type ControlServer } from '../control/server.js';
import { errorMessage } from '../core/errors.js';
import type { DeviceConfig } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { drivers } from '../devices/index.js';
import { acquireWorkerLock, type WorkerLock } from '../outbox/worker-lock.js';
import { Worker, type JobReport } from '../runtime/worker.js';
import { action, EXIT, load, logger } from './common.js';
import { compilersBack, heapGrowsFreely } from './daemon-v8.js';
import type { Logger } from '../core/log.js';
import type { ControlReply } from '../control/protocol.js';
import { configReloader } from './reload.js';
import { collectHandler, collectThroughWorker, explainHeldPorts, toWire } from './via-worker.js';

/** The stop promise (README, packaging/systemd/wattline.service's TimeoutStopSec). */
export const STOP_GRACE_MS = 5000;

export function registerRunVerbs(program: Command): void {
  program
    .command('run')
    .description('Run the worker: poll every device on its schedule, buffer in the outbox, send to InfluxDB')
    .addHelpText(
      'after',
      `
The config is the first of --config, $WATTLINE_CONFIG, ./wattline.yaml, /etc/wattline/wattline.yaml;
without one it exits 2 (\`wattline demo\` runs the simulated devices). One worker per outbox: a
second one exits 2 naming the first one's PID. SIGTERM or Ctrl-C stops it: polling ends, the
batch in flight finishes or stays in the outbox. SIGHUP (or wattline reload) re-reads the config
and applies all of it, or none if it is invalid (logged).`,
    )
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const { loaded, check } = await loadChecked(() => load(cmd), drivers, { writes: true, mqtt: true });
        return runDaemon(cmd, loaded, { warnings: check.warnings, reload: (worker, log) => configReloader(cmd, worker, log) });
      }),
    );

  program
    .command('once')
    .description('Collect every device once, flush the outbox to InfluxDB, exit non-zero if anything failed (for cron)')
    .argument('[device...]', 'only these devices')
    .addHelpText(
      'after',
      `
Exit 1 when a device failed, when not everything reached InfluxDB (it stays in the outbox for
the next run), when InfluxDB refused lines: those were moved to the dead letters
(wattline buffer dead-letters; buffer retry|purge <id>), or when the outbox refused points
for lack of disk space (below outbox.minFreeBytes: collected but not kept; wattline buffer
shows the disk). Each failure is printed once. Exit 2 is kept for a bad config or command line.`,
    )
    .action(
      action(async (names: string[], _opts: unknown, cmd: Command) => {
        // One-shot: a missing serial port is that device's failure, printed once (not config check's warning too).
        const { loaded } = await loadChecked(() => load(cmd), drivers, { writes: true, mqtt: false });
        const log = logger(cmd, loaded);
        checkNames(loaded, names);
        // A running worker owns the ports: it collects and commits into its outbox, and its flusher sends.
        const remote = await collectThroughWorker(loaded, names, true);
        if (remote) return logReports(log, remote) ? EXIT.ok : EXIT.failed;
        const worker = new Worker({ loaded, drivers, log, echo: process.stdout, oneShot: true, only: names.length ? names : undefined });
        let failed: boolean;
        try {
          const reports = await worker.runOnce();
          explainHeldPorts(loaded, reports);
          failed = !logReports(log, reports);
          if (worker.flusher) {
            const result = await worker.flusher.drain({ callerReports: true });
            if (!result.complete) {
              failed = true;
              log.error({ reason: result.stoppedBecause }, 'not everything reached InfluxDB; it stays in the outbox');
            }
            if (result.deadLettered > 0) {
              failed = true;
              log.error({ deadLettered: result.deadLettered }, 'InfluxDB refused lines: moved to the dead letters (wattline buffer dead-letters)');
            }
          }
        } finally {
          await worker.stop();
        }
        return failed ? EXIT.failed : EXIT.ok;
      }),
    );

  program
    .command('test')
    .description('Collect once and print line protocol (or JSON); writes nothing anywhere (like telegraf --test)')
    .argument('[device...]', 'only these devices')
    .option('--format <format>', 'lp (line protocol) or json', 'lp')
    .action(
      action(async (names: string[], opts: { format: string }, cmd: Command) => {
        if (opts.format !== 'lp' && opts.format !== 'json') {
          process.stderr.write(`wattline: --format: expected lp or json, got ${JSON.stringify(opts.format)}\n`);
          return EXIT.usage;
        }
        const { loaded } = await loadChecked(() => load(cmd), drivers, { writes: false, mqtt: false });
        const log = logger(cmd, loaded);
        checkNames(loaded, names);
        const reports = (await collectThroughWorker(loaded, names, false)) ?? toWire(await testHere(loaded, log, names));
        const lines = reports.flatMap((r) => r.lines);
        if (opts.format === 'json') process.stdout.write(JSON.stringify({ devices: reports.map(({ lines: _, ...r }) => r) }, null, 2) + '\n');
        else if (lines.length) process.stdout.write(lines.join('\n') + '\n');
        for (const r of reports) if (!r.ok) process.stderr.write(`wattline: ${r.device}: ${r.error}\n`);
        return reports.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
      }),
    );
}

/** `test` without a running worker: open the ports here, collect once, keep nothing. */
async function testHere(loaded: LoadedConfig, log: Logger, names: readonly string[]): Promise<JobReport[]> {
  const worker = new Worker({ loaded, drivers, log, dryRun: true, oneShot: true, only: names.length ? names : undefined });
  try {
    const reports = await worker.runOnce();
    explainHeldPorts(loaded, reports);
    return reports;
  } finally {
    await worker.stop();
  }
}

/** Log each device's outcome as `once` does; false when one failed or its points were not kept. */
function logReports(log: Logger, reports: readonly { device: string; ok: boolean; lines: string[]; error?: string; refused?: number }[]): boolean {
  for (const r of reports) {
    if (!r.ok) log.error({ device: r.device, err: r.error }, 'collection failed');
    else if (!r.refused) log.info({ device: r.device, points: r.lines.length }, 'collected');
  }
  // Collected but not kept is a loss a cron job must see: one line for all of them.
  const refused = reports.filter((r) => r.ok && r.refused);
  if (refused.length > 0) {
    const points = refused.reduce((n, r) => n + r.refused!, 0);
    log.error({ devices: refused.map((r) => r.device), points }, 'points not kept: the outbox refused them for lack of disk space (below outbox.minFreeBytes; wattline buffer shows the disk)');
  }
  return refused.length === 0 && reports.every((r) => r.ok);
}

export interface DaemonOptions {
  /** config check's warnings (a serial port not there yet), logged once the logger exists. */
  warnings?: readonly string[];
  /** SIGHUP and `wattline reload`: re-read the config (run); absent, reloading is refused (demo). */
  reload?: (worker: Worker, log: Logger) => () => Promise<ControlReply>;
}

/**
 * The daemon, for `run` and `demo`: takes the outbox's worker lock before any port opens,
 * starts the worker and its control endpoint, reloads on SIGHUP, and stops both on SIGTERM/SIGINT.
 */
export async function runDaemon(cmd: Command, loaded: LoadedConfig, options: DaemonOptions = {}): Promise<number> {
  const log = logger(cmd, loaded);
  // The MQTT output formats every reading each batch: interpreted, its share of the worker's
  // CPU tripled (mqtt-cpu 1.02× → 1.12×), so a publishing worker keeps V8's compilers, and its
  // default heap growth (as mqtt-cpu measured it; daemon-v8.ts).
  if (loaded.config.mqtt) {
    compilersBack();
    heapGrowsFreely();
  }
  const outboxPath = resolveConfigPath(loaded, loaded.config.outbox.path);
  // The Worker checks every schedule before it writes anything, and opens no port until
  // start(): a bad config leaves no lock file, and a second worker stops before a port opens.
  const worker = new Worker({ loaded, drivers, log, echo: process.stdout });
  let lock: WorkerLock;
  try {
    lock = acquireWorkerLock(outboxPath);
  } catch (err) {
    await worker.stop();
    throw err;
  }
  // After the lock: a second worker's refusal is its one line.
  if (lock.pidFileProblem) log.warn(lock.pidFileProblem);
  for (const line of options.warnings ?? []) log.warn(line);
  const reload =
    options.reload?.(worker, log) ??
    (async (): Promise<ControlReply> => {
      const refusal = 'config reload refused: the demo runs its built-in config, there is no file to re-read (restart it)';
      log.warn(refusal);
      throw new ConfigError(refusal);
    });
  // SIGHUP (systemd's ExecReload) and `wattline reload`: caught from the start (its default kills
  // the process), applied once the worker runs; refusals are logged by the reloader.
  let started: Promise<void> | undefined;
  const onHup = () => void started?.then(reload).catch(() => undefined);
  process.on('SIGHUP', onHup);
  try {
    // Listening before start(): a SIGTERM that comes while devices open is honoured once they have.
    const stopSignal = new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    started = worker.start();
    await started;
    // The control endpoint lets `wattline control` reach devices whose ports this worker owns.
    let control: ControlServer | null = null;
    try {
      control = await startControlServer({ worker, outboxPath, log: log.child({ room: 'control' }), reload, collect: collectHandler(worker) });
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'control endpoint not started; control verbs will open ports themselves');
    }
    log.info({ signal: await stopSignal }, 'stopping');
    const force = setTimeout(() => {
      log.error('did not stop in time; exiting (unsent points stay in the outbox)');
      process.exit(EXIT.failed);
    }, STOP_GRACE_MS);
    force.unref();
    await Promise.all([control?.close(), worker.stop()]).catch(() => undefined);
    log.info('stopped');
    return EXIT.ok;
  } finally {
    process.off('SIGHUP', onHup);
    lock.release();
  }
}

/** Device names on the command line must be enabled devices of the config: exit 2 before anything opens. */
function checkNames(loaded: LoadedConfig, names: readonly string[]): void {
  const enabled = (loaded.config.devices as DeviceConfig[]).filter((d) => d.enabled).map((d) => d.name);
  for (const n of names) {
    if (!enabled.includes(n)) throw new ConfigError(`no enabled device named "${n}" (configured: ${enabled.join(', ') || 'none'})`);
  }
}
