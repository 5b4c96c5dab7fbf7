/**
 * The VSCP part of the MQTT output: which device's telegrams it publishes, its GUID, and the
 * messages for one telegram. The MQTT output sends what this returns through its own batch
 * (QoS 0, not retained), after the device's state messages.
 */
import { networkInterfaces } from 'node:os';
import { ConfigError } from '../core/errors.js';
import type { VscpConfig } from './config.js';
import { guidFromMac, guidText, parseGuid } from './event.js';
import { meterValues, VscpEncoder, type VscpMessage } from './p1.js';

/** The driver whose telegrams VSCP publishes (the original read a DSMR P1 port). */
export const VSCP_DRIVER = 'dsmr-p1';

export class VscpOutput {
  private readonly encoder: VscpEncoder;
  /** The base GUID as text (its last two bytes become each reading's id). */
  readonly guid: string;

  constructor(
    config: VscpConfig,
    /** The enabled device whose raw telegrams are published. */
    readonly device: string,
    guid: readonly number[],
  ) {
    this.encoder = new VscpEncoder(config, guid);
    this.guid = guidText(guid);
  }

  /** One telegram as the P1 session received it (CRC checked) → its messages. */
  messages(telegram: string, readingMs: number, nowMs: number): VscpMessage[] {
    return this.encoder.messages(meterValues(telegram), { readingMs, nowMs });
  }
}

/** Build the VSCP output for a worker's devices; a setting that cannot work is a ConfigError naming it. */
export function createVscpOutput(config: VscpConfig, devices: readonly { name: string; driver: string }[], interfaces = networkInterfaces()): VscpOutput {
  let device = config.device;
  if (device !== undefined) {
    const d = devices.find((x) => x.name === device);
    if (!d) throw new ConfigError(`mqtt.vscp.device: no enabled device named "${device}"`);
    if (d.driver !== VSCP_DRIVER) throw new ConfigError(`mqtt.vscp.device: "${device}" is a ${d.driver} device; VSCP publishes ${VSCP_DRIVER} telegrams`);
  } else {
    const p1 = devices.filter((x) => x.driver === VSCP_DRIVER);
    if (p1.length !== 1) throw new ConfigError(`mqtt.vscp.device: ${p1.length === 0 ? 'no enabled dsmr-p1 device' : `name one of ${p1.map((x) => x.name).join(', ')}`}`);
    device = p1[0]!.name;
  }
  return new VscpOutput(config, device, resolveGuid(config, interfaces));
}

/** The configured GUID, or the original's MAC-based one (§3.4) from the named or first real interface. */
export function resolveGuid(config: VscpConfig, interfaces: ReturnType<typeof networkInterfaces>): number[] {
  if (config.guid !== undefined) {
    const guid = parseGuid(config.guid);
    if (typeof guid === 'string') throw new ConfigError(`mqtt.vscp.guid: ${guid}`);
    return guid;
  }
  const names = Object.keys(interfaces);
  const usable = (name: string) => (interfaces[name] ?? []).find((a) => !a.internal && a.mac && a.mac !== '00:00:00:00:00:00');
  const name = config.interface ?? names.find((n) => usable(n));
  const address = name === undefined ? undefined : usable(name);
  if (!address) {
    const where = config.interface ? `no network interface "${config.interface}" with a MAC address` : 'no network interface with a MAC address';
    throw new ConfigError(`mqtt.vscp.interface: ${where} (have: ${names.join(', ') || 'none'}); or set mqtt.vscp.guid`);
  }
  const guid = guidFromMac(address.mac);
  if (typeof guid === 'string') throw new ConfigError(`mqtt.vscp.interface: ${guid}`);
  return guid;
}
