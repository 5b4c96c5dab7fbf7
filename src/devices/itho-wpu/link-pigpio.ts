/**
 * A pigpio daemon client over its socket interface (docs/protocols/itho-wpu.md §4.7; joan2937/pigpio
 * `pigpio.py`, `DOC/src/html/sif.html`), no native module. Requests are 16 bytes (four
 * uint32 LE: cmd, p1, p2, p3) plus p3 extension bytes; replies are 16 bytes (cmd, p1, p2
 * echoed, res int32), BSCX followed by `res` more bytes. Notifications come on a second
 * socket in 12-byte reports once NOIB has turned it into a notification socket.
 */
import { DeviceError, TransportError, errorMessage } from '../../core/errors.js';
import type { Transport } from '../../transports/transport.js';

export const PI_CMD = { NC: 21, I2CO: 54, I2CC: 55, I2CWD: 57, NOIB: 99, BSCX: 114, EVM: 115 } as const;
export const EVENT_BSC = 31;
/** BSC control in I²C slave mode: EN (bit 0), I2C (bit 2), TE (bit 8), RE (bit 9), address in bits 16+. */
export function bscSlaveControl(address: number): number {
  return ((address << 16) | 0x305) >>> 0;
}

/** pigpio error numbers a user may meet here (pigpio.h). */
const PI_ERRORS: Record<number, string> = {
  [-25]: 'PI_BAD_HANDLE',
  [-71]: 'PI_I2C_OPEN_FAILED',
  [-82]: 'PI_I2C_WRITE_FAILED',
  [-83]: 'PI_I2C_READ_FAILED',
  [-41]: 'PI_NOT_PERMITTED',
  [-89]: 'PI_BAD_PARAM',
  [-75]: 'PI_BAD_I2C_BUS',
  [-76]: 'PI_BAD_I2C_ADDR',
  [-24]: 'PI_NO_HANDLE',
  [-142]: 'PI_NOT_ON_BCM2711',
};

export function piErrorName(res: number): string {
  return PI_ERRORS[res] ?? `pigpio error ${res}`;
}

/** One request: the 16-byte header, then the extension (p3 = its length). */
export function packCommand(cmd: number, p1: number, p2: number, ext: Uint8Array = new Uint8Array(0)): Buffer {
  const b = Buffer.alloc(16 + ext.length);
  b.writeUInt32LE(cmd, 0);
  b.writeUInt32LE(p1 >>> 0, 4);
  b.writeUInt32LE(p2 >>> 0, 8);
  b.writeUInt32LE(ext.length, 12);
  b.set(ext, 16);
  return b;
}

export const pack = {
  noib: () => packCommand(PI_CMD.NOIB, 0, 0),
  evm: (handle: number, bits: number) => packCommand(PI_CMD.EVM, handle, bits),
  bscx: (control: number, tx: Uint8Array = new Uint8Array(0)) => packCommand(PI_CMD.BSCX, control, 0, tx),
  i2cOpen: (bus: number, address: number, flags = 0) => {
    const ext = Buffer.alloc(4);
    ext.writeUInt32LE(flags, 0);
    return packCommand(PI_CMD.I2CO, bus, address, ext);
  },
  i2cWriteDevice: (handle: number, data: Uint8Array) => packCommand(PI_CMD.I2CWD, handle, 0, data),
  i2cClose: (handle: number) => packCommand(PI_CMD.I2CC, handle, 0),
  nc: (handle: number) => packCommand(PI_CMD.NC, handle, 0),
};

export interface Report {
  seq: number;
  flags: number;
  tick: number;
  level: number;
}

/** Parses 12-byte reports: seq u16, flags u16, tick u32, level u32 (LE). */
export function parseReport(b: Uint8Array, offset = 0): Report {
  const v = new DataView(b.buffer, b.byteOffset + offset, 12);
  return { seq: v.getUint16(0, true), flags: v.getUint16(2, true), tick: v.getUint32(4, true), level: v.getUint32(8, true) };
}

/** An event report (flags bit 7) for event `id`; keep-alive (bit 6) and watchdog (bit 5) reports are not. */
export function isEvent(r: Report, id: number): boolean {
  return (r.flags & 0x80) !== 0 && (r.flags & 0x40) === 0 && (r.flags & 0x1f) === id;
}

/** A byte queue over one link: read(n) waits for n bytes, a deadline, or the link's end. */
class LinkReader {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private ended: Error | undefined;
  /** When set, bytes go here instead of the queue (notification reports). */
  sink: ((chunk: Buffer) => void) | undefined;

  constructor(
    readonly link: Transport,
    private readonly what: string,
  ) {
    link.on('data', this.onData);
    link.on('close', this.onClose);
    link.on('error', this.onError);
  }

  detach(): void {
    this.link.off('data', this.onData);
    this.link.off('close', this.onClose);
    this.link.off('error', this.onError);
  }

