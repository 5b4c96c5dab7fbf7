/**
 * The MQTT output: live state per series, Home Assistant discovery, commands, and the
 * PowerWalker compatibility topics. Best effort and separate from the InfluxDB path: a report
 * is handed over synchronously and turned into messages on a later tick (the batching below).
 * This file wires the parts: publisher.ts (the connection, the batch and the queue),
 * announcer.ts (discovery and removals), report-mapper.ts (a report → its messages), inbox.ts
 * (commands), compat-connection.ts (`$CONNECTED`). Nothing here is ever awaited by collection
 * or by the flusher.
 *
 * The `mqtt` package (MQTT.js) is imported on start, only when the config has an mqtt section.
 */
import { isDeepStrictEqual } from 'node:util';
import type { MqttConfig } from '../config/mqtt.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { createVscpOutput, type VscpOutput } from '../vscp/output.js';
import { Announcer } from './announcer.js';
import { CompatConnection } from './compat-connection.js';
import { COMPAT_DRIVERS } from './compat-powerwalker.js';
import { redactUrl } from './connection.js';
import { deviceState, type DeviceState, type JobReportLike, type MqttDevice } from './device-state.js';
import { CommandInbox, type ControlFn } from './inbox.js';
import { MqttPublisher } from './publisher.js';
import { ReportMapper, type MapperTargets } from './report-mapper.js';

/*
 * Reports are turned into messages and written `batchWindowMs` (config, default 2 s) after the
 * first report of a batch: devices polled within the window share one pass through this code
 * and one socket write. Code that runs a few times a second runs cold (a profile put it 5-10x
 * slower than the same code in a loop): with every device polled each second, a pass every 2 s
 * instead of every second (600 ms windows) cut MQTT's share of the worker's CPU from ~9-11% to
 * ~2-4% (README, mqtt-cpu). The price is latency (up to the window), as with Telegraf's
 * flush_interval. A device's second report within the window sends what came before it first,
 * so no reading is superseded; a command's result sends the reports collected before it first,
 * so its state is never followed by an older poll's.
 */
const MAX_PENDING_REPORTS = 1000;
/** processPending(): how long, and how many times in a row, the rest of a batch waits for the broker to take what came before. */
const WAIT_MS = 50;
const MAX_WAITS = 20;

export type { ControlFn } from './inbox.js';
export type { JobReportLike, MqttDevice } from './device-state.js';

/** What the output needs of the worker and the config (everything injected). */
export interface MqttOutputOptions {
  config: MqttConfig;
  devices: readonly MqttDevice[];
  control: ControlFn;
  log: Logger;
  /** Used when the config names no client id. */
  defaultClientId: string;
  /** The announced-topics file; null keeps it in memory (tests, `--dry-run`). */
  announcedPath: string | null;
  /** Config-relative paths (TLS files) to absolute ones. */
  resolvePath: (path: string) => string;
}

export class MqttOutput {
  private readonly cfg: MqttConfig;
  private readonly log: Logger;
  private readonly prefix: string;
  private readonly clientId: string;
  private readonly devices = new Map<string, DeviceState>();
  private readonly publisher: MqttPublisher;
  private readonly announcer: Announcer;
  private readonly mapper: ReportMapper;
  /** Which devices get the compatibility topics and mqtt.vscp's events (the P1 meter's readings, src/vscp). */
  private readonly targets: MapperTargets;
  private readonly inbox: CommandInbox;
  /** Compatibility mode only: the connection that carries `$CONNECTED/<id>` and its last will. */
  private compat: CompatConnection | undefined;
  private pending: JobReportLike[] = [];
  /** The write of the current batch, and the devices whose messages it holds. */
  private batchTimer: NodeJS.Timeout | undefined;
  private readonly batchDevices = new Set<string>();
  /** processPending(): waits in a row for the broker (reset when a batch got through). */
  private waits = 0;
  private stopping = false;
  private reportsDropped = 0;

