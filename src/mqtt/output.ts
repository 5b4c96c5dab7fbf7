/**
 * The MQTT output: live state per series, Home Assistant discovery, commands, and the
 * PowerWalker compatibility topics. Best effort and separate from the InfluxDB path: a report
 * is handed over synchronously and turned into messages on a later tick. While the broker is
 * connected and keeps up, QoS 0 messages are written as packets straight into the batch for
 * the next socket write; otherwise they wait in a bounded queue (latest per topic) and go out
 * once the broker is back, QoS 1 at most MAX_INFLIGHT at a time. Nothing here is ever awaited
 * by collection or by the flusher.
 *
 * The `mqtt` package (MQTT.js) is imported on start, only when the config has an mqtt section.
 */
import { isDeepStrictEqual } from 'node:util';
import type { MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/mqtt.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Point } from '../core/point.js';
import { seriesTags } from '../devices/fields.js';
import type { Driver, SwitchEntity } from '../devices/types.js';
import { AnnouncedTopics } from './announced.js';
import { atsMessages, COMPAT_DRIVERS, pduMessages, type Alerts } from './compat-powerwalker.js';
import { Backoff } from '../core/backoff.js';
import { closeClient, createClient, errorLogger, redactUrl } from './connection.js';
import { allows, commandSpecs, type CommandSpec } from './commands.js';
import { describeFromPoint, fieldAnnouncements, numberAnnouncement, slug, switchAnnouncement, type DeviceDescription, type DiscoveryContext } from './discovery.js';
import { CommandInbox, type ControlFn } from './inbox.js';
import { PublishBatch } from './packets.js';
import { MessageQueue, type OutMessage } from './queue.js';
import { seriesPath, statePayload, writeStatePayload } from './series.js';
import { createVscpOutput, type VscpOutput } from '../vscp/output.js';

const MAX_INFLIGHT = 64;
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
const DROP_LOG_INTERVAL_MS = 60_000;

export interface MqttDevice {
  name: string;
  driver: Driver;
  options: unknown;
  /** Tags every point of this device carries (site, host, the config's extra tags): left out of state messages. */
  sharedTags: readonly string[];
}

export type { ControlFn } from './inbox.js';

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

export interface JobReportLike {
  device: string;
  points: readonly Point[];
  /** The telegrams behind the points (only for mqtt.vscp's device). */
  raw?: readonly { text: string; timeMs: number }[];
}

interface DeviceState {
  dev: MqttDevice;
  description: DeviceDescription;
  specs: readonly CommandSpec[];
  /** Bumped when model or firmware changes: every config of the device is announced again. */
  descriptionVersion: number;
  /** Switch targets seen (outlet numbers) → whether the config allows switching them. */
  targets: Map<string, boolean>;
  sharedTags: ReadonlySet<string>;
}

export class MqttOutput {
  private readonly cfg: MqttConfig;
  private readonly log: Logger;
  private readonly prefix: string;
  private readonly clientId: string;
  private readonly availabilityTopic: string;
  private readonly ctx: DiscoveryContext;
  private readonly queue: MessageQueue;
  private readonly devices = new Map<string, DeviceState>();
  private readonly announced: AnnouncedTopics;
  /** Every discovery config of this run, republished on reconnect and when Home Assistant comes online. */
  private readonly discovery = new Map<string, string>();
  /** State topic → the field set (and device description version) last announced for it. */
  private readonly announcedSeries = new Map<string, { version: number; fields: string[] }>();
  private readonly alerts: Alerts = new Map();
  private readonly compatPdu: string | undefined;
  private readonly compatAts: string | undefined;
  /** mqtt.vscp: the P1 meter's readings as VSCP events (src/vscp). */
  private vscp: VscpOutput | undefined;
  private client: MqttClient | null = null;
  /** Compatibility mode only: the connection that carries `$CONNECTED/<id>` and its last will. */
  private compatClient: MqttClient | null = null;
  private compatTimer: NodeJS.Timeout | undefined;
  private pending: JobReportLike[] = [];
  /**
   * QoS 0 packets waiting for the batch's socket write. While the broker is connected, the
   * socket takes more and nothing is queued, state goes here directly, written in place
   * (packets.ts); otherwise through the queue (latest per topic, bounded).
   */
  private readonly batch = new PublishBatch();
  /** The write of the current batch, and the devices whose messages it holds. */
  private batchTimer: NodeJS.Timeout | undefined;
  private readonly batchDevices = new Set<string>();
  private inflight = 0;
  /** processPending(): waits in a row for the broker (reset when a batch got through). */
  private waits = 0;
  private generation = 0;
  private flushing = false;
  /** False while the socket's buffer is full (until its drain event). */
  private writable = true;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly backoff: Backoff;
  private readonly inbox: CommandInbox;
  private lastDropLogMs = 0;
  private readonly clientError: ReturnType<typeof errorLogger>;
  private readonly counters = { published: 0, publishErrors: 0, reportsDropped: 0, connects: 0 };

