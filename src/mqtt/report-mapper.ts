/**
 * A device's report → its messages: a state message per point at `<prefix>/<device>/<series>`
 * (with the series' discovery when it is new), switch and number states from the points the
 * driver's entities name, and for the devices that have them the PowerWalker compatibility
 * topics and the VSCP events. Everything goes out through the publisher; nothing here waits.
 */
import type { MqttConfig } from '../config/mqtt.js';
import type { Point } from '../core/point.js';
import { seriesTags } from '../devices/fields.js';
import type { SwitchEntity } from '../devices/types.js';
import type { VscpOutput } from '../vscp/output.js';
import type { Announcer } from './announcer.js';
import { atsMessages, pduMessages, type Alerts } from './compat-powerwalker.js';
import type { DeviceState, JobReportLike } from './device-state.js';
import type { MqttPublisher } from './publisher.js';
import { seriesPath } from './series.js';

/** The devices that also get the compatibility topics (mqtt.compatibility), and mqtt.vscp's output. */
export interface MapperTargets {
  compatPdu: string | undefined;
  compatAts: string | undefined;
  vscp: VscpOutput | undefined;
}

export class ReportMapper {
  private readonly prefix: string;
  private readonly alerts: Alerts = new Map();

  constructor(
    private readonly cfg: MqttConfig,
    private readonly publisher: MqttPublisher,
    private readonly announcer: Announcer,
    private readonly targets: MapperTargets,
  ) {
    this.prefix = cfg.topicPrefix;
  }

  map(state: DeviceState, report: JobReportLike): void {
    const device = report.device;
    for (const point of report.points) {
      const series = seriesPath(point, seriesTags(state.description.fields, point.measurement));
      const topic = `${this.prefix}/${device}/${series}`;
      this.announcer.point(state, point, series, topic);
      this.publisher.sendState(topic, point, state.sharedTags);
      if (this.cfg.retain) this.announcer.remember(device, topic);
      for (const spec of state.specs) {
        if (spec.component === 'switch' && point.measurement === spec.measurement) this.switchPoint(state, spec, point);
        else if (spec.component === 'number' && spec.stateFrom?.measurement === point.measurement) {
          const v = point.fields[spec.stateFrom.field];
          if (v !== undefined) this.publisher.send(`${this.prefix}/${device}/${spec.path}/state`, String(typeof v === 'object' ? v.value : v), true);
        }
      }
    }
    const compatPrefix = this.cfg.compatibility.prefix;
    if (device === this.targets.compatPdu) this.sendCompat(pduMessages(compatPrefix, report.points, this.alerts));
    if (device === this.targets.compatAts) this.sendCompat(atsMessages(compatPrefix, report.points, this.alerts));
    const vscp = this.targets.vscp;
    if (device === vscp?.device && report.raw) {
      // The original's time fields took the host clock at publish time (the compat profile keeps that).
      const now = Date.now();
      for (const telegram of report.raw) for (const m of vscp.messages(telegram.text, telegram.timeMs, now)) this.publisher.send(m.topic, m.payload, m.retain, m.qos);
    }
  }

  private sendCompat(messages: { topic: string; payload: string }[]): void {
    // As the original: QoS 0, not retained.
    for (const m of messages) this.publisher.send(m.topic, m.payload, false, 0);
  }

  private switchPoint(state: DeviceState, spec: SwitchEntity, point: Point): void {
    const target = point.tags[spec.targetTag];
    if (!target) return;
    const base = `${this.prefix}/${state.dev.name}/${spec.path}/${target}`;
    this.announcer.switchTarget(state, spec, target, base);
    const on = spec.state(point.fields);
    if (on !== undefined) {
      this.publisher.send(`${base}/state`, on, true);
      this.announcer.remember(state.dev.name, `${base}/state`);
    }
  }
}
