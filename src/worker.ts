/**
 * Wires the rooms together: config → transports + driver sessions → scheduler jobs
 * → line protocol → outbox → flusher → InfluxDB. Only this file and cli/ do wiring.
 */
import { hostname } from 'node:os';
import type { Writable } from 'node:stream';
import { systemClock, type Clock } from './core/clock.js';
import { ConfigError, errorMessage } from './core/errors.js';
import { encodePoints } from './core/line-protocol.js';
import type { Logger, LogLevel } from './core/log.js';
import type { Point, Precision } from './core/point.js';
import { resolveConfigPath, type LoadedConfig } from './config/load.js';
import type { DeviceConfig } from './config/schema.js';
import type { ControlRequest, ControlResult, DeviceSession, Driver, DriverContext, SerialSettings } from './devices/types.js';
import { Flusher } from './influx/flusher.js';
import type { Writer } from './influx/types.js';
import { InfluxV1Writer } from './influx/v1-writer.js';
import { InfluxV2Writer } from './influx/v2-writer.js';
import { pingProbe } from './influx/probe.js';
import type { MqttDevice, MqttOutput } from './mqtt/output.js';
import { VSCP_DRIVER } from './vscp/output.js';
import { tally, withoutImplausible } from './devices/problems.js';
import { openDeviceStatus, type DeviceStatusStore } from './outbox/device-status.js';
import { openSqliteOutbox } from './outbox/sqlite-outbox.js';
import { openCaptureStore, type CaptureStore } from './outbox/capture-store.js';
import { backfillOutboxPath, PriorityOutbox } from './outbox/priority-outbox.js';
import type { Outbox } from './outbox/types.js';
import { Scheduler, type JobSpec } from './scheduler/index.js';
import { planReload, runnableDevices, type ReloadPlan } from './worker-reload.js';
import { startSimulator, type RunningSimulator } from './simulators/index.js';
import { createSimLink } from './transports/sim.js';
import { SerialTransport } from './transports/serial.js';
import { HidTransport, hidKey } from './transports/hid.js';
import { isNetworkPath, parseNetworkPath, type NetworkAddress } from './transports/address.js';
import { Rfc2217Transport } from './transports/rfc2217.js';
import { TcpTransport } from './transports/tcp.js';
import type { Transport } from './transports/transport.js';
import type { InfluxConfig } from './config/influx.js';
import { DeviceWatch, Observer, withoutCredentials } from './observe/index.js';

/** How often once/test look again for a stream device's first frame. */
const STREAM_WAIT_STEP_MS = 100;
const FALLBACK_SERIAL: SerialSettings = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 };

export interface DeviceRuntime {
  config: DeviceConfig;
  driver: Driver;
  transport: Transport;
  session: DeviceSession;
  simulator?: RunningSimulator;
  /** Capture archive: the cycle id of the collect() running now (poll drivers), null otherwise. */
  cycle?: number | null;
  /** Telegrams received since the last collect(), kept only for a raw consumer (mqtt.vscp). */
  raw?: RawTelegram[];
}

export interface RawTelegram {
  text: string;
  timeMs: number;
}

/** Raw telegrams kept between two collections at most (a stalled schedule must not grow memory). */
const MAX_RAW_PER_COLLECT = 64;

export interface JobReport {
  device: string;
  ok: boolean;
  points: Point[];
  lines: string[];
  error?: string;
  dropped: { reason: string; count: number }[];
  /** Points the outbox refused for lack of disk space (outbox.minFreeBytes): collected, not kept. */
  refused?: number;
  /** The telegrams behind these points, for mqtt.vscp (only for its driver, only when configured). */
  raw?: RawTelegram[];
}

/** Between failed connects of a device's network link: 1 s doubling to 30 s, jittered (TcpTransport). */
const NETWORK_RETRY = { minMs: 1000, maxMs: 30_000 };

