/**
 * The runtime: a config's devices as scheduler jobs, each collection → line protocol → one
 * outbox transaction, the flusher to InfluxDB, MQTT and the observer beside it, reloads and
 * control verbs under the port locks. What it is built from comes from assembly/.
 */
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { Logger, LogLevel } from '../core/log.js';
import type { Precision } from '../core/point.js';
import type { LoadedConfig } from '../config/load.js';
import type { DeviceConfig } from '../config/schema.js';
import type { ControlRequest, ControlResult, Driver } from '../devices/types.js';
import type { Flusher } from '../influx/flusher.js';
import type { MqttOutput } from '../mqtt/output.js';
import { GROUP_COMMIT_MS, GroupCommit } from '../outbox/group-commit.js';
import type { Outbox } from '../outbox/types.js';
import { Scheduler, type JobSpec } from '../scheduler/index.js';
import { DeviceWatch, type Observer } from '../observe/index.js';
import { prepareControl } from '../assembly/device.js';
import { createFlusher } from '../assembly/delivery.js';
import { linkKey } from '../assembly/link.js';
import { openOutbox, prioritised } from '../assembly/stores.js';
import { CaptureArchive } from './captures.js';
import { buildRuntime, closeRuntime, collectFrom, startRuntimes } from './device.js';
import { encodeCollected } from './encode.js';
import { JobLedger } from './ledger.js';
import { mqttDevices, startMqtt } from './mqtt.js';
import { createObserver } from './observer.js';
import { planReload, runnableDevices, type ReloadPlan } from './reload-plan.js';
import { failedReport, type DeviceRuntime, type JobReport, type WorkerOptions } from './types.js';

export type { DeviceRuntime, JobReport, RawTelegram, WorkerOptions } from './types.js';

export class Worker {
  readonly devices = new Map<string, DeviceRuntime>();
  readonly scheduler: Scheduler;
  readonly outbox: Outbox | null;
  /** Replaced by a reload that changes the influx section. */
  flusher: Flusher | null;
  /** The capture archive, open when a device has `capture: on` (not for `test`). */
  private readonly captures: CaptureArchive;
  /** What the flusher sends: the outbox, then the backfill file beside it. */
  private readonly sendQueue: Outbox | null;
  precision: Precision;
  private readonly clock: Clock;
  private readonly log: Logger;
  private stopping = false;
  private started = false;
  private waitForStreams = false;
  /** The config running now (replaced by a reload). */
  private loaded: LoadedConfig;
  /** Reloads run one after another. */
  private reloads: Promise<unknown> = Promise.resolve();
  /** Reports, status rows and the log's watch per device. */
  private readonly ledger: JobLedger;
  /** Points and device status rows of jobs ending together, in one outbox transaction. */
  private readonly commits: GroupCommit | null;
  private readonly collectedListeners: ((report: JobReport) => void)[] = [];
  /** The MQTT output of `run` when the config has an `mqtt` section. */
  mqtt: MqttOutput | null = null;
  /** Per-device counters and the failure log a person can follow (first, reminders, recovery). */
  readonly deviceWatch: DeviceWatch;
  /** Self-metrics, /metrics, /health and status (not for `test`). */
  readonly observer: Observer | null;

  constructor(private readonly options: WorkerOptions) {
    const { loaded, log } = options;
    const config = loaded.config;
    this.loaded = loaded;
    this.log = log;
    this.clock = options.clock ?? systemClock;
    this.precision = config.influx?.precision ?? 'ms';
    this.scheduler = new Scheduler({ log, timezone: config.timezone });

    // Jobs first: a bad cron expression is a ConfigError before any port, simulator or
    // outbox file is opened ("nothing written").
    const devices = runnableDevices(config, options.only);
    for (const device of devices) this.scheduler.add(this.jobSpec(loaded, device));

    const opened = options.dryRun ? null : openOutbox(loaded, log);
    this.outbox = opened?.outbox ?? null;
    this.deviceWatch = new DeviceWatch({ log: this.quietLog(), reminderMs: config.log.reminderS * 1000 });
    // The commit holds (bounded) for jobs of the same tick still collecting.
    this.commits = opened ? new GroupCommit(opened.outbox, GROUP_COMMIT_MS, { active: () => this.scheduler.active }) : null;
    this.ledger = new JobLedger(this.deviceWatch, this.commits, this.clock, log);
    this.ledger.follow(this.scheduler);
    // Backfill points wait in their own file and go only when no live point is pending.
    this.sendQueue = opened ? prioritised(opened.outbox, opened.path, config.outbox) : null;
    this.flusher = this.sendQueue && config.influx ? createFlusher(this.sendQueue, config.influx, this.clock, log.child({ room: 'flusher' }), config.log.reminderS * 1000) : null;
    this.captures = new CaptureArchive(log);
    if (!options.dryRun && devices.some((d) => d.capture)) this.captures.openFor(loaded);

    for (const device of devices) this.devices.set(device.name, this.runtime(loaded, device));
    this.observer = this.outbox
      ? createObserver({
          loaded,
          log,
          clock: this.clock,
          precision: this.precision,
          outbox: this.outbox,
          sendQueue: this.sendQueue,
          scheduler: this.scheduler,
          devices: this.devices,
          deviceWatch: this.deviceWatch,
          flusher: () => this.flusher,
          mqtt: () => this.mqtt,
        })
      : null;
  }

