/**
 * A USB HID device through `node-hid` (hidraw on Linux) as a byte link, for devices that
 * enumerate as HID instead of a serial adapter (PowerWalker PDU/ATS, docs/protocols/powerwalker.md §1.1).
 *
 * - Found by `path` (/dev/hidrawN) or by vendorId/productId (the first match), freshly on
 *   each open(), so a device unplugged and plugged back is found again.
 * - write(): the bytes as one HID write, unchanged; no report-id byte is added (the form the
 *   original used and its author reports working; hidraw sends a first byte that is not 0
 *   as is).
 * - Input reports (8 bytes on these devices) are emitted as 'data' with their NUL padding
 *   removed; reading until the end of a reply, and the deadline, are the session's.
 * - A read error (device unplugged) closes the link as disconnected ('close' with a
 *   retryable TransportError).
 *
 * node-hid is imported on first open (a native module), and can be replaced by a stand-in
 * with the same surface (`loadHid`), which is how the tests put the simulator behind it.
 */
import { EventEmitter } from 'node:events';
import { TransportError, errorMessage } from '../core/errors.js';
import type { Transport } from './transport.js';

export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string;
  product?: string;
  manufacturer?: string;
}

/** The part of node-hid's HIDAsync this transport uses. */
export interface HidHandle extends EventEmitter {
  write(data: number[] | Buffer): Promise<number>;
  close(): Promise<void>;
}

/** The part of the node-hid module this transport uses. */
export interface HidModule {
  devicesAsync(): Promise<HidDeviceInfo[]>;
  HIDAsync: { open(path: string): Promise<HidHandle> };
}

export interface HidSelector {
  path?: string;
  vendorId?: number;
  productId?: number;
}

export interface HidTransportOptions extends HidSelector {
  loadHid?: () => Promise<HidModule>;
}

const hex4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

/** `hid:/dev/hidraw0` or `hid:0665:5161`: the same form linkKey() uses before a transport exists. */
export function hidKey(s: HidSelector): string {
  if (s.path) return `hid:${s.path}`;
  return `hid:${(s.vendorId ?? 0).toString(16).padStart(4, '0')}:${(s.productId ?? 0).toString(16).padStart(4, '0')}`;
}

async function loadNodeHid(): Promise<HidModule> {
  try {
    const mod = (await import('node-hid')) as unknown as Partial<HidModule> & { default?: HidModule };
    return (typeof mod.devicesAsync === 'function' ? mod : mod.default) as HidModule;
  } catch (err) {
    throw new TransportError(`hid: cannot load node-hid (${errorMessage(err)}); on Debian it needs the package libusb-1.0-0`, false, { cause: err });
  }
}

export function describeHidDevices(list: readonly HidDeviceInfo[]): string {
  if (list.length === 0) return 'none';
  return list.map((d) => `${hex4(d.vendorId)}:${hex4(d.productId)}${d.path ? ` ${d.path}` : ''}${d.product ? ` "${d.product}"` : ''}`).join(', ');
}

export class HidTransport extends EventEmitter implements Transport {
  readonly key: string;
  private handle: HidHandle | undefined;
  private opening: Promise<void> | undefined;

  constructor(readonly options: HidTransportOptions) {
    super();
    if (!options.path && (options.vendorId === undefined || options.productId === undefined)) {
      throw new TransportError('hid: give a path, or both vendorId and productId', false);
    }
    this.key = hidKey(options);
  }

  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  open(): Promise<void> {
    if (this.handle) return Promise.resolve();
    this.opening ??= this.doOpen().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async doOpen(): Promise<void> {
    const hid = await (this.options.loadHid ?? loadNodeHid)();
    let list: HidDeviceInfo[];
    try {
      list = await hid.devicesAsync();
    } catch (err) {
      throw new TransportError(`${this.key}: cannot list HID devices: ${errorMessage(err)}`, true, { cause: err });
    }
    const { path, vendorId, productId } = this.options;
    const found = path ? list.find((d) => d.path === path) : list.find((d) => d.vendorId === vendorId && d.productId === productId);
    if (!found?.path) {
      const wanted = path ? `at ${path}` : `with vendorId ${hex4(vendorId!)} productId ${hex4(productId!)}`;
      throw new TransportError(`hid: no HID device ${wanted} (unplugged, or no permission on /dev/hidraw*?); node-hid found: ${describeHidDevices(list)}`, true);
    }
    let handle: HidHandle;
    try {
      handle = await hid.HIDAsync.open(found.path);
    } catch (err) {
      const msg = errorMessage(err);
      const hint = /permission|access/i.test(msg) ? ' (permission denied: a udev rule giving the user access to this hidraw node)' : '';
      throw new TransportError(`${this.key}: cannot open ${found.path}: ${msg}${hint}`, true, { cause: err });
    }
    this.handle = handle;
    handle.on('data', (report: Buffer) => {
      const bytes = Buffer.from(report).filter((b) => b !== 0x00);
      if (bytes.length > 0) this.emit('data', Buffer.from(bytes));
    });
    handle.on('error', (err: unknown) => this.lost(handle, err));
  }

  private lost(handle: HidHandle, err: unknown): void {
    if (this.handle !== handle) return;
    this.handle = undefined;
    handle.removeAllListeners('data');
    handle.close().catch(() => undefined);
    this.emit('close', new TransportError(`${this.key}: disconnected (${errorMessage(err)})`, true, { cause: err }));
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    const handle = this.handle;
    if (!handle) return;
    this.handle = undefined;
    handle.removeAllListeners('data');
    await handle.close().catch(() => undefined);
    this.emit('close');
  }

  async write(data: Uint8Array): Promise<void> {
    const handle = this.handle;
    if (!handle) throw new TransportError(`${this.key}: write on a closed HID device`, true);
    try {
      await handle.write(Buffer.from(data));
    } catch (err) {
      this.lost(handle, err);
      throw new TransportError(`${this.key}: write failed: ${errorMessage(err)}`, true, { cause: err });
    }
  }
}