/** Build the transport a device entry asks for: its serial port, a TCP connection (network drivers), or a simulator on a sim link. */
export function createTransport(config: DeviceConfig, driver: Driver): { transport: Transport; simulator?: RunningSimulator } {
  if (config.simulate) {
    const link = createSimLink(`sim:${config.name}`);
    const simulator = startSimulator(driver.id, link.device, config.options);
    return { transport: link.host, simulator };
  }
  if (driver.link === 'network') {
    return { transport: new TcpTransport(driver.networkAddress!(config.options)) };
  }
  if (config.hid) return { transport: new HidTransport(config.hid) };
  const port = config.port!;
  const defaults = driver.defaultSerial?.(config.options) ?? FALLBACK_SERIAL;
  const serial = {
    baudRate: port.baudRate ?? defaults.baudRate,
    dataBits: port.dataBits ?? defaults.dataBits,
    parity: port.parity ?? defaults.parity,
    stopBits: port.stopBits ?? defaults.stopBits,
  };
  const remote = networkAddressOf(port.path);
  if (remote) {
    const { host, port: tcpPort, scheme } = remote;
    // Polled drivers connect at the start of a poll: the link backs off after a failed connect.
    // A stream session (P1) reopens in its own loop, which backs off itself.
    const link = { host, port: tcpPort, ...(driver.kind === 'stream' ? {} : { retry: NETWORK_RETRY }) };
    // rfc2217: the config's serial settings go to the remote port; tcp: they are the far end's business.
    if (scheme === 'rfc2217') return { transport: new Rfc2217Transport({ ...link, serial }) };
    return { transport: new TcpTransport({ ...link, ...(scheme === 'modbus+tcp' ? { framing: 'mbap' as const } : {}) }) };
  }
  return { transport: new SerialTransport({ path: port.path, ...serial }) };
}

/** A `port.path` that is a network address (validated by the config schema), or undefined for a device path. */
function networkAddressOf(path: string): NetworkAddress | undefined {
  if (!isNetworkPath(path)) return undefined;
  const address = parseNetworkPath(path);
  if (typeof address === 'string') throw new ConfigError(`port.path: ${address}`);
  return address;
}

/** A device's link (or simulator) and a driver session on it, not yet started. */
export function openDevice(
  loaded: LoadedConfig,
  device: DeviceConfig,
  driver: Driver,
  with_: { clock: Clock; log: Logger; capture?: DriverContext<unknown>['capture']; readOnly?: boolean; oneShot?: boolean },
): { transport: Transport; simulator?: RunningSimulator; session: DeviceSession } {
  const { transport, simulator } = createTransport(device, driver);
  const session = driver.createSession({
    device: device.name,
    options: device.options,
    tags: baseTags(loaded, device),
    transport,
    clock: with_.clock,
    log: with_.log.child({ device: device.name }),
    ...(with_.capture ? { capture: with_.capture } : {}),
    ...(with_.readOnly ? { readOnly: true } : {}),
    ...(with_.oneShot ? { oneShot: true } : {}),
  });
  return { transport, ...(simulator ? { simulator } : {}), session };
}

/** driver.control.prepare with the errors a user needs when the driver or verb has none. */
export function prepareControl(driver: Driver, config: DeviceConfig, verb: string, args: readonly string[]): ControlRequest {
  const control = driver.control;
  if (!control) throw new ConfigError(`${config.name}: driver ${driver.id} has no control verbs`);
  if (!control.verbs.some((v) => v.name === verb)) {
    throw new ConfigError(`${config.name}: unknown verb "${verb}" for driver ${driver.id} (verbs: ${control.verbs.map((v) => v.name).join(', ')})`);
  }
  return control.prepare(verb, args, config.options, config.name);
}

/** `log` hears what the writer does on its own (v1: creating a missing database). */
export function createWriter(config: InfluxConfig, log?: Logger): Writer {
  return config.version === 1 ? new InfluxV1Writer(config, log) : new InfluxV2Writer(config);
}

/**
 * Which physical link a device uses: jobs with the same key run one at a time. Known before any
 * transport exists (schedules are checked before anything opens); same form as Transport.key.
 */
