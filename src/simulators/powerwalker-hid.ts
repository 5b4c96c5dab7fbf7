/**
 * A PowerWalker simulator behind the USB HID interface: a stand-in for the `node-hid`
 * module (devicesAsync, HIDAsync.open) whose device passes each write to the simulator and
 * hands its replies back as 8-byte input reports, the last one padded with NULs, the way
 * the original's HID path reads them (docs/protocols/powerwalker.md §1.1). No virtual HID device can exist
 * on these machines (no UHID), so this is how HidTransport is tested end to end.
 */
import { EventEmitter } from 'node:events';
import type { HidDeviceInfo, HidHandle, HidModule } from '../transports/hid.js';
import { createSimLink, type SimEndpoint } from '../transports/sim.js';
import type { Transport } from '../transports/transport.js';
import { remember } from './history.js';

export const REPORT_BYTES = 8;

export interface SimulatedHid<S> {
  module: HidModule;
  sim: S;
  info: HidDeviceInfo;
  /** Reports sent to the host so far (each REPORT_BYTES long). */
  readonly reports: Buffer[];
  /** Writes the host made, as received. */
  readonly writes: Buffer[];
  /** The device goes away: an open handle reports a read error, enumeration no longer lists it. */
  unplug(): void;
  plug(): void;
}

/** Split a reply into input reports of REPORT_BYTES, zero-padded. */
export function toReports(reply: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < reply.length; i += REPORT_BYTES) {
    const r = Buffer.alloc(REPORT_BYTES);
    reply.copy(r, 0, i, Math.min(reply.length, i + REPORT_BYTES));
    out.push(r);
  }
  return out;
}

class FakeHandle extends EventEmitter implements HidHandle {
  closed = false;
  private readonly onReply: (reply: Buffer) => void;
  constructor(
    private readonly host: SimEndpoint,
    private readonly owner: { writes: Buffer[]; reports: Buffer[]; plugged: () => boolean },
  ) {
    super();
    this.onReply = (reply: Buffer) => {
      for (const r of toReports(reply)) {
        remember(owner.reports, r);
        if (!this.closed) this.emit('data', r);
      }
    };
    host.on('data', this.onReply);
  }

  async write(data: number[] | Buffer): Promise<number> {
    if (this.closed || !this.owner.plugged()) throw new Error('could not write to HID device');
    const buf = Buffer.from(data as Buffer);
    remember(this.owner.writes, buf);
    await this.host.write(buf);
    return buf.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.host.off('data', this.onReply);
  }
}

export function simulatedHid<S>(start: (device: Transport) => S, info: HidDeviceInfo = { vendorId: 0x0665, productId: 0x5161, path: '/dev/hidraw-sim0', product: 'simulated PowerWalker' }): SimulatedHid<S> {
  const link = createSimLink(`hid-sim:${info.path}`);
  void link.device.open();
  void link.host.open();
  const sim = start(link.device);
  let plugged = true;
  let handle: FakeHandle | undefined;
  const writes: Buffer[] = [];
  const reports: Buffer[] = [];
  const module: HidModule = {
    devicesAsync: async () => (plugged ? [info] : []),
    HIDAsync: {
      open: async (path: string) => {
        if (!plugged || path !== info.path) throw new Error(`cannot open device with path ${path}`);
        await handle?.close();
        handle = new FakeHandle(link.host, { writes, reports, plugged: () => plugged });
        return handle;
      },
    },
  };
  return {
    module,
    sim,
    info,
    reports,
    writes,
    unplug() {
      plugged = false;
      const h = handle;
      handle = undefined;
      if (h && !h.closed) {
        h.emit('error', new Error('could not read from HID device'));
        void h.close();
      }
    },
    plug() {
      plugged = true;
    },
  };
}
