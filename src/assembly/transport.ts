/** The transport (and, with `simulate: true`, the simulator) for a device's link (link.ts). */
import type { DeviceConfig } from '../config/schema.js';
import type { Driver } from '../devices/types.js';
import { startSimulator, type RunningSimulator } from '../simulators/index.js';
import { HidTransport } from '../transports/hid.js';
import { Rfc2217Transport } from '../transports/rfc2217.js';
import { SerialTransport } from '../transports/serial.js';
import { createSimLink } from '../transports/sim.js';
import { TcpTransport } from '../transports/tcp.js';
import type { Transport } from '../transports/transport.js';
import { linkFor, type Link } from './link.js';

/** Between failed connects of a device's network link: 1 s doubling to 30 s, jittered (TcpTransport). */
const NETWORK_RETRY = { minMs: 1000, maxMs: 30_000 };

/** Build the transport a device entry asks for: its serial port, a TCP connection (network drivers), or a simulator on a sim link. */
export function createTransport(config: DeviceConfig, driver: Driver): { transport: Transport; simulator?: RunningSimulator; link: Link } {
  const link = linkFor(config, driver);
  return { link, ...transportFor(link, config, driver) };
}

function transportFor(link: Link, config: DeviceConfig, driver: Driver): { transport: Transport; simulator?: RunningSimulator } {
  switch (link.kind) {
    case 'simulate': {
      const sim = createSimLink(link.key);
      const simulator = startSimulator(driver.id, sim.device, config.options);
      return { transport: sim.host, simulator };
    }
    case 'network':
      return { transport: new TcpTransport({ host: link.host, port: link.port }) };
    case 'hid':
      return { transport: new HidTransport(link.selector) };
    case 'remote-serial': {
      const { host, port, scheme } = link.remote;
      // Polled drivers connect at the start of a poll: the link backs off after a failed connect.
      // A stream session (P1) reopens in its own loop, which backs off itself.
      const tcp = { host, port, ...(driver.kind === 'stream' ? {} : { retry: NETWORK_RETRY }) };
      // rfc2217: the config's serial settings go to the remote port; tcp: they are the far end's business.
      if (scheme === 'rfc2217') return { transport: new Rfc2217Transport({ ...tcp, serial: link.serial }) };
      return { transport: new TcpTransport({ ...tcp, ...(scheme === 'modbus+tcp' ? { framing: 'mbap' as const } : {}) }) };
    }
    case 'serial':
      return { transport: new SerialTransport({ path: link.path, ...link.serial }) };
  }
}