  /** One-shot verbs (once, test) print each failure once themselves: the sessions' and the watch's own warnings stay quiet. */
  private quietLog(): Logger {
    return this.options.oneShot && !this.log.isLevelEnabled('debug') ? this.log.child({}, { level: 'error' }) : this.log;
  }

  private driverOf(device: DeviceConfig): Driver {
    return this.options.drivers.find((d) => d.id === device.driver)!;
  }

  /** The cron job of one device (the zone is set on every job, so a reload can change it). */
  private jobSpec(loaded: LoadedConfig, device: DeviceConfig): JobSpec {
    const timezone = loaded.config.timezone;
    return {
      name: device.name,
      cron: device.schedule,
      portKey: linkKey(device, this.driverOf(device)),
      timeoutMs: device.timeoutMs,
      ...(timezone ? { timezone } : {}),
      run: async (signal) => {
        await this.collect(device.name, signal);
      },
    };
  }

  /** A device's link and session, not yet started. */
  private runtime(loaded: LoadedConfig, device: DeviceConfig): DeviceRuntime {
    const { clock, captures, options } = this;
    return buildRuntime(loaded, device, this.driverOf(device), { clock, log: this.quietLog(), captures, runtimeOf: () => this.devices.get(device.name), dryRun: options.dryRun, oneShot: options.oneShot });
  }

  /** Start stream sessions, the schedule and the flusher (the daemon). */
  async start(): Promise<void> {
    // First: a port in use for http.listen ends the start before any device is touched.
    await this.observer?.start().catch(async (err: unknown) => {
      await this.stop();
      throw err;
    });
    await this.startSessions();
    await this.startMqtt();
    this.scheduler.start();
    this.flusher?.start();
    this.started = true;
    this.log.info({ devices: [...this.devices.keys()], influx: this.flusher ? 'on' : 'off (points stay in the outbox)' }, 'worker started');
  }

  /** MQTT beside the outbox: fed by onCollected, commands through control(); never awaited by collection. */
  private async startMqtt(): Promise<void> {
    if (!this.loaded.config.mqtt || !this.outbox) return;
    const mqtt = await startMqtt(this.loaded, mqttDevices(this.devices.values(), this.loaded), (device, verb, args, signal) => this.control(device, verb, args, signal), this.log);
    this.mqtt = mqtt;
    this.onCollected((report) => mqtt.publishReport(report));
  }

  /** Open every session; a device that cannot start is that device's problem, not the worker's. */
  startSessions(runtimes: Iterable<DeviceRuntime> = this.devices.values()): Promise<void> {
    return startRuntimes(runtimes, this.log, this.options.oneShot === true);
  }

