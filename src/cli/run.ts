import type { Command } from 'commander';
import { loadChecked } from '../config/check.js';
import { resolveConfigPath, type LoadedConfig } from '../config/load.js';
import { startControlServer, type ControlServer } from '../control/server.js';
import { errorMessage } from '../core/errors.js';
import type { DeviceConfig } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { drivers } from '../devices/index.js';
import { Worker, type JobReport } from '../worker.js';
import { action, EXIT, load, logger } from './common.js';
import type { Logger } from '../core/log.js';
import { configReloader } from './reload.js';
import { collectHandler, collectThroughWorker, explainHeldPorts, toWire } from './via-worker.js';

const STOP_GRACE_MS = 5000;

export function registerRunVerbs(program: Command): void {
  program
    .command('run')
    .description('Run the worker: poll every device on its schedule, buffer in the outbox, send to InfluxDB')
    .addHelpText(
      'after',
      `
Without a config file (./wattline.yaml, WATTLINE_CONFIG or --config) it runs the built-in
demo: every driver's simulator, points printed to stdout and kept in data/demo-outbox.sqlite,
sent to InfluxDB when INFLUX_URL is set (see .env.example). SIGTERM or Ctrl-C stops it:
polling ends, the batch in flight finishes or stays in the outbox. SIGHUP (or wattline reload)
re-reads the config and applies all of it, or none if it is invalid (logged).`,
    )
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const { loaded, check } = await loadChecked(() => load(cmd, true), drivers, { writes: true, mqtt: true });
        const log = logger(cmd, loaded);
        for (const line of check.warnings) log.warn(line);
        if (loaded.demo) log.warn('no wattline.yaml found: running the built-in demo on simulated devices');
        const worker = new Worker({ loaded, drivers, log, echo: process.stdout });
        // SIGHUP (systemd's ExecReload) and `wattline reload`: re-read the config; refusals are logged.
        // Caught from the start (its default kills the process), applied once the worker runs.
        const started = worker.start();
        const reload = configReloader(cmd, worker, log);
        const onHup = () => void started.then(reload).catch(() => undefined);
        process.on('SIGHUP', onHup);
        await started;
        // The control endpoint lets `wattline control` reach devices whose ports this worker owns.
        let control: ControlServer | null = null;
        try {
          control = await startControlServer({
            worker,
            outboxPath: resolveConfigPath(loaded, loaded.config.outbox.path),
            log: log.child({ room: 'control' }),
            reload,
            collect: collectHandler(worker),
          });
        } catch (err) {
          log.warn({ err: errorMessage(err) }, 'control endpoint not started; control verbs will open ports themselves');
        }
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            log.info({ signal }, 'stopping');
            const force = setTimeout(() => {
              log.error('did not stop in time; exiting (unsent points stay in the outbox)');
              process.exit(EXIT.failed);
            }, STOP_GRACE_MS);
            force.unref();
            Promise.all([control?.close(), worker.stop()]).then(() => resolve(), () => resolve());
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
        process.off('SIGHUP', onHup);
        log.info('stopped');
        return EXIT.ok;
      }),
    );

  program
    .command('once')
    .description('Collect every device once, flush the outbox to InfluxDB, exit non-zero if anything failed (for cron)')
    .argument('[device...]', 'only these devices')
    .action(
      action(async (names: string[], _opts: unknown, cmd: Command) => {
        const { loaded, check } = await loadChecked(() => load(cmd, true), drivers, { writes: true, mqtt: false });
        const log = logger(cmd, loaded);
        checkNames(loaded, names);
        for (const line of check.warnings) log.warn(line);
        // A running worker owns the ports: it collects and commits into its outbox, and its flusher sends.
        const remote = await collectThroughWorker(loaded, names, true);
        if (remote) return logReports(log, remote) ? EXIT.ok : EXIT.failed;
        const worker = new Worker({ loaded, drivers, log, echo: process.stdout, only: names.length ? names : undefined });
        let failed = false;
        try {
          const reports = await worker.runOnce();
          explainHeldPorts(loaded, reports);
          failed = !logReports(log, reports);
          if (worker.flusher) {
            const result = await worker.flusher.drain();
            if (!result.complete) {
              failed = true;
              log.error({ reason: result.stoppedBecause }, 'not everything reached InfluxDB; it stays in the outbox');
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
        const { loaded, check } = await loadChecked(() => load(cmd, true), drivers, { writes: false, mqtt: false });
        const log = logger(cmd, loaded);
        checkNames(loaded, names);
        for (const line of check.warnings) log.warn(line);
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
  const worker = new Worker({ loaded, drivers, log, dryRun: true, only: names.length ? names : undefined });
  try {
    const reports = await worker.runOnce();
    explainHeldPorts(loaded, reports);
    return reports;
  } finally {
    await worker.stop();
  }
}

/** Log each device's outcome as `once` does; false when one failed. */
function logReports(log: Logger, reports: readonly { device: string; ok: boolean; lines: string[]; error?: string }[]): boolean {
  for (const r of reports) {
    if (r.ok) log.info({ device: r.device, points: r.lines.length }, 'collected');
    else log.error({ device: r.device, err: r.error }, 'collection failed');
  }
  return reports.every((r) => r.ok);
}

/** Device names on the command line must be enabled devices of the config: exit 2 before anything opens. */
function checkNames(loaded: LoadedConfig, names: readonly string[]): void {
  const enabled = (loaded.config.devices as DeviceConfig[]).filter((d) => d.enabled).map((d) => d.name);
  for (const n of names) {
    if (!enabled.includes(n)) throw new ConfigError(`no enabled device named "${n}" (configured: ${enabled.join(', ') || 'none'})`);
  }
}
