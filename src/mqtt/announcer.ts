/**
 * Home Assistant discovery as the reports come in: a series' field configs when it is first
 * seen (and again when its fields or the device's model/firmware change), a switch per target
 * the config allows, the number entities; every config again on each (re)connect and when Home
 * Assistant comes online; and the retained topics of devices gone from the config cleared.
 * What goes in a config is discovery.ts; this decides when, and remembers what was sent.
 */
import type { MqttConfig } from '../config/mqtt.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Point } from '../core/point.js';
import type { SwitchEntity } from '../devices/types.js';
import { AnnouncedTopics } from './announced.js';
import { allows } from './commands.js';
import type { DeviceState } from './device-state.js';
import { describeFromPoint, fieldAnnouncements, numberAnnouncement, slug, switchAnnouncement, type DiscoveryContext } from './discovery.js';
import type { MqttPublisher } from './publisher.js';

export class Announcer {
  private readonly ctx: DiscoveryContext;
  private readonly prefix: string;
  /** Every retained topic per device, kept in a file: what to clear when a device leaves the config. */
  private readonly announced: AnnouncedTopics;
  /** Every discovery config of this run, republished on reconnect and when Home Assistant comes online. */
  private readonly discovery = new Map<string, string>();
  /** State topic → the field set (and device description version) last announced for it. */
  private readonly announcedSeries = new Map<string, { version: number; fields: string[] }>();

  constructor(
    private readonly cfg: MqttConfig,
    private readonly publisher: MqttPublisher,
    private readonly log: Logger,
    announcedPath: string | null,
  ) {
    this.prefix = cfg.topicPrefix;
    this.ctx = { discoveryPrefix: cfg.discovery.prefix, node: slug(this.prefix), availabilityTopic: publisher.availabilityTopic };
    this.announced = new AnnouncedTopics(announcedPath);
  }

  /** The announced-topics file; a problem with it is returned to be logged (it then starts empty). */
  load(): string | undefined {
    return this.announced.load();
  }

  save(): void {
    try {
      this.announced.save();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'mqtt: cannot save the announced-topics file');
    }
  }

  /** A retained topic to clear if the device leaves the config. */
  remember(device: string, topic: string): void {
    this.announced.add(device, topic);
  }

  /** A device removed or changed by a config reload: announced afresh from its next report. */
  forget(device: string): void {
    for (const topic of this.announced.topics(device)) this.discovery.delete(topic);
    for (const topic of this.announcedSeries.keys()) if (topic.startsWith(`${this.prefix}/${device}/`)) this.announcedSeries.delete(topic);
  }

  /** A point of `series` (state at `topic`): its field configs when new or changed. */
  point(state: DeviceState, point: Point, series: string, topic: string): void {
    if (!this.cfg.discovery.enabled) return;
    const described = describeFromPoint(state.description, point);
    if (described !== state.description) {
      state.description = described;
      state.descriptionVersion++;
    }
    if (sameFields(this.announcedSeries.get(topic), state.descriptionVersion, point)) return;
    this.announcedSeries.set(topic, { version: state.descriptionVersion, fields: Object.keys(point.fields) });
    for (const a of fieldAnnouncements(point, state.description, series, topic, this.ctx)) this.announce(state.dev.name, a.topic, a.payload);
  }

  /** A switch target (outlet) first seen at `base`: a switch entity where the config allows both verbs. */
  switchTarget(state: DeviceState, spec: SwitchEntity, target: string, base: string): void {
    if (state.targets.has(target)) return;
    const { driver, options, name } = state.dev;
    const allowed = this.cfg.commands && allows(driver, options, name, spec.onVerb, [target]) && allows(driver, options, name, spec.offVerb, [target]);
    state.targets.set(target, allowed);
    if (allowed && this.cfg.discovery.enabled) {
      const a = switchAnnouncement(state.description, spec.path, target, base, this.ctx);
      this.announce(name, a.topic, a.payload);
    }
  }

  /** Everything a fresh connection (or a restarted Home Assistant) needs: discovery, removals. */
  republish(devices: ReadonlyMap<string, DeviceState>): void {
    for (const { device, topics } of this.announced.stale(new Set(devices.keys()))) {
      let left = topics.length;
      this.log.info({ device, topics: left }, 'mqtt: device gone from the config; removing its retained topics and Home Assistant entities');
      const done = () => {
        if (--left === 0) this.announced.forget(device);
      };
      // An empty retained message deletes the retained one; for a config it removes the entity.
      for (const topic of topics) this.publisher.enqueue(topic, '', true, 1, done);
    }
    if (!this.cfg.discovery.enabled) return;
    this.announceNumbers(devices.values());
    for (const [topic, payload] of this.discovery) this.publisher.enqueue(topic, payload, true, 1);
  }

  private announce(device: string, topic: string, payload: string): void {
    this.discovery.set(topic, payload);
    this.announced.add(device, topic);
    this.publisher.enqueue(topic, payload, true, 1);
  }

  private announceNumbers(devices: Iterable<DeviceState>): void {
    if (!this.cfg.commands) return;
    for (const state of devices) {
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
}

/** Whether a point has exactly the fields announced last time, in order (no allocation: this runs for every point). */
function sameFields(last: { version: number; fields: string[] } | undefined, version: number, point: Point): boolean {
  if (!last || last.version !== version) return false;
  let i = 0;
  for (const k in point.fields) if (last.fields[i++] !== k) return false;
  return i === last.fields.length;
}