  /**
   * One collection of one device: points → line protocol → one outbox transaction.
   * `dryRun` (`wattline test` through the running worker): the report only, nothing committed or published.
   */
  async collect(name: string, signal: AbortSignal, mode: { dryRun?: boolean } = {}): Promise<JobReport> {
    const rt = this.devices.get(name)!;
    const result = await collectFrom(rt, signal, { captures: this.captures, clock: this.clock, waitForStream: this.waitForStreams || mode.dryRun === true });
    const { points, lines, dropped } = encodeCollected(name, result, rt.driver.fields, this.precision, this.log);
    if (mode.dryRun) return { device: name, ok: true, points, lines, dropped };
    let refused = 0;
    if (this.commits && lines.length > 0) {
      // Nothing below (echo, MQTT, status) happens before the commit that holds these lines.
      const appended = await this.commits.append(lines, this.precision);
      refused = appended.refused ?? 0;
      if (appended.dropped > 0) this.log.warn({ evicted: appended.dropped }, 'outbox full: dropped the oldest points');
    }
    // echo prints what was committed: not a collection the outbox refused for lack of space.
    if (this.loaded.config.echo && this.options.echo && lines.length > 0 && refused === 0) this.options.echo.write(lines.join('\n') + '\n');
    const report: JobReport = { device: name, ok: true, points, lines, dropped, ...(refused > 0 ? { refused } : {}), ...(rt.raw?.length ? { raw: rt.raw.splice(0) } : {}) };
    this.ledger.collected(report);
    for (const listener of this.collectedListeners) {
      try {
        listener(report);
      } catch (err) {
        this.log.warn({ device: name, err: errorMessage(err) }, 'a collected-points listener failed');
      }
    }
    return report;
  }

  /** Called after every successful collection (MQTT and other best-effort outputs); must not throw or block. */
  onCollected(listener: (report: JobReport) => void): void {
    this.collectedListeners.push(listener);
  }

  /**
   * Validate a control verb for a device (driver.control.prepare: ranges, config allowance)
   * and carry it out on the device's running session while holding its port lock, so a
   * command never interleaves with a poll on the wire.
   */
  async control(device: string, verb: string, args: readonly string[], signal: AbortSignal): Promise<{ request: ControlRequest; result: ControlResult }> {
    const rt = this.devices.get(device);
    if (!rt) throw new ConfigError(`no enabled device named "${device}" in this worker (devices: ${[...this.devices.keys()].join(', ') || 'none'})`);
    const request = prepareControl(rt.driver, rt.config, verb, args);
    const result = await this.scheduler.locks.run(
      rt.link.key,
      async () => {
        if (!rt.session.control) throw new ConfigError(`driver ${rt.driver.id} has no control verbs`);
        return rt.session.control(request, signal);
      },
      { signal },
    );
    this.log.info({ device, verb, summary: request.summary, result: result.message }, 'control');
    return { request, result };
  }

  /** What `wattline status` shows (through the control endpoint). */
  statusReport(): Record<string, unknown> {
    return { pid: process.pid, ...(this.observer?.status() ?? {}) };
  }

  /** Every (or the named) device once, through the scheduler's port locks and timeouts. */
  async runOnce(names?: readonly string[]): Promise<JobReport[]> {
    await this.startSessions();
    this.ledger.forget();
    this.waitForStreams = true;
    const results = await this.scheduler.runOnce(names ?? [...this.devices.keys()]).finally(() => (this.waitForStreams = false));
    return this.ledger.reports(results);
  }

  /**
   * `wattline test`/`once` beside this worker (control endpoint): collect the named devices (or
   * all) at their next free moment under their port locks. `commit`: a manual run of the job
   * (outbox, MQTT, status as a scheduled one); otherwise the lines only, nothing kept.
   */
  async collectNow(names: readonly string[], commit: boolean, signal: AbortSignal): Promise<JobReport[]> {
    const wanted = names.length > 0 ? names : [...this.devices.keys()];
    const unknown = wanted.filter((n) => !this.devices.has(n));
    if (unknown.length > 0) {
      throw new ConfigError(
        `the running worker has no enabled device named ${unknown.map((n) => `"${n}"`).join(', ')} (its devices: ${[...this.devices.keys()].join(', ') || 'none'}); after editing the config, run wattline reload`,
      );
    }
    if (commit) return this.ledger.reports(await this.scheduler.runOnce(wanted));
    return Promise.all(
      wanted.map(async (name) => {
        const rt = this.devices.get(name)!;
        const bounded = AbortSignal.any([signal, AbortSignal.timeout(rt.config.timeoutMs)]);
        try {
          return await this.scheduler.locks.run(rt.link.key, () => this.collect(name, bounded, { dryRun: true }), { signal });
        } catch (err) {
          return failedReport(name, errorMessage(err));
        }
      }),
    );
  }

