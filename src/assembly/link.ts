/**
 * Which link a device entry asks for, decided once: a simulator on a sim link, a network
 * driver's TCP connection, a HID device, a serial port, or a serial port behind a network
 * address (ser2net raw TCP, RFC 2217, Modbus TCP). The scheduler's port key and the
 * transport built for the device both come from this one decision.
 */
import { ConfigError } from '../core/errors.js';
import type { DeviceConfig } from '../config/schema.js';
import type { Driver } from '../devices/types.js';
import type { SerialSettings } from '../transports/serial-settings.js';
import { isNetworkPath, parseNetworkPath, type NetworkAddress } from '../transports/address.js';
import { hidKey, type HidSelector } from '../transports/hid.js';

const FALLBACK_SERIAL: SerialSettings = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 };

/** A device's link; `key` is the physical link (jobs with the same key run one at a time), same form as Transport.key. */
export type Link =
  | { kind: 'simulate'; key: string }
  /** A network driver (nut-ups): its own host and port from its options. */
  | { kind: 'network'; key: string; host: string; port: number }
  | { kind: 'hid'; key: string; selector: HidSelector }
  /** A serial device behind a network address; the settings matter only to rfc2217. */
  | { kind: 'remote-serial'; key: string; remote: NetworkAddress; serial: SerialSettings }
  | { kind: 'serial'; key: string; path: string; serial: SerialSettings };

/** The link of a device entry. Known before any transport exists: schedules are checked before anything opens. */
export function linkFor(config: DeviceConfig, driver: Driver): Link {
  if (config.simulate) return { kind: 'simulate', key: `sim:${config.name}` };
  if (driver.link === 'network') {
    const { host, port } = driver.networkAddress!(config.options);
    return { kind: 'network', key: `tcp:${host}:${port}`, host, port };
  }
  if (config.hid) return { kind: 'hid', key: hidKey(config.hid), selector: config.hid };
  const port = config.port!;
  const defaults = driver.defaultSerial?.(config.options) ?? FALLBACK_SERIAL;
  const serial: SerialSettings = {
    baudRate: port.baudRate ?? defaults.baudRate,
    dataBits: port.dataBits ?? defaults.dataBits,
    parity: port.parity ?? defaults.parity,
    stopBits: port.stopBits ?? defaults.stopBits,
  };
  const remote = networkAddressOf(port.path);
  // Every scheme to one host:port is one remote port: one owner, as for a local tty.
  if (remote) return { kind: 'remote-serial', key: `tcp:${remote.host}:${remote.port}`, remote, serial };
  return { kind: 'serial', key: `serial:${port.path}`, path: port.path, serial };
}

/** Which physical link a device uses (the scheduler's port key). */
export function linkKey(config: DeviceConfig, driver: Driver): string {
  return linkFor(config, driver).key;
}

/** A `port.path` that is a network address (validated by the config schema), or undefined for a device path. */
function networkAddressOf(path: string): NetworkAddress | undefined {
  if (!isNetworkPath(path)) return undefined;
  const address = parseNetworkPath(path);
  if (typeof address === 'string') throw new ConfigError(`port.path: ${address}`);
  return address;
}