  read(n: number, timeoutMs: number, label: string): Promise<Buffer> {
    if (this.ended) return Promise.reject(this.ended);
    if (this.buf.length >= n) return Promise.resolve(this.take(n));
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new TransportError(`${this.link.key}: pigpiod did not answer ${label} in ${timeoutMs} ms (${this.what} socket)`, true));
      }, timeoutMs);
      this.waiter = { n, resolve, reject, timer };
    });
  }

  private take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return Buffer.from(out);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.sink) {
      this.sink(chunk);
      return;
    }
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const w = this.waiter;
    if (w && this.buf.length >= w.n) {
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(this.take(w.n));
    }
  };

  private readonly onClose = (): void => {
    this.ended = new TransportError(`${this.link.key}: pigpiod closed the ${this.what} connection`, true);
    const w = this.waiter;
    this.waiter = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(this.ended);
    }
  };

  private readonly onError = (): void => {
    // The 'close' that follows is what counts; a listener keeps the emitter from throwing.
  };

  get isOpen(): boolean {
    return !this.ended && this.link.isOpen;
  }
}

export interface PigpioReply {
  res: number;
  /** Bytes after the reply (BSCX only). */
  extra: Buffer;
}

/** pigpiod refused a command (negative res): the name of the error says why. */
export class PigpioError extends DeviceError {
  override name = 'PigpioError';
  constructor(
    message: string,
    device: string,
    readonly res: number,
  ) {
    super(message, device);
  }
}

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(PI_CMD).map(([k, v]) => [v, k]));

/**
 * Two connections to one pigpiod: commands (one at a time, in order) and notifications.
 * `open` connects both, NOIB on the second; `onEvent` fires for each event report.
 */
export class PigpioClient {
  private queue: Promise<unknown> = Promise.resolve();
  private handle: number | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private readonly commands: LinkReader;
  private readonly notifications: LinkReader;
  onEvent: ((event: number, report: Report) => void) | undefined;

  constructor(
    command: Transport,
    notification: Transport,
    private readonly device: string,
    private readonly timeoutMs: number,
  ) {
    this.commands = new LinkReader(command, 'command');
    this.notifications = new LinkReader(notification, 'notification');
  }

  get notifyHandle(): number | undefined {
    return this.handle;
  }

  get isOpen(): boolean {
    return this.commands.isOpen;
  }

  async open(): Promise<void> {
    for (const r of [this.commands, this.notifications]) {
      try {
        await r.link.open();
      } catch (err) {
        if (err instanceof TransportError) throw err;
        throw new TransportError(`${r.link.key}: cannot connect to pigpiod: ${errorMessage(err)}`, true, { cause: err });
      }
    }
    await this.notifications.link.write(pack.noib());
    const reply = await this.notifications.read(16, this.timeoutMs, 'NOIB');
    const res = reply.readInt32LE(12);
    if (reply.readUInt32LE(0) !== PI_CMD.NOIB) throw new TransportError(`${this.notifications.link.key}: pigpiod answered NOIB with command ${reply.readUInt32LE(0)}`, false);
    if (res < 0) throw new PigpioError(`${this.device}: pigpiod refused NOIB: ${piErrorName(res)}`, this.device, res);
    this.handle = res;
    this.notifications.sink = this.onReports;
  }

  /** Sends one command and reads its reply; commands never overlap on the socket. */
  command(buf: Buffer): Promise<PigpioReply> {
    const run = async (): Promise<PigpioReply> => {
      const cmd = buf.readUInt32LE(0);
      const label = NAMES[cmd] ?? `command ${cmd}`;
      if (!this.commands.isOpen) throw new TransportError(`${this.commands.link.key}: pigpiod command connection is closed`, true);
      await this.commands.link.write(buf);
      const head = await this.commands.read(16, this.timeoutMs, label);
      if (head.readUInt32LE(0) !== cmd) throw new TransportError(`${this.commands.link.key}: pigpiod answered ${label} with command ${head.readUInt32LE(0)}`, false);
      const res = head.readInt32LE(12);
      const extra = cmd === PI_CMD.BSCX && res > 0 ? await this.commands.read(res, this.timeoutMs, `${label} data`) : Buffer.alloc(0);
      return { res, extra };
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** A command whose negative res is an error naming `what`. */
  async ok(buf: Buffer, what: string): Promise<PigpioReply> {
    const r = await this.command(buf);
    if (r.res < 0) throw new PigpioError(`${this.device}: pigpiod: ${what} failed: ${piErrorName(r.res)} (${r.res})`, this.device, r.res);
    return r;
  }

  /** NC on the notification socket (no reply is read, as pigpio.py does), then both connections closed. */
  async close(): Promise<void> {
    if (this.handle !== undefined && this.notifications.isOpen) {
      await this.notifications.link.write(pack.nc(this.handle)).catch(() => undefined);
    }
    this.handle = undefined;
    this.commands.detach();
    this.notifications.detach();
    await Promise.all([this.commands.link.close().catch(() => undefined), this.notifications.link.close().catch(() => undefined)]);
  }

  private readonly onReports = (chunk: Buffer): void => {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let off = 0;
    while (this.pending.length - off >= 12) {
      const r = parseReport(this.pending, off);
      off += 12;
      if ((r.flags & 0x80) !== 0 && (r.flags & 0x40) === 0) this.onEvent?.(r.flags & 0x1f, r);
    }
    this.pending = Buffer.from(this.pending.subarray(off));
  };
}