  /**
   * Apply a new, validated config (SIGHUP, `wattline reload`): all of it or none. Everything
   * that can refuse (a restart-only change, a bad cron, a device that cannot be built) is
   * checked before anything changes; then removed and changed devices' jobs stop (a collection
   * under way finishes and commits) and their ports close, new ones open, and the outbox
   * limits, InfluxDB target and log level follow. Unchanged devices keep their jobs and open
   * ports; the outbox, the batch in flight (unless the influx section changed) and the MQTT
   * connection are untouched. Throws ConfigError when refused: the old config keeps running.
   */
  reload(next: LoadedConfig, logLevel?: LogLevel): Promise<ReloadPlan> {
    const run = this.reloads.then(() => this.applyReload(next, logLevel));
    this.reloads = run.catch(() => undefined);
    return run;
  }

  private async applyReload(next: LoadedConfig, logLevel: LogLevel | undefined): Promise<ReloadPlan> {
    if (this.stopping) throw new ConfigError('the worker is stopping');
    const plan = planReload(this.loaded, next, this.options.only);
    const fresh = [...plan.added, ...plan.changed];
    const specs = fresh.map((d) => this.jobSpec(next, d));
    for (const spec of specs) this.scheduler.check(spec);
    const flusher = plan.influxChanged && this.sendQueue && next.config.influx ? createFlusher(this.sendQueue, next.config.influx, this.clock, this.log.child({ room: 'flusher' })) : null;
    if (!this.options.dryRun && fresh.some((d) => d.capture)) this.captures.openFor(next);
    const runtimes: DeviceRuntime[] = [];
    try {
      for (const device of fresh) runtimes.push(this.runtime(next, device));
    } catch (err) {
      await Promise.all(runtimes.map((rt) => closeRuntime(rt)));
      throw err;
    }

    // From here on nothing refuses: the new config is applied whole (unless the worker stops meanwhile).
    await Promise.all([...plan.removed, ...plan.changed.map((d) => d.name)].map((name) => this.retire(name)));
    if (this.stopping) {
      await Promise.all(runtimes.map((rt) => closeRuntime(rt)));
      throw new ConfigError('the worker is stopping');
    }
    this.loaded = next;
    this.precision = next.config.influx?.precision ?? 'ms';
    for (const device of plan.unchanged) this.devices.get(device.name)!.config = device;
    for (const rt of runtimes) this.devices.set(rt.config.name, rt);
    for (const spec of specs) this.scheduler.add(spec);
    if (plan.limitsChanged) this.outbox?.setLimits?.({ maxRows: next.config.outbox.maxRows, maxBytes: next.config.outbox.maxBytes, minFreeBytes: next.config.outbox.minFreeBytes });
    if (plan.influxChanged) {
      // The old flusher finishes (or keeps in the outbox) its batch in flight before the new one starts.
      await this.flusher?.stop();
      this.flusher = flusher;
      if (this.started && !this.stopping) flusher?.start();
    }
    if (logLevel) this.log.level = logLevel;
    this.mqtt?.setDevices(mqttDevices(this.devices.values(), this.loaded));
    if (this.started && !this.stopping) await this.startSessions(runtimes);
    this.observer?.configLoaded(this.clock.now());
    const names = (list: { name: string }[]) => list.map((d) => d.name);
    this.log.info({ added: names(plan.added), removed: plan.removed, changed: names(plan.changed), influx: plan.influxChanged, limits: plan.limitsChanged }, 'config reloaded');
    return plan;
  }

  /**
   * Stop a device's job (its run in flight finishes) and close its port, under the port's
   * lock so a control command or a `test` collection on it ends first.
   */
  private async retire(name: string): Promise<void> {
    await this.scheduler.remove(name);
    const rt = this.devices.get(name);
    this.ledger.forget(name);
    if (!rt) return;
    await this.scheduler.locks.run(rt.link.key, async () => {
      this.devices.delete(name);
      await closeRuntime(rt);
    });
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.observer?.stop();
    await this.scheduler.stop();
    // A reload under way sees `stopping` once its jobs let go, and ends without opening anything.
    await this.reloads;
    await this.mqtt?.stop();
    await this.flusher?.stop();
    await Promise.all([...this.devices.values()].map((rt) => closeRuntime(rt)));
    this.ledger.close();
    (this.sendQueue ?? this.outbox)?.close();
    this.captures.close();
  }
}
