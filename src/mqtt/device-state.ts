/**
 * What the output keeps per configured device between reports: how Home Assistant knows it
 * (the description, refined from the points), the entities its driver offers, which switch
 * targets have been seen.
 */
import type { Point } from '../core/point.js';
import type { Driver } from '../devices/types.js';
import { commandSpecs, type CommandSpec } from './commands.js';
import type { DeviceDescription } from './discovery.js';

export interface MqttDevice {
  name: string;
  driver: Driver;
  options: unknown;
  /** Tags every point of this device carries (site, host, the config's extra tags): left out of state messages. */
  sharedTags: readonly string[];
}

export interface JobReportLike {
  device: string;
  points: readonly Point[];
  /** The telegrams behind the points (only for mqtt.vscp's device). */
  raw?: readonly { text: string; timeMs: number }[];
}

export interface DeviceState {
  dev: MqttDevice;
  description: DeviceDescription;
  specs: readonly CommandSpec[];
  /** Bumped when model or firmware changes: every config of the device is announced again. */
  descriptionVersion: number;
  /** Switch targets seen (outlet numbers) → whether the config allows switching them. */
  targets: Map<string, boolean>;
  sharedTags: ReadonlySet<string>;
}

export function deviceState(dev: MqttDevice): DeviceState {
  return { dev, description: { name: dev.name, driver: dev.driver.id, fields: dev.driver.fields }, descriptionVersion: 0, specs: commandSpecs(dev.driver), targets: new Map(), sharedTags: new Set(dev.sharedTags) };
}