export function linkKey(config: DeviceConfig, driver: Driver): string {
  if (config.simulate) return `sim:${config.name}`;
  if (driver.link === 'network') {
    const { host, port } = driver.networkAddress!(config.options);
    return `tcp:${host}:${port}`;
  }
  if (config.hid) return hidKey(config.hid);
  const remote = networkAddressOf(config.port!.path);
  // Every scheme to one host:port is one remote port: one owner, as for a local tty.
  if (remote) return `tcp:${remote.host}:${remote.port}`;
  return `serial:${config.port!.path}`;
}

/** The flusher that sends `outbox` to the configured InfluxDB (the worker's, and `drain`'s). */
export function createFlusher(outbox: Outbox, influx: InfluxConfig, clock: Clock, log: Logger, reminderMs?: number): Flusher {
  return new Flusher({
    probe: pingProbe(influx),
    ...(reminderMs ? { reminderMs } : {}),
    outbox,
    writer: createWriter(influx, log),
    batchSize: influx.batchSize,
    batchBytes: influx.batchBytes,
    flushIntervalMs: influx.flushIntervalMs,
    minRetryDelayMs: influx.minRetryDelayMs,
    maxRetryDelayMs: influx.maxRetryDelayMs,
    clock,
    log,
  });
}

/** Tags every point of a device carries besides `device`: site, host, then the device's own. */
export function baseTags(loaded: LoadedConfig, device: DeviceConfig): Record<string, string> {
  const tags: Record<string, string> = {};
  if (loaded.config.site) tags.site = loaded.config.site;
  if (loaded.config.host) tags.host = loaded.config.host;
  return { ...tags, ...device.tags };
}

export interface WorkerOptions {
  loaded: LoadedConfig;
  drivers: readonly Driver[];
  log: Logger;
  clock?: Clock;
  /** Where `echo` prints lines (stdout). */
  echo?: Writable;
  /** Only these devices (by name). */
  only?: readonly string[];
  /** `test`: collect and print, no outbox, no InfluxDB. */
  dryRun?: boolean;
  /**
   * `once`/`test`: one collection, then the process ends. Nothing retries or reopens later, so
   * the sessions' "retrying" chatter stays below error (unless debug was asked for), and the
   * verb prints each failure once from its reports.
   */
  oneShot?: boolean;
}

export class Worker {
  readonly devices = new Map<string, DeviceRuntime>();
  readonly scheduler: Scheduler;
  readonly outbox: Outbox | null;
  private readonly status: DeviceStatusStore | null;
  /** Replaced by a reload that changes the influx section. */
  flusher: Flusher | null;
  /** The capture archive, open when a device has `capture: on` (not for `test`). */
  captures: CaptureStore | null;
  private captureFailures = 0;
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
  /** The latest successful collection per device (for `test` and `once`). */
  private readonly lastReports = new Map<string, JobReport>();
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

    const outboxPath = resolveConfigPath(loaded, config.outbox.path);
    this.outbox = options.dryRun
      ? null
      : openSqliteOutbox(outboxPath, { maxRows: config.outbox.maxRows, maxBytes: config.outbox.maxBytes }, { synchronous: config.outbox.synchronous, minFreeBytes: config.outbox.minFreeBytes, log: log.child({ room: 'outbox' }) });
    this.status = this.outbox ? openDeviceStatus(outboxPath) : null;
    // One-shot verbs (once, test) print each failure once themselves.
    this.deviceWatch = new DeviceWatch({ log: options.oneShot && !log.isLevelEnabled('debug') ? log.child({}, { level: 'error' }) : log, reminderMs: config.log.reminderS * 1000 });
    this.scheduler.on('jobSkipped', (s) => this.deviceWatch.skipped(s.name));
    this.scheduler.on('jobEnd', (r) => {
      const report = this.lastReports.get(r.name);
      const points = r.ok ? (report?.lines.length ?? 0) : 0;
      if (r.ok) this.log.debug({ device: r.name, points, ms: Math.round(r.durationMs) }, 'collected');
      this.deviceWatch.ended(r, points, this.clock.now());
      this.status?.record(r.name, { ok: r.ok, endMs: this.clock.now(), durationMs: r.durationMs, points, error: r.error });
    });
    // Backfill points wait in their own file and go only when no live point is pending.
    this.sendQueue = this.outbox ? prioritised(this.outbox, outboxPath, config.outbox) : null;
    this.flusher = this.sendQueue && config.influx ? createFlusher(this.sendQueue, config.influx, this.clock, log.child({ room: 'flusher' }), config.log.reminderS * 1000) : null;
    this.captures = !options.dryRun && devices.some((d) => d.capture) ? (this.safely(() => openCaptures(loaded)) ?? null) : null;

