/**
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery):
 * one retained `config` message per field at `<discovery>/<component>/<node>/<object>/config`.
 * Unique ids are built from the state topic and the field name only, so they stay the same
 * across restarts and hosts as long as the topic prefix and the device name do.
 */
import type { Point } from '../core/point.js';
import { describeField, identityFromPoint, seriesTags } from '../devices/fields.js';
import type { DriverFields, NumberEntity } from '../devices/types.js';
import { deviceClassOf, fieldMeta } from './fields.js';

export interface DiscoveryContext {
  discoveryPrefix: string;
  /** The topic prefix, as a slug: the node id in discovery topics and the start of every unique id. */
  node: string;
  availabilityTopic: string;
}

/** What names a Home Assistant device: one per configured wattline device. */
export interface DeviceDescription {
  name: string;
  /** The driver id: the model until the points tell one. */
  driver: string;
  /** The driver's metadata (docs/fields.md): maker, series tags, what each field is. */
  fields: DriverFields | undefined;
  manufacturer?: string;
  model?: string;
  firmware?: string;
}

export interface Announcement {
  topic: string;
  payload: string;
}

/** Letters, digits, _ and - only (Home Assistant's object id rule). */
export function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]+/g, '_');
}

export function deviceBlock(d: DeviceDescription, ctx: DiscoveryContext): Record<string, unknown> {
  const block: Record<string, unknown> = { identifiers: [`${ctx.node}_${slug(d.name)}`], name: d.name };
  const manufacturer = d.manufacturer ?? d.fields?.manufacturer;
  if (manufacturer) block.manufacturer = manufacturer;
  block.model = d.model ?? d.driver;
  if (d.firmware) block.sw_version = d.firmware;
  return block;
}

/** Model, maker and firmware as the driver reads them from a point (`identify`, by default tags/fields named so); the same object when nothing changed. */
export function describeFromPoint(d: DeviceDescription, point: Point): DeviceDescription {
  const id = d.fields?.identify ? d.fields.identify(point) : identityFromPoint(point);
  const firmware = id.firmware ?? d.firmware;
  const model = id.model ?? d.model;
  const manufacturer = id.manufacturer ?? d.manufacturer;
  if (firmware === d.firmware && model === d.model && manufacturer === d.manufacturer) return d;
  return { ...d, firmware, model, manufacturer };
}

/** `unit 1 channel 3` from the series tags of a point (empty for a device-level series). */
function seriesLabel(point: Point, fields: DriverFields | undefined): string {
  return seriesTags(fields, point.measurement)
    .filter((t) => point.tags[t])
    .map((t) => `${t} ${point.tags[t]}`)
    .join(' ');
}

export function uniqueId(ctx: DiscoveryContext, device: string, series: string, field: string): string {
  return `${ctx.node}_${slug(device)}_${slug(series)}_${field}`;
}

/** One config message per field of a point; every field of a series shares its state topic. */
export function fieldAnnouncements(point: Point, device: DeviceDescription, series: string, stateTopic: string, ctx: DiscoveryContext): Announcement[] {
  const out: Announcement[] = [];
  const label = seriesLabel(point, device.fields);
  const block = deviceBlock(device, ctx);
  for (const [field, value] of Object.entries(point.fields)) {
    const described = describeField(device.fields, point.measurement, field, value, point.tags);
    const meta = fieldMeta(described, value);
    const id = uniqueId(ctx, device.name, series, field);
    const key = JSON.stringify(field);
    const config: Record<string, unknown> = {
      name: label ? `${label} ${described.name}` : described.name,
      unique_id: id,
      // HA 2025.10 replaced object_id (ignored since 2026.4) by default_entity_id.
      default_entity_id: `${meta.component}.${id}`,
      state_topic: stateTopic,
      value_template: meta.component === 'binary_sensor' ? `{{ 'ON' if value_json[${key}] | int(0) == 1 else 'OFF' }}` : `{{ value_json[${key}] }}`,
      availability_topic: ctx.availabilityTopic,
      device: block,
      origin: { name: 'wattline' },
    };
    if (meta.unit) config.unit_of_measurement = meta.unit;
    if (meta.deviceClass) config.device_class = meta.deviceClass;
    if (meta.stateClass) config.state_class = meta.stateClass;
    if (meta.diagnostic) config.entity_category = 'diagnostic';
    out.push({ topic: `${ctx.discoveryPrefix}/${meta.component}/${ctx.node}/${id}/config`, payload: JSON.stringify(config) });
  }
  return out;
}

/** A switch entity over `<base>/set` and `<base>/state` (an outlet). */
export function switchAnnouncement(device: DeviceDescription, path: string, target: string, base: string, ctx: DiscoveryContext): Announcement {
  const id = uniqueId(ctx, device.name, `${path}_${target}`, 'switch');
  const config = {
    name: `${path} ${target}`,
    unique_id: id,
    default_entity_id: `switch.${id}`,
    command_topic: `${base}/set`,
    state_topic: `${base}/state`,
    payload_on: 'ON',
    payload_off: 'OFF',
    availability_topic: ctx.availabilityTopic,
    device: deviceBlock(device, ctx),
    origin: { name: 'wattline' },
  };
  return { topic: `${ctx.discoveryPrefix}/switch/${ctx.node}/${id}/config`, payload: JSON.stringify(config) };
}

/** A number entity over `<base>/set` and `<base>/state` (a set-point). */
export function numberAnnouncement(device: DeviceDescription, spec: NumberEntity, base: string, ctx: DiscoveryContext): Announcement {
  const id = uniqueId(ctx, device.name, spec.path, 'number');
  const config: Record<string, unknown> = {
    name: spec.path.replace(/-/g, ' '),
    unique_id: id,
    default_entity_id: `number.${id}`,
    command_topic: `${base}/set`,
    state_topic: `${base}/state`,
    min: spec.min,
    max: spec.max,
    step: spec.step,
    mode: 'box',
    availability_topic: ctx.availabilityTopic,
    device: deviceBlock(device, ctx),
    origin: { name: 'wattline' },
  };
  if (spec.unit) config.unit_of_measurement = spec.unit;
  const deviceClass = deviceClassOf(spec.quantity);
  if (deviceClass) config.device_class = deviceClass;
  return { topic: `${ctx.discoveryPrefix}/number/${ctx.node}/${id}/config`, payload: JSON.stringify(config) };
}