  constructor(private readonly options: MqttOutputOptions) {
    const cfg = options.config;
    this.cfg = cfg;
    this.log = options.log;
    this.prefix = cfg.topicPrefix;
    this.clientId = cfg.clientId ?? options.defaultClientId;
    this.publisher = new MqttPublisher({
      config: cfg,
      clientId: this.clientId,
      log: this.log,
      resolvePath: options.resolvePath,
      onConnect: () => this.onConnect(),
      onMessage: (topic, payload, retain) => this.inbox.handle(topic, payload, retain),
    });
    this.announcer = new Announcer(cfg, this.publisher, this.log, options.announcedPath);
    for (const dev of options.devices) this.devices.set(dev.name, deviceState(dev));
    const compat = cfg.compatibility;
    this.targets = {
      vscp: cfg.vscp ? vscpOutput(cfg.vscp, options.devices) : undefined,
      compatPdu: compat.mode === 'powerwalker' ? this.compatDevice(compat.pdu, COMPAT_DRIVERS.pdu, 'pdu') : undefined,
      compatAts: compat.mode === 'powerwalker' ? this.compatDevice(compat.ats, COMPAT_DRIVERS.ats, 'ats') : undefined,
    };
    this.mapper = new ReportMapper(cfg, this.publisher, this.announcer, this.targets);
    const compatPdu = this.targets.compatPdu;
    this.inbox = new CommandInbox({
      prefix: this.prefix,
      homeAssistantStatusTopic: cfg.discovery.enabled ? `${cfg.discovery.prefix}/status` : null,
      compat: compatPdu ? { prefix: compat.prefix, pdu: compatPdu } : null,
      specsOf: (device) => this.devices.get(device)?.specs,
      control: options.control,
      log: this.log,
      send: (topic, payload, retain, device) => {
        // Readings collected before the command go first: its state must not be followed by an older poll's.
        if (this.pending.length > 0) this.processPending();
        this.publisher.send(topic, payload, retain);
        if (device) this.announcer.remember(device, topic);
      },
      homeAssistantOnline: () => {
        this.announcer.republish(this.devices);
        this.publisher.flush();
      },
      commandDone: () => this.publisher.flush(),
    });
  }

  private compatDevice(named: string | undefined, driverId: string, key: string): string | undefined {
    if (named !== undefined) {
      if (!this.devices.has(named)) throw new ConfigError(`mqtt.compatibility.${key}: no enabled device named "${named}"`);
      return named;
    }
    const matches = [...this.devices.values()].filter((d) => d.dev.driver.id === driverId);
    return matches.length === 1 ? matches[0]!.dev.name : undefined;
  }

  /** Load the MQTT client and start connecting (not awaited: the broker may be down for days). */
  async start(): Promise<void> {
    const problem = this.announcer.load();
    if (problem) this.log.warn(problem);
    await this.publisher.start();
    if (this.cfg.compatibility.mode === 'powerwalker') this.compat = await CompatConnection.open(this.cfg, this.clientId, this.log, this.options.resolvePath);
    this.log.info({ url: redactUrl(this.cfg.url), clientId: this.clientId, prefix: this.prefix }, 'mqtt output started');
  }

  /**
   * A config reload: follow the new device list on the same connection. A removed device's
   * retained topics and Home Assistant entities are cleared (as at start); a changed one is
   * announced afresh from its next report, a new one from its first.
   */
  setDevices(devices: readonly MqttDevice[]): void {
    const next = new Map(devices.map((d) => [d.name, d]));
    for (const [name, state] of this.devices) {
      const dev = next.get(name);
      if (dev && dev.driver === state.dev.driver && isDeepStrictEqual(dev.options, state.dev.options) && isDeepStrictEqual(dev.sharedTags, state.dev.sharedTags)) continue;
      this.devices.delete(name);
      this.announcer.forget(name);
    }
    for (const dev of devices) if (!this.devices.has(dev.name)) this.devices.set(dev.name, deviceState(dev));
    if (this.cfg.vscp) {
      // The P1 device VSCP publishes may have been renamed or removed.
      try {
        this.targets.vscp = vscpOutput(this.cfg.vscp, devices);
      } catch (err) {
        this.targets.vscp = undefined;
        this.log.warn({ err: errorMessage(err) }, 'mqtt.vscp: no VSCP events until the config names its device again');
      }
    }
    if (this.publisher.connected) {
      this.announcer.republish(this.devices);
      this.publisher.flush();
    }
  }