  constructor(private readonly options: MqttOutputOptions) {
    const cfg = options.config;
    this.cfg = cfg;
    this.log = options.log;
    this.prefix = cfg.topicPrefix;
    this.clientId = cfg.clientId ?? options.defaultClientId;
    this.availabilityTopic = `${this.prefix}/status`;
    this.ctx = { discoveryPrefix: cfg.discovery.prefix, node: slug(this.prefix), availabilityTopic: this.availabilityTopic };
    this.queue = new MessageQueue(cfg.queueSize);
    this.backoff = new Backoff(cfg.reconnectMinMs, cfg.reconnectMaxMs);
    this.clientError = errorLogger(this.log, 'mqtt client error');
    this.announced = new AnnouncedTopics(options.announcedPath);
    for (const dev of options.devices) this.devices.set(dev.name, this.deviceState(dev));
    this.vscp = cfg.vscp ? createVscpOutput(cfg.vscp, options.devices.map((d) => ({ name: d.name, driver: d.driver.id }))) : undefined;
    const compat = cfg.compatibility;
    this.compatPdu = compat.mode === 'powerwalker' ? this.compatDevice(compat.pdu, COMPAT_DRIVERS.pdu, 'pdu') : undefined;
    this.compatAts = compat.mode === 'powerwalker' ? this.compatDevice(compat.ats, COMPAT_DRIVERS.ats, 'ats') : undefined;
    this.inbox = new CommandInbox({
      prefix: this.prefix,
      homeAssistantStatusTopic: cfg.discovery.enabled ? `${cfg.discovery.prefix}/status` : null,
      compat: this.compatPdu ? { prefix: compat.prefix, pdu: this.compatPdu } : null,
      specsOf: (device) => this.devices.get(device)?.specs,
      control: options.control,
      log: this.log,
      send: (topic, payload, retain, device) => {
        // Readings collected before the command go first: its state must not be followed by an older poll's.
        if (this.pending.length > 0) this.processPending();
        this.send(topic, payload, retain);
        if (device) this.announced.add(device, topic);
      },
      homeAssistantOnline: () => {
        this.republish();
        this.flush();
      },
      commandDone: () => this.flush(),
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
    const problem = this.announced.load();
    if (problem) this.log.warn(problem);
    const client = await createClient(this.cfg, this.clientId, { topic: this.availabilityTopic, payload: 'offline', qos: 1 }, this.options.resolvePath);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', this.clientError);
    client.on('message', (topic, payload, packet) => this.inbox.handle(topic, payload, packet.retain));
    if (this.cfg.compatibility.mode === 'powerwalker') await this.startCompatConnection();
    this.log.info({ url: redactUrl(this.cfg.url), clientId: this.clientId, prefix: this.prefix }, 'mqtt output started');
  }

  /**
   * The original script's `$CONNECTED/<client id>`: 1 while connected, 0 once it stops or
   * dies. MQTT has one last will per connection (the main one's is `<prefix>/status` =
   * offline), so this one rides on a second, otherwise idle connection whose will is 0.
   */
  private async startCompatConnection(): Promise<void> {
    const topic = `$CONNECTED/${this.clientId}`;
    const client = await createClient(this.cfg, `${this.clientId}-compat`, { topic, payload: '0', qos: 0 }, this.options.resolvePath);
    this.compatClient = client;
    const backoff = new Backoff(this.cfg.reconnectMinMs, this.cfg.reconnectMaxMs);
    // Its own words: a broker may refuse this client id or topic while taking the main connection.
    const onError = errorLogger(this.log, 'mqtt compatibility connection ($CONNECTED) error');
    client.on('connect', () => {
      backoff.reset();
      onError.reset();
      client.publish(topic, '1', { qos: 0, retain: true });
    });
    client.on('error', onError);
    client.on('close', () => {
      if (this.stopping || this.compatTimer) return;
      this.compatTimer = setTimeout(() => {
        this.compatTimer = undefined;
        if (!this.stopping && !client.connected) client.reconnect();
      }, backoff.next());
    });
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
      for (const topic of this.announced.topics(name)) this.discovery.delete(topic);
      for (const topic of this.announcedSeries.keys()) if (topic.startsWith(`${this.prefix}/${name}/`)) this.announcedSeries.delete(topic);
    }
    for (const dev of devices) if (!this.devices.has(dev.name)) this.devices.set(dev.name, this.deviceState(dev));
    if (this.options.config.vscp) {
      // The P1 device VSCP publishes may have been renamed or removed.
      try {
        this.vscp = createVscpOutput(this.options.config.vscp, devices.map((d) => ({ name: d.name, driver: d.driver.id })));
      } catch (err) {
        this.vscp = undefined;
        this.log.warn({ err: errorMessage(err) }, 'mqtt.vscp: no VSCP events until the config names its device again');
      }
    }
    if (this.client?.connected) {
      this.republish();
      this.flush();
    }
  }

  private deviceState(dev: MqttDevice): DeviceState {
    return { dev, description: { name: dev.name, driver: dev.driver.id, fields: dev.driver.fields }, descriptionVersion: 0, specs: commandSpecs(dev.driver), targets: new Map(), sharedTags: new Set(dev.sharedTags) };
  }

  /** The worker's onCollected listener: synchronous and cheap; the work happens on a later tick. */
  publishReport(report: JobReportLike): void {
    if (this.stopping) return;
    if (this.pending.length >= MAX_PENDING_REPORTS) {
      this.counters.reportsDropped++;
      return;
    }
    this.pending.push(report);
    this.batchTimer ??= setTimeout(() => this.sendBatch(), this.cfg.batchWindowMs).unref();
  }

  stats(): Record<string, number> {
    return {
      ...this.counters,
      ...this.inbox.counters,
      queued: this.queue.size,
      batched: this.batch.count,
      inflight: this.inflight,
      dropped: this.queue.dropped,
      superseded: this.queue.superseded,
      connected: this.client?.connected ? 1 : 0,
      waitingForDrain: this.writable ? 0 : 1,
    };
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    clearTimeout(this.batchTimer);
    clearTimeout(this.compatTimer);
    const client = this.client;
    try {
      this.announced.save();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'mqtt: cannot save the announced-topics file');
    }
    if (!client) return;
    // The last readings go out before the goodbye.
    this.processPending();
    if (client.connected && this.writable) this.writeBatch(client);
    await Promise.all([
      closeClient(client, [{ topic: this.availabilityTopic, payload: 'offline', qos: 1, retain: true }]),
      this.compatClient && closeClient(this.compatClient, [{ topic: `$CONNECTED/${this.clientId}`, payload: '0', qos: 0, retain: true }]),
    ]);
  }

