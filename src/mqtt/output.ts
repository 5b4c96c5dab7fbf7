/**
 * The MQTT output: live state per series, Home Assistant discovery, commands, and the
 * PowerWalker compatibility topics. Best effort and separate from the InfluxDB path: a report
 * is handed over synchronously and turned into messages on a later tick; messages wait in a
 * bounded queue (latest per topic) and go out only while the broker is connected, at most
 * MAX_INFLIGHT at a time. Nothing here is ever awaited by collection or by the flusher.
 *
 * The `mqtt` package (MQTT.js) is imported on start, only when the config has an mqtt section.
 */
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/mqtt.js';
import { ConfigError, InputError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Point } from '../core/point.js';
import type { ControlRequest, ControlResult, Driver } from '../devices/types.js';
import { AnnouncedTopics } from './announced.js';
import { atsMessages, parseCompatCommand, pduMessages, type Alerts } from './compat-powerwalker.js';
import { commandSpecs, parseCommand, type CommandSpec, type NumberSpec, type SwitchSpec } from './commands.js';
import { describeFromPoint, deviceBlock, fieldAnnouncements, slug, uniqueId, type DeviceDescription, type DiscoveryContext } from './discovery.js';
import { MessageQueue, type OutMessage } from './queue.js';
import { seriesPath, statePayload } from './series.js';

const MAX_INFLIGHT = 64;
/** Reports are turned into messages this long after the first one arrives: devices polled on the same tick share one socket write. */
const BATCH_DELAY_MS = 50;
const MAX_PENDING_REPORTS = 1000;
const MAX_COMMANDS_IN_FLIGHT = 16;
const MAX_COMMAND_BYTES = 256;
const COMMAND_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 1500;
const DROP_LOG_INTERVAL_MS = 60_000;

export interface MqttDevice {
  name: string;
  driver: Driver;
  options: unknown;
  /** Tags every point of this device carries (site, host, the config's extra tags): left out of state messages. */
  sharedTags: readonly string[];
}