  /** The worker's onCollected listener: synchronous and cheap; the work happens on a later tick. */
  publishReport(report: JobReportLike): void {
    if (this.stopping) return;
    if (this.pending.length >= MAX_PENDING_REPORTS) {
      this.reportsDropped++;
      return;
    }
    this.pending.push(report);
    this.batchTimer ??= setTimeout(() => this.sendBatch(), this.cfg.batchWindowMs).unref();
  }

  stats(): Record<string, number> {
    const { published, publishErrors, connects } = this.publisher.counters;
    return { published, publishErrors, reportsDropped: this.reportsDropped, connects, ...this.inbox.counters, ...this.publisher.stats() };
  }

  get connected(): boolean {
    return this.publisher.connected;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.publisher.stop();
    clearTimeout(this.batchTimer);
    this.compat?.stop();
    this.announcer.save();
    if (!this.publisher.started) return;
    // The last readings go out before the goodbye.
    this.processPending();
    await Promise.all([this.publisher.close(), this.compat?.close()]);
  }

  /**
   * The reports of the batch become messages (in the batch, or queued). `mayWait`: when a
   * device's second report comes while the broker is still taking what came before (a burst of
   * discovery configs goes MAX_INFLIGHT at a time, and their acknowledgements cannot arrive
   * during this pass), the rest of the reports wait a moment instead of replacing the first
   * one's messages in the queue (latest per topic); after MAX_WAITS the queue's rule applies,
   * as for a broker that is away or stuck.
   */
  private processPending(mayWait = false): void {
    const reports = this.pending;
    this.pending = [];
    for (let i = 0; i < reports.length; i++) {
      const report = reports[i]!;
      if (this.batchDevices.has(report.device)) {
        this.batchDevices.clear();
        this.publisher.flush();
        if (mayWait && this.publisher.queued > 0 && this.connected && this.waits < MAX_WAITS) {
          this.waits++;
          this.pending = reports.slice(i).concat(this.pending);
          this.batchTimer = setTimeout(() => this.sendBatch(), WAIT_MS).unref();
          break;
        }
      }
      this.batchDevices.add(report.device);
      const state = this.devices.get(report.device);
      if (!state) continue;
      try {
        this.mapper.map(state, report);
      } catch (err) {
        this.log.warn({ device: report.device, err: errorMessage(err) }, 'mqtt: could not publish a report');
      }
    }
    this.announcer.save();
    this.batchDevices.clear();
    if (this.pending.length === 0 || !mayWait) this.waits = 0;
  }

  private sendBatch(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    this.processPending(true);
    this.publisher.flush();
  }

  private onConnect(): void {
    const topics: string[] = [];
    if (this.cfg.commands) topics.push(`${this.prefix}/+/+/set`, `${this.prefix}/+/+/+/set`);
    if (this.cfg.commands && this.targets.compatPdu) topics.push(`${this.cfg.compatibility.prefix}/pdu/outlet/+/set`);
    if (this.cfg.discovery.enabled) topics.push(`${this.cfg.discovery.prefix}/status`);
    if (topics.length > 0) this.publisher.subscribe(topics);
    // Availability first, so Home Assistant sees the entities as available when they arrive.
    this.publisher.enqueue(this.publisher.availabilityTopic, 'online', true, 1);
    this.announcer.republish(this.devices);
    this.publisher.flush();
  }
}

/** mqtt.vscp's events for its P1 meter among these devices (a ConfigError when it names none, or none can be picked). */
function vscpOutput(cfg: NonNullable<MqttConfig['vscp']>, devices: readonly MqttDevice[]): VscpOutput {
  const named = devices.map((d) => ({ name: d.name, driver: d.driver.id }));
  return createVscpOutput(cfg, named);
}