  // --- outgoing ---------------------------------------------------------------------------

  private enqueue(topic: string, payload: string, retain: boolean, qos: 0 | 1 | 2 = this.cfg.qos, done?: () => void): void {
    const message: OutMessage & { done?: () => void } = { topic, payload, retain, qos };
    if (done) message.done = done;
    const dropped = this.queue.dropped;
    this.queue.push(message);
    if (this.queue.dropped !== dropped && Date.now() - this.lastDropLogMs > DROP_LOG_INTERVAL_MS) {
      this.lastDropLogMs = Date.now();
      this.log.warn({ dropped: this.queue.dropped, queueSize: this.cfg.queueSize }, 'mqtt queue full: dropping the oldest messages');
    }
  }

  /** A message: at QoS 0 into the batch when it may go directly, else through the queue. */
  private send(topic: string, payload: string, retain: boolean, qos: 0 | 1 | 2 = this.cfg.qos): void {
    if (qos === 0 && this.direct()) this.appendPlain(topic, payload, retain);
    else this.enqueue(topic, payload, retain, qos);
  }

  /** A point's state message, like send(): written into the batch piece by piece when it may go directly. */
  private sendState(topic: string, point: Point, sharedTags: ReadonlySet<string>): void {
    if (this.cfg.qos === 0 && this.direct()) {
      this.batch.begin(topic, this.cfg.retain);
      writeStatePayload(this.batch, point, sharedTags);
      this.ended(topic);
    } else this.enqueue(topic, statePayload(point, sharedTags), this.cfg.retain);
  }