export type ControlFn = (device: string, verb: string, args: readonly string[], signal: AbortSignal) => Promise<{ request: ControlRequest; result: ControlResult }>;

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
  /** State topic → the field set (and device description) last announced for it. */
  private readonly announcedSeries = new Map<string, string>();
  private readonly alerts: Alerts = new Map();
  private readonly compatPdu: string | undefined;
  private readonly compatAts: string | undefined;
  private client: MqttClient | null = null;
  private pending: JobReportLike[] = [];
  private scheduled = false;
  private inflight = 0;
  private generation = 0;
  private flushing = false;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelayMs: number;
  private commandsInFlight = 0;
  private lastDropLogMs = 0;
  private lastError = '';
  private readonly counters = { published: 0, publishErrors: 0, reportsDropped: 0, connects: 0, commands: 0, refused: 0, failed: 0, ignored: 0 };

  constructor(private readonly options: MqttOutputOptions) {
    const cfg = options.config;
    this.cfg = cfg;
    this.log = options.log;
    this.prefix = cfg.topicPrefix;
    this.clientId = cfg.clientId ?? options.defaultClientId;
    this.availabilityTopic = `${this.prefix}/status`;
    this.ctx = { discoveryPrefix: cfg.discovery.prefix, node: slug(this.prefix), availabilityTopic: this.availabilityTopic };
    this.queue = new MessageQueue(cfg.queueSize);
    this.reconnectDelayMs = cfg.reconnectMinMs;
    this.announced = new AnnouncedTopics(options.announcedPath);
    for (const dev of options.devices) {
      this.devices.set(dev.name, {
        dev,
        description: { name: dev.name, driver: dev.driver.id },
        descriptionVersion: 0,
        specs: commandSpecs(dev.driver.id),
        targets: new Map(),
        sharedTags: new Set(dev.sharedTags),
      });
    }
    const compat = cfg.compatibility;
    this.compatPdu = compat.mode === 'powerwalker' ? this.compatDevice(compat.pdu, 'powerwalker-pdu', 'pdu') : undefined;
    this.compatAts = compat.mode === 'powerwalker' ? this.compatDevice(compat.ats, 'powerwalker-ats', 'ats') : undefined;
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
    const tls = this.cfg.tls;
    const read = (what: string, path: string | undefined) => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(this.options.resolvePath(path));
      } catch (err) {
        throw new ConfigError(`mqtt.tls.${what}: cannot read ${path}: ${errorMessage(err)}`);
      }
    };
    const tlsOptions = tls ? { ca: read('ca', tls.ca), cert: read('cert', tls.cert), key: read('key', tls.key), rejectUnauthorized: tls.rejectUnauthorized } : {};
    const { connect } = await import('mqtt');
    const client = connect(this.cfg.url, {
      clientId: this.clientId,
      username: this.cfg.username,
      password: this.cfg.password,
      clean: true,
      keepalive: this.cfg.keepaliveS,
      connectTimeout: 10_000,
      // Reconnects are ours (backoff below); MQTT.js's own would retry at a fixed period.
      reconnectPeriod: 0,
      queueQoSZero: false,
      will: { topic: this.availabilityTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...tlsOptions,
    });
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (err) => {
      // Refused connections repeat every retry: say each distinct problem once.
      const message = errorMessage(err);
      if (message === this.lastError) return;
      this.lastError = message;
      this.log.warn({ err: message }, 'mqtt client error');
    });
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    this.log.info({ url: redactUrl(this.cfg.url), clientId: this.clientId, prefix: this.prefix }, 'mqtt output started');
  }

  /** The worker's onCollected listener: synchronous and cheap; the work happens on a later tick. */
  publishReport(report: JobReportLike): void {
    if (this.stopping) return;
    if (this.pending.length >= MAX_PENDING_REPORTS) {
      this.counters.reportsDropped++;
      return;
    }
    this.pending.push(report);
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.processPending(), BATCH_DELAY_MS).unref();
    }
  }

  stats(): Record<string, number> {
    return {
      ...this.counters,
      queued: this.queue.size,
      inflight: this.inflight,
      dropped: this.queue.dropped,
      superseded: this.queue.superseded,
      connected: this.client?.connected ? 1 : 0,
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
    const client = this.client;
    try {
      this.announced.save();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'mqtt: cannot save the announced-topics file');
    }
    if (!client) return;
    if (client.connected) {
      // A clean disconnect sends no last will: say offline ourselves.
      const last = [client.publishAsync(this.availabilityTopic, 'offline', { qos: 1, retain: true })];
      if (this.cfg.compatibility.mode === 'powerwalker') last.push(client.publishAsync(`$CONNECTED/${this.clientId}`, '0', { qos: 0, retain: true }));
      await withTimeout(Promise.all(last), STOP_TIMEOUT_MS).catch(() => undefined);
    }
    await withTimeout(client.endAsync(false), STOP_TIMEOUT_MS).catch(() => client.end(true));
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

  private flush(): void {
    const client = this.client;
    if (this.flushing || !client) return;
    this.flushing = true;
    try {
      while (client.connected && this.inflight < MAX_INFLIGHT) {
        const message = this.queue.shift() as (OutMessage & { done?: () => void }) | undefined;
        if (!message) break;
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
          if (!this.flushing) setImmediate(() => this.flush());
        });
      }
    } finally {
      this.flushing = false;
    }
  }

  private processPending(): void {
    this.scheduled = false;
    const reports = this.pending;
    this.pending = [];
    for (const report of reports) {
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
    this.flush();
  }

  private handleReport(report: JobReportLike): void {
    const state = this.devices.get(report.device);
    if (!state) return;
    const device = report.device;
    for (const point of report.points) {
      const series = seriesPath(point);
      const topic = `${this.prefix}/${device}/${series}`;
      if (this.cfg.discovery.enabled) {
        const described = describeFromPoint(state.description, point);
        if (described !== state.description) {
          state.description = described;
          state.descriptionVersion++;
        }
        const key = `${state.descriptionVersion}|${Object.keys(point.fields).join(',')}`;
        if (this.announcedSeries.get(topic) !== key) {
          this.announcedSeries.set(topic, key);
          for (const a of fieldAnnouncements(point, state.description, series, topic, this.ctx)) this.announce(device, a.topic, a.payload);
        }
      }
      this.enqueue(topic, statePayload(point, state.sharedTags), this.cfg.retain);
      if (this.cfg.retain) this.announced.add(device, topic);
      for (const spec of state.specs) {
        if (spec.component === 'switch' && point.measurement === spec.measurement) this.switchPoint(state, spec, point);
        else if (spec.component === 'number' && spec.stateFrom?.measurement === point.measurement) {
          const v = point.fields[spec.stateFrom.field];
          if (v !== undefined) this.enqueue(`${this.prefix}/${device}/${spec.path}/state`, String(typeof v === 'object' ? v.value : v), true);
        }
      }
    }
    if (device === this.compatPdu) this.enqueueCompat(pduMessages(this.cfg.compatibility.prefix, report.points, this.alerts));
    if (device === this.compatAts) this.enqueueCompat(atsMessages(this.cfg.compatibility.prefix, report.points, this.alerts));
  }

  private enqueueCompat(messages: { topic: string; payload: string }[]): void {
    // As the original: QoS 0, not retained.
    for (const m of messages) this.enqueue(m.topic, m.payload, false, 0);
  }

  private announce(device: string, topic: string, payload: string): void {
    this.discovery.set(topic, payload);
    this.announced.add(device, topic);
    this.enqueue(topic, payload, true, 1);
  }

  private switchPoint(state: DeviceState, spec: SwitchSpec, point: Point): void {
    const target = point.tags[spec.targetTag];
    if (!target) return;
    let allowed = state.targets.get(target);
    const base = `${this.prefix}/${state.dev.name}/${spec.path}/${target}`;
    if (allowed === undefined) {
      allowed = this.cfg.commands && this.allows(state.dev, spec.onVerb, [target]) && this.allows(state.dev, spec.offVerb, [target]);
      state.targets.set(target, allowed);
      if (allowed && this.cfg.discovery.enabled) this.announceSwitch(state, spec, target, base);
    }
    const on = spec.state(point.fields);
    if (on !== undefined) {
      this.enqueue(`${base}/state`, on, true);
      this.announced.add(state.dev.name, `${base}/state`);
    }
  }

  private announceSwitch(state: DeviceState, spec: SwitchSpec, target: string, base: string): void {
    const id = uniqueId(this.ctx, state.dev.name, `${spec.path}_${target}`, 'switch');
    const config = {
      name: `${spec.path} ${target}`,
      unique_id: id,
      object_id: id,
      command_topic: `${base}/set`,
      state_topic: `${base}/state`,
      payload_on: 'ON',
      payload_off: 'OFF',
      availability_topic: this.availabilityTopic,
      device: deviceBlock(state.description, this.ctx),
      origin: { name: 'wattline' },
    };
    this.announce(state.dev.name, `${this.ctx.discoveryPrefix}/switch/${this.ctx.node}/${id}/config`, JSON.stringify(config));
  }

  private announceNumbers(): void {
    if (!this.cfg.commands || !this.cfg.discovery.enabled) return;
    for (const state of this.devices.values()) {
      for (const spec of state.specs) {
        if (spec.component !== 'number' || !this.allows(state.dev, spec.verb, ['0'])) continue;
        this.announceNumber(state, spec);
      }
    }
  }

  private announceNumber(state: DeviceState, spec: NumberSpec): void {
    const base = `${this.prefix}/${state.dev.name}/${spec.path}`;
    const id = uniqueId(this.ctx, state.dev.name, spec.path, 'number');
    const config: Record<string, unknown> = {
      name: spec.path.replace(/-/g, ' '),
      unique_id: id,
      object_id: id,
      command_topic: `${base}/set`,
      state_topic: `${base}/state`,
      min: spec.min,
      max: spec.max,
      step: spec.step,
      mode: 'box',
      availability_topic: this.availabilityTopic,
      device: deviceBlock(state.description, this.ctx),
      origin: { name: 'wattline' },
    };
    if (spec.unit) config.unit_of_measurement = spec.unit;
    if (spec.deviceClass) config.device_class = spec.deviceClass;
    this.announce(state.dev.name, `${this.ctx.discoveryPrefix}/number/${this.ctx.node}/${id}/config`, JSON.stringify(config));
  }

  /** Whether the driver's pure `control.prepare` accepts this verb for this device's config. */
  private allows(dev: MqttDevice, verb: string, args: string[]): boolean {
    const control = dev.driver.control;
    if (!control || !control.verbs.some((v) => v.name === verb)) return false;
    try {
      control.prepare(verb, args, dev.options, dev.name);
      return true;
    } catch {
      return false;
    }
  }

  /** Everything a fresh connection (or a restarted Home Assistant) needs: discovery, removals. */
  private republish(): void {
    if (!this.cfg.discovery.enabled) return;
    for (const { device, topics } of this.announced.stale(new Set(this.devices.keys()))) {
      let left = topics.length;
      this.log.info({ device, topics: left }, 'mqtt: device gone from the config; removing its Home Assistant entities');
      const done = () => {
        if (--left === 0) this.announced.forget(device);
      };
      // An empty retained message deletes the retained one; for a config it removes the entity.
      for (const topic of topics) this.enqueue(topic, '', true, 1, done);
    }
    this.announceNumbers();
    for (const [topic, payload] of this.discovery) this.enqueue(topic, payload, true, 1);
  }

  // --- connection -------------------------------------------------------------------------

  private onConnect(): void {
    this.counters.connects++;
    this.lastError = '';
    this.reconnectDelayMs = this.cfg.reconnectMinMs;
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
    if (this.cfg.compatibility.mode === 'powerwalker') this.enqueue(`$CONNECTED/${this.clientId}`, '1', true, 0);
    this.republish();
    this.flush();
  }

  private onClose(): void {
    // Publishes in flight on the old connection are written off (their messages were state: the next poll brings newer).
    this.generation++;
    this.inflight = 0;
    if (this.stopping || this.reconnectTimer) return;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, this.cfg.reconnectMaxMs);
    this.log.warn({ retryInMs: delay }, 'mqtt broker not reachable; collection and InfluxDB go on');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopping) this.client?.reconnect();
    }, delay);
  }

  // --- incoming ---------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (topic === `${this.cfg.discovery.prefix}/status`) {
      if (payload.toString('utf8').trim() === 'online' && this.cfg.discovery.enabled && !retained) {
        this.log.info('mqtt: Home Assistant came online; republishing discovery');
        this.republish();
        this.flush();
      }
      return;
    }
    if (retained) {
      // A retained command would switch the outlet again on every reconnect.
      this.ignore(topic, 'retained command (publish commands without the retain flag)');
      return;
    }
    if (payload.length > MAX_COMMAND_BYTES) return this.ignore(topic, `payload of ${payload.length} bytes`);
    const text = payload.toString('utf8');
    if (this.compatPdu) {
      const compat = parseCompatCommand(this.cfg.compatibility.prefix, topic, text);
      if (compat && 'error' in compat) return this.ignore(topic, compat.error);
      if (compat) return this.runCommand(this.compatPdu, compat.verb, [compat.outlet], `${this.prefix}/${this.compatPdu}/outlet/${compat.outlet}`, compat.verb === 'on' ? 'ON' : 'OFF');
    }
    const parsed = parseCommand(this.prefix, topic, text, (d) => this.devices.get(d)?.specs);
    if (!parsed.ok) return this.ignore(topic, parsed.reason);
    const spec = parsed.spec;
    const stateValue = spec.component === 'switch' ? (parsed.verb === spec.onVerb ? 'ON' : 'OFF') : parsed.args[0]!;
    this.runCommand(parsed.device, parsed.verb, parsed.args, parsed.base, stateValue);
  }

  private ignore(topic: string, reason: string): void {
    this.counters.ignored++;
    this.log.warn({ topic, reason }, 'mqtt: message ignored');
  }

  /** Carry out a command through the worker (port lock, config allowance); its outcome goes to `<base>/result`, the new state to `<base>/state`. */
  private runCommand(device: string, verb: string, args: string[], base: string, stateValue: string): void {
    if (this.commandsInFlight >= MAX_COMMANDS_IN_FLIGHT) return this.ignore(base, 'too many commands waiting');
    this.counters.commands++;
    this.commandsInFlight++;
    const time = () => new Date().toISOString();
    const done = (outcome: Record<string, unknown>) => this.enqueue(`${base}/result`, JSON.stringify({ ...outcome, verb, args, time: time() }), false);
    this.options
      .control(device, verb, args, AbortSignal.timeout(COMMAND_TIMEOUT_MS))
      .then(({ request, result }) => {
        done({ ok: true, summary: request.summary, message: result.message, ...(result.data ? { data: result.data } : {}) });
        this.enqueue(`${base}/state`, stateValue, true);
        this.announced.add(device, `${base}/state`);
      })
      .catch((err: unknown) => {
        const refused = err instanceof ConfigError || err instanceof InputError;
        if (refused) this.counters.refused++;
        else this.counters.failed++;
        this.log.warn({ device, verb, args, err: errorMessage(err) }, refused ? 'mqtt command refused' : 'mqtt command failed');
        done({ ok: false, refused, error: errorMessage(err) });
      })
      .finally(() => {
        this.commandsInFlight--;
        this.flush();
      });
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
