/** MQTT beside the outbox (`run` with an `mqtt` section): the devices it announces, and starting it. */
import { hostname } from 'node:os';
import type { Logger } from '../core/log.js';
import { resolveConfigPath, type LoadedConfig } from '../config/load.js';
import type { ControlRequest, ControlResult } from '../devices/types.js';
import type { MqttDevice, MqttOutput } from '../mqtt/output.js';
import { baseTags } from '../assembly/device.js';
import type { DeviceRuntime } from './types.js';

/** The devices MQTT publishes and announces. */
export function mqttDevices(runtimes: Iterable<DeviceRuntime>, loaded: LoadedConfig): MqttDevice[] {
  return [...runtimes].map((rt) => ({ name: rt.config.name, driver: rt.driver, options: rt.config.options, sharedTags: Object.keys(baseTags(loaded, rt.config)) }));
}

/** The started MQTT output; commands go to `control` (the worker's, under the port locks). */
export async function startMqtt(
  loaded: LoadedConfig,
  devices: MqttDevice[],
  control: (device: string, verb: string, args: readonly string[], signal: AbortSignal) => Promise<{ request: ControlRequest; result: ControlResult }>,
  log: Logger,
): Promise<MqttOutput> {
  const config = loaded.config;
  // Loaded only when configured: a worker without MQTT does not carry its modules (README, run-memory).
  const { MqttOutput } = await import('../mqtt/output.js');
  const mqtt = new MqttOutput({
    config: config.mqtt!,
    devices,
    control,
    log: log.child({ room: 'mqtt' }),
    defaultClientId: `wattline-${config.site ?? hostname()}`,
    announcedPath: `${resolveConfigPath(loaded, config.outbox.path)}.mqtt-announced.json`,
    resolvePath: (path) => resolveConfigPath(loaded, path),
  });
  await mqtt.start();
  return mqtt;
}