    for (const device of devices) this.devices.set(device.name, this.runtime(loaded, device));
    this.observer = this.outbox ? this.createObserver() : null;
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
    const driver = this.driverOf(device);
    const archive = device.capture && this.captures ? this.captureHook(device.name, driver) : undefined;
    // mqtt.vscp publishes the P1 meter's own digits, so it needs the telegrams, not just the points.
    const raw: RawTelegram[] | undefined = loaded.config.mqtt?.vscp && driver.id === VSCP_DRIVER && !this.options.dryRun ? [] : undefined;
    const capture: DriverContext<unknown>['capture'] = raw
      ? (direction, data, timeMs) => {
          archive?.(direction, data, timeMs);
          if (direction === 'rx' && raw.length < MAX_RAW_PER_COLLECT) raw.push({ text: typeof data === 'string' ? data : data.toString('latin1'), timeMs });
        }
      : archive;
    // One-shot verbs (once, test) print each failure once themselves: the sessions' own warnings stay quiet.
    const log = this.options.oneShot && !this.log.isLevelEnabled('debug') ? this.log.child({}, { level: 'error' }) : this.log;
    const { transport, simulator, session } = openDevice(loaded, device, driver, { clock: this.clock, log, capture, readOnly: this.options.dryRun, oneShot: this.options.oneShot });
    return { config: device, driver, transport, session, simulator, cycle: null, ...(raw ? { raw } : {}) };
  }

  /** The observer reads every figure through these functions, when asked. */
  private createObserver(): Observer {
    const { loaded } = this.options;
    const config = loaded.config;
    const outbox = this.outbox!;
    return new Observer({
      internal: config.internal,
      ...(config.http ? { http: config.http } : {}),
      health: config.health,
      ...(config.timezone ? { timezone: config.timezone } : {}),
      log: this.log.child({ room: 'observe' }),
      precision: this.precision,
      append: (lines, precision) => outbox.append(lines, precision),
      configFile: loaded.path,
      sources: {
        host: config.host ?? hostname(),
        site: config.site ?? null,
        now: () => this.clock.now(),
        devices: () =>
          this.scheduler.status().map((j) => ({ name: j.name, driver: this.devices.get(j.name)?.driver.id ?? '', nextRunMs: j.nextRun, ...this.deviceWatch.tally(j.name) })),
        outbox: () => ({ all: (this.sendQueue ?? outbox).stats(), live: outbox.stats() }),
        flusher: () => this.flusher?.status() ?? null,
        mqtt: () => (this.mqtt ? { target: withoutCredentials(config.mqtt!.url), stats: this.mqtt.stats() } : null),
      },
    });
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
    const { loaded } = this;
    const config = loaded.config;
    if (!config.mqtt || !this.outbox) return;
    // Loaded only when configured: a worker without MQTT does not carry its modules (README, run-memory).
    const { MqttOutput } = await import('./mqtt/output.js');
    this.mqtt = new MqttOutput({
      config: config.mqtt,
      devices: this.mqttDevices(),
      control: (device, verb, args, signal) => this.control(device, verb, args, signal),
      log: this.log.child({ room: 'mqtt' }),
      defaultClientId: `wattline-${config.site ?? hostname()}`,
      announcedPath: `${resolveConfigPath(loaded, config.outbox.path)}.mqtt-announced.json`,
      resolvePath: (path) => resolveConfigPath(loaded, path),
    });
    await this.mqtt.start();
    const mqtt = this.mqtt;
    this.onCollected((report) => mqtt.publishReport(report));
  }

  /** The devices MQTT publishes and announces. */
  private mqttDevices(): MqttDevice[] {
    return [...this.devices.values()].map((rt) => ({ name: rt.config.name, driver: rt.driver, options: rt.config.options, sharedTags: Object.keys(baseTags(this.loaded, rt.config)) }));
  }

  /** Open every session; a device that cannot start is that device's problem, not the worker's. */
  async startSessions(runtimes: Iterable<DeviceRuntime> = this.devices.values()): Promise<void> {
    await Promise.all(
      [...runtimes].map(async (rt) => {
        try {
          await rt.simulator?.ready;
          await rt.session.start();
        } catch (err) {
          if (this.options.oneShot) this.log.debug({ device: rt.config.name, err: errorMessage(err) }, 'device did not start');
          else this.log.warn({ device: rt.config.name, err: errorMessage(err) }, 'device did not start; will retry on its next job');
        }
      }),
    );
  }

  /**
   * One collection of one device: points → line protocol → one outbox transaction.
   * `dryRun` (`wattline test` through the running worker): the report only, nothing committed or published.
   */
  async collect(name: string, signal: AbortSignal, mode: { dryRun?: boolean } = {}): Promise<JobReport> {
    const rt = this.devices.get(name)!;
    const waitForStream = this.waitForStreams || mode.dryRun === true;
    // Poll drivers: the records of one collect() share a cycle id (decodeCapture gets them together).
    if (this.captures && rt.config.capture && rt.driver.kind === 'poll') rt.cycle = this.safely(() => this.captures!.nextCycle()) ?? null;
    let result: Awaited<ReturnType<DeviceSession['collect']>>;
    try {
      result = await rt.session.collect(signal);
    } finally {
      if (this.captures && rt.config.capture) this.safely(() => this.captures!.flush());
    }
    // once/test on a stream device: wait for its first telegram rather than report nothing.
    while (waitForStream && rt.driver.kind === 'stream' && result.points.length === 0) {
      await this.clock.sleep(STREAM_WAIT_STEP_MS, signal);
      result = await rt.session.collect(signal);
    }
    // A reading outside the range its driver declares is that field's problem, not a value (issue 16).
    const plausible = withoutImplausible(result.points, rt.driver.fields);
    if (plausible.problems.length > 0) {
      for (const p of plausible.problems) this.log.warn({ device: name, problem: p.detail }, 'reading outside its physical range: left out');
      result = { ...result, points: plausible.points, dropped: [...(result.dropped ?? []), ...tally(plausible.problems)] };
    }
    const { lines, dropped } = encodePoints(result.points, this.precision);
    const drops = [...(result.dropped ?? [])];
    if (dropped.length > 0) {
      // scope 'tag'/'field': the point was written without that part; 'point': not written.
      for (const d of dropped) this.log.warn({ device: name, scope: d.scope, reason: d.reason }, d.scope === 'point' ? 'point dropped' : `${d.scope} dropped`);
      const points = dropped.filter((d) => d.scope === 'point').length;
      if (points > 0) drops.push({ reason: 'unencodable point', count: points });
      if (points < dropped.length) drops.push({ reason: 'unencodable tag or field', count: dropped.length - points });
    }
    if (mode.dryRun) return { device: name, ok: true, points: result.points, lines, dropped: drops };
    let refused = 0;
    if (this.outbox && lines.length > 0) {
      const appended = this.outbox.append(lines, this.precision);
      refused = appended.refused ?? 0;
      if (appended.dropped > 0) this.log.warn({ evicted: appended.dropped }, 'outbox full: dropped the oldest points');
    }
    // echo prints what was committed: not a collection the outbox refused for lack of space.
    if (this.loaded.config.echo && this.options.echo && lines.length > 0 && refused === 0) this.options.echo.write(lines.join('\n') + '\n');
    const report: JobReport = { device: name, ok: true, points: result.points, lines, dropped: drops, ...(refused > 0 ? { refused } : {}), ...(rt.raw?.length ? { raw: rt.raw.splice(0) } : {}) };
    this.lastReports.set(name, report);
    for (const listener of this.collectedListeners) {
      try {
        listener(report);
      } catch (err) {
        this.log.warn({ device: name, err: errorMessage(err) }, 'a collected-points listener failed');
      }
    }
    return report;
  }

  /** ctx.capture for one device: records carry device, driver and cycle; a failure never reaches the driver. */
  private captureHook(device: string, driver: Driver): NonNullable<DriverContext<unknown>['capture']> {
    return (direction, data, timeMs) => {
      const rt = this.devices.get(device);
      this.safely(() =>
        this.captures!.add({
          timeMs,
          device,
          driver: driver.id,
          cycle: driver.kind === 'poll' ? (rt?.cycle ?? null) : null,
          direction,
          // Telegram text keeps its bytes as Latin-1 (the P1 framer's reading of them).
          text: typeof data === 'string',
          data: typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data),
        }),
      );
    };
  }

  /** Run a capture-archive step; failures are logged (now and then) and never break collection. */
  private safely<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (this.captureFailures++ % 100 === 0) this.log.warn({ err: errorMessage(err), failures: this.captureFailures }, 'capture archive failed; collection goes on without it');
      return undefined;
    }
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
      linkKey(rt.config, rt.driver),
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
    const reports: JobReport[] = [];
    const wanted = names ?? [...this.devices.keys()];
    this.lastReports.clear();
    this.waitForStreams = true;
    const results = await this.scheduler.runOnce(wanted).finally(() => (this.waitForStreams = false));
    for (const r of results) {
      const collected = this.lastReports.get(r.name);
      if (r.ok && collected) reports.push(collected);
      else reports.push({ device: r.name, ok: false, points: [], lines: [], error: r.error ?? 'no result', dropped: [] });
    }
    return reports;
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
    if (commit) {
      const results = await this.scheduler.runOnce(wanted);
      return results.map((r) => (r.ok && this.lastReports.get(r.name)) || failedReport(r.name, r.error ?? 'no result'));
    }
    return Promise.all(
      wanted.map(async (name) => {
        const rt = this.devices.get(name)!;
        const bounded = AbortSignal.any([signal, AbortSignal.timeout(rt.config.timeoutMs)]);
        try {
          return await this.scheduler.locks.run(linkKey(rt.config, rt.driver), () => this.collect(name, bounded, { dryRun: true }), { signal });
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
    if (!this.captures && !this.options.dryRun && fresh.some((d) => d.capture)) this.captures = this.safely(() => openCaptures(next)) ?? null;
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
    this.mqtt?.setDevices(this.mqttDevices());
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
    this.lastReports.delete(name);
    if (!rt) return;
    await this.scheduler.locks.run(linkKey(rt.config, rt.driver), async () => {
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
    this.status?.close();
    (this.sendQueue ?? this.outbox)?.close();
    this.safely(() => this.captures?.close());
  }
}

async function closeRuntime(rt: DeviceRuntime): Promise<void> {
  await rt.session.close().catch(() => undefined);
  rt.simulator?.stop();
}

function failedReport(device: string, error: string): JobReport {
  return { device, ok: false, points: [], lines: [], error, dropped: [] };
}

/** The live outbox with the backfill file beside it (sent only when nothing live is pending). */
export function prioritised(outbox: Outbox, outboxPath: string, limits: { maxRows: number; maxBytes: number; synchronous: 'full' | 'normal'; minFreeBytes?: number | undefined }): Outbox {
  return new PriorityOutbox(outbox, backfillOutboxPath(outboxPath), (path) => openSqliteOutbox(path, limits, { synchronous: limits.synchronous, minFreeBytes: limits.minFreeBytes }));
}

/** The capture archive named by the config's `capture:` section. */
export function openCaptures(loaded: LoadedConfig): CaptureStore {
  const c = loaded.config.capture;
  return openCaptureStore(resolveConfigPath(loaded, c.path), { maxAgeMs: c.maxAgeDays * 86_400_000, maxBytes: c.maxBytes });
}