  private flush(): void {
    const client = this.client;
    if (this.flushing || !client) return;
    this.flushing = true;
    try {
      while (client.connected && this.writable && this.inflight < MAX_INFLIGHT) {
        const message = this.queue.shift() as (OutMessage & { done?: () => void }) | undefined;
        if (!message) break;
        if (message.qos === 0 && !message.done) {
          this.appendPlain(message.topic, message.payload, message.retain);
          continue;
        }
        // Written before this one, so the broker sees everything in queue order.
        this.writeBatch(client);
        this.inflight++;
        const generation = this.generation;
        client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain }, (err) => {
          // Callbacks of a connection that has closed meanwhile were already written off.
          if (generation !== this.generation) return;
          this.inflight--;
          if (err) this.counters.publishErrors++;
          else {
            this.counters.published++;
            message.done?.();
          }
          if (!this.flushing && this.queue.size > 0) setImmediate(() => this.flush());
        });
      }
    } finally {
      if (client.connected && this.writable) this.writeBatch(client);
      this.flushing = false;
    }
  }

  /** Whether a QoS 0 message may go straight into the batch: connected, the socket takes more, nothing queued before it. */
  private direct(): boolean {
    return this.writable && this.queue.size === 0 && this.client !== null && this.client.connected;
  }

  /** A QoS 0 message into the batch (its packet written in place). */
  private appendPlain(topic: string, payload: string, retain: boolean): void {
    this.batch.begin(topic, retain);
    this.batch.text(payload);
    this.ended(topic);
  }

  /** After a packet's end(): a message MQTT cannot carry is counted as a publish error and logged; the rest go. */
  private ended(topic: string): void {
    const why = this.batch.end();
    if (why === undefined) return;
    this.counters.publishErrors++;
    this.log.warn({ topic: topic.slice(0, 200) }, `mqtt: message not sent: ${why}`);
  }

  /**
   * The batch's QoS 0 packets (state, results, compatibility topics: all messages but
   * discovery and availability) as one socket write (why: packets.ts). A full socket buffer
   * pauses flushing and the direct path until drain.
   */
  private writeBatch(client: MqttClient): void {
    if (this.batch.count === 0) return;
    this.counters.published += this.batch.count;
    const stream = client.stream;
    if (stream.write(this.batch.take())) return;
    this.writable = false;
    const generation = this.generation;
    stream.once('drain', () => {
      if (generation !== this.generation) return;
      this.writable = true;
      this.flush();
    });
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
        this.flush();
        if (mayWait && this.queue.size > 0 && this.connected && this.waits < MAX_WAITS) {
          this.waits++;
          this.pending = reports.slice(i).concat(this.pending);
          this.batchTimer = setTimeout(() => this.sendBatch(), WAIT_MS).unref();
          break;
        }
      }
      this.batchDevices.add(report.device);
      try {
        this.handleReport(report);
      } catch (err) {
        this.log.warn({ device: report.device, err: errorMessage(err) }, 'mqtt: could not publish a report');
      }
    }
    try {
      this.announced.save();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'mqtt: cannot save the announced-topics file');
    }
    this.batchDevices.clear();
    if (this.pending.length === 0 || !mayWait) this.waits = 0;
  }

  private sendBatch(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    this.processPending(true);
    this.flush();
  }

  private handleReport(report: JobReportLike): void {
    const state = this.devices.get(report.device);
    if (!state) return;
    const device = report.device;
    for (const point of report.points) {
      const series = seriesPath(point, seriesTags(state.description.fields, point.measurement));
      const topic = `${this.prefix}/${device}/${series}`;
      if (this.cfg.discovery.enabled) {
        const described = describeFromPoint(state.description, point);
        if (described !== state.description) {
          state.description = described;
          state.descriptionVersion++;
        }
        if (!sameFields(this.announcedSeries.get(topic), state.descriptionVersion, point)) {
          this.announcedSeries.set(topic, { version: state.descriptionVersion, fields: Object.keys(point.fields) });
          for (const a of fieldAnnouncements(point, state.description, series, topic, this.ctx)) this.announce(device, a.topic, a.payload);
        }
      }
      this.sendState(topic, point, state.sharedTags);
      if (this.cfg.retain) this.announced.add(device, topic);
      for (const spec of state.specs) {
        if (spec.component === 'switch' && point.measurement === spec.measurement) this.switchPoint(state, spec, point);
        else if (spec.component === 'number' && spec.stateFrom?.measurement === point.measurement) {
          const v = point.fields[spec.stateFrom.field];
          if (v !== undefined) this.send(`${this.prefix}/${device}/${spec.path}/state`, String(typeof v === 'object' ? v.value : v), true);
        }
      }
    }
    if (device === this.compatPdu) this.enqueueCompat(pduMessages(this.cfg.compatibility.prefix, report.points, this.alerts));
    if (device === this.compatAts) this.enqueueCompat(atsMessages(this.cfg.compatibility.prefix, report.points, this.alerts));
    if (device === this.vscp?.device && report.raw) {
      // The original's time fields took the host clock at publish time (the compat profile keeps that).
      const now = Date.now();
      for (const telegram of report.raw) for (const m of this.vscp.messages(telegram.text, telegram.timeMs, now)) this.send(m.topic, m.payload, m.retain, m.qos);
    }
  }

  private enqueueCompat(messages: { topic: string; payload: string }[]): void {
    // As the original: QoS 0, not retained.
    for (const m of messages) this.send(m.topic, m.payload, false, 0);
  }

  private announce(device: string, topic: string, payload: string): void {
    this.discovery.set(topic, payload);
    this.announced.add(device, topic);
    this.enqueue(topic, payload, true, 1);
  }

  private switchPoint(state: DeviceState, spec: SwitchEntity, point: Point): void {
    const target = point.tags[spec.targetTag];
    if (!target) return;
    let allowed = state.targets.get(target);
    const base = `${this.prefix}/${state.dev.name}/${spec.path}/${target}`;
    if (allowed === undefined) {
      const { driver, options, name } = state.dev;
      allowed = this.cfg.commands && allows(driver, options, name, spec.onVerb, [target]) && allows(driver, options, name, spec.offVerb, [target]);
      state.targets.set(target, allowed);
      if (allowed && this.cfg.discovery.enabled) {
        const a = switchAnnouncement(state.description, spec.path, target, base, this.ctx);
        this.announce(state.dev.name, a.topic, a.payload);
      }
    }
    const on = spec.state(point.fields);
    if (on !== undefined) {
      this.send(`${base}/state`, on, true);
      this.announced.add(state.dev.name, `${base}/state`);
    }
  }

  private announceNumbers(): void {
    if (!this.cfg.commands || !this.cfg.discovery.enabled) return;
    for (const state of this.devices.values()) {
      for (const spec of state.specs) {
        if (spec.component !== 'number') continue;
        // The entity's range is what the config allows; offered only when the driver takes a value in it.
        const limits = spec.limits?.(state.dev.options);
        const ranged = limits ? { ...spec, min: Math.max(spec.min, limits.min), max: Math.min(spec.max, limits.max) } : spec;
        const probe = String(Math.min(Math.max(0, ranged.min), ranged.max));
        if (!allows(state.dev.driver, state.dev.options, state.dev.name, spec.verb, [probe])) continue;
        const a = numberAnnouncement(state.description, ranged, `${this.prefix}/${state.dev.name}/${spec.path}`, this.ctx);
        this.announce(state.dev.name, a.topic, a.payload);
      }
    }
  }

  /** Everything a fresh connection (or a restarted Home Assistant) needs: discovery, removals. */
  private republish(): void {
    for (const { device, topics } of this.announced.stale(new Set(this.devices.keys()))) {
      let left = topics.length;
      this.log.info({ device, topics: left }, 'mqtt: device gone from the config; removing its retained topics and Home Assistant entities');
      const done = () => {
        if (--left === 0) this.announced.forget(device);
      };
      // An empty retained message deletes the retained one; for a config it removes the entity.
      for (const topic of topics) this.enqueue(topic, '', true, 1, done);
    }
    if (!this.cfg.discovery.enabled) return;
    this.announceNumbers();
    for (const [topic, payload] of this.discovery) this.enqueue(topic, payload, true, 1);
  }

  // --- connection -------------------------------------------------------------------------

  private onConnect(): void {
    this.counters.connects++;
    this.clientError.reset();
    this.backoff.reset();
    this.log.info({ clientId: this.clientId }, this.counters.connects === 1 ? 'mqtt connected' : 'mqtt reconnected');
    const client = this.client!;
    const topics: string[] = [];
    if (this.cfg.commands) topics.push(`${this.prefix}/+/+/set`, `${this.prefix}/+/+/+/set`);
    if (this.cfg.commands && this.compatPdu) topics.push(`${this.cfg.compatibility.prefix}/pdu/outlet/+/set`);
    if (this.cfg.discovery.enabled) topics.push(`${this.cfg.discovery.prefix}/status`);
    if (topics.length > 0) {
      client.subscribe(topics, { qos: 1 }, (err) => {
        if (err) this.log.warn({ err: errorMessage(err) }, 'mqtt: subscribe failed');
      });
    }
    // Availability first, so Home Assistant sees the entities as available when they arrive.
    this.enqueue(this.availabilityTopic, 'online', true, 1);
    this.republish();
    this.flush();
  }

  private onClose(): void {
    // Publishes in flight on the old connection are written off (their messages were state: the next poll brings newer).
    this.generation++;
    this.inflight = 0;
    this.writable = true;
    if (this.stopping || this.reconnectTimer) return;
    const delay = this.backoff.next();
    this.log.warn({ retryInMs: delay }, 'mqtt broker not reachable; collection and InfluxDB go on');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopping) this.client?.reconnect();
    }, delay);
  }
}

/** Whether a point has exactly the fields announced last time, in order (no allocation: this runs for every point). */
function sameFields(last: { version: number; fields: string[] } | undefined, version: number, point: Point): boolean {
  if (!last || last.version !== version) return false;
  let i = 0;
  for (const k in point.fields) if (last.fields[i++] !== k) return false;
  return i === last.fields.length;
}
