/** A configured device put together: its link, a driver session on it, the tags it carries, its control verbs. */
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { LoadedConfig } from '../config/load.js';
import type { DeviceConfig } from '../config/schema.js';
import type { ControlRequest, DeviceSession, Driver, DriverContext } from '../devices/types.js';
import type { RunningSimulator } from '../simulators/index.js';
import type { Transport } from '../transports/transport.js';
import type { Link } from './link.js';
import { createTransport } from './transport.js';

/** A device's link (or simulator) and a driver session on it, not yet started; `link` says which link it is (its key is the port lock's). */
export function openDevice(
  loaded: LoadedConfig,
  device: DeviceConfig,
  driver: Driver,
  with_: { clock: Clock; log: Logger; capture?: DriverContext<unknown>['capture']; readOnly?: boolean; oneShot?: boolean },
): { transport: Transport; simulator?: RunningSimulator; session: DeviceSession; link: Link } {
  const { transport, simulator, link } = createTransport(device, driver);
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
  return { transport, ...(simulator ? { simulator } : {}), session, link };
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

/** Tags every point of a device carries besides `device`: site, host, then the device's own. */
export function baseTags(loaded: LoadedConfig, device: DeviceConfig): Record<string, string> {
  const tags: Record<string, string> = {};
  if (loaded.config.site) tags.site = loaded.config.site;
  if (loaded.config.host) tags.host = loaded.config.host;
  return { ...tags, ...device.tags };
}
