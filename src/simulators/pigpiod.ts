/**
 * A pigpio daemon on its socket interface (joan2937/pigpio `DOC/src/html/sif.html`,
 * docs/protocols/itho-wpu.md §4.7), byte for byte: 16-byte LE requests (cmd, p1, p2, p3 + p3 extension
 * bytes), 16-byte replies (cmd, p1, p2, res), BSCX followed by its data, NOIB turning a
 * socket into a notification socket with 12-byte reports. Behind it, on I²C bus 1, the
 * simulated WPU at 0x41, which answers by writing to the BSC slave when that is armed.
 *
 * Two ways to reach it: a real TCP server on a loopback port (startPigpiodServer, for tests
 * and end-to-end runs) or the device end of a sim link whose host opens connections with
 * newConnection() (startPigpiodSimulator, for `simulate: true` and the demo).
 *
 * Faults for the next N WPU replies: no reply, a reply from another source address, a bad
 * checksum, a truncated message, a wrong class byte, a NACKed write, the connection lost.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Transport } from '../transports/transport.js';
import { remember } from './history.js';
import { SimulatedWpu, type SimulatedWpuOptions } from './itho-wpu.js';

const CMD = { NC: 21, I2CO: 54, I2CC: 55, I2CWD: 57, NOIB: 99, BSCX: 114, EVM: 115 } as const;
const NAMES: Record<number, string> = Object.fromEntries(Object.entries(CMD).map(([k, v]) => [v, k]));
const PI_BAD_HANDLE = -25;
const PI_BAD_I2C_BUS = -75;
const PI_I2C_WRITE_FAILED = -82;
const PI_UNKNOWN_COMMAND = -123;
const BSC_EVENT_FLAGS = 0x80 | 31;

export type PigpiodFault = 'no-reply' | 'wrong-source' | 'bad-checksum' | 'truncated' | 'wrong-class' | 'nack' | 'lost-connection';

interface Conn {
  write(b: Buffer): void;
  close(): void;
}

interface ConnState {
  conn: Conn;
  buf: Buffer;
  notify?: number;
}

export interface PigpiodSimulatorOptions extends SimulatedWpuOptions {
  /** Delay before the WPU's reply lands in the BSC FIFO, ms. */
  replyDelayMs?: number;
  /** Deliver each reply in two BSC transfers (two events), to exercise reassembly. */
  splitReplies?: boolean;
  /** Send no BSC event reports (the replies still land in the FIFO). */
  noEvents?: boolean;
}

export interface PigpiodSimulator {
  readonly wpu: SimulatedWpu;
  /** Command names received, in order (NOIB, EVM, BSCX, I2CO, I2CWD, I2CC, NC); the last HISTORY_LIMIT or fewer. */
  readonly commands: string[];
  /** The next `count` WPU replies get `fault` (count Infinity: until cleared with undefined). */
  fault(fault: PigpiodFault | undefined, count?: number): void;
  /** What is open right now: I²C handles, notification handles, BSC on, connections. */
  state(): { i2cHandles: number; notifyHandles: number; bscOn: boolean; connections: number };
  stop(): void;
}

class PigpiodCore implements PigpiodSimulator {
  readonly wpu: SimulatedWpu;
  readonly commands: string[] = [];
  private readonly conns = new Set<ConnState>();
  private readonly i2c = new Map<number, { bus: number; addr: number }>();
  private readonly notifies = new Map<number, { st: ConnState; bits: number; seq: number }>();
  private nextI2c = 0;
  private nextNotify = 0;
  private bscControl = 0;
  private fifo: Buffer = Buffer.alloc(0);
  private faultKind: PigpiodFault | undefined;
  private faultLeft = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly o: PigpiodSimulatorOptions) {
    this.wpu = new SimulatedWpu(o);
  }

  fault(fault: PigpiodFault | undefined, count = 1): void {
    this.faultKind = fault;
    this.faultLeft = fault ? count : 0;
  }

  state() {
    return { i2cHandles: this.i2c.size, notifyHandles: this.notifies.size, bscOn: (this.bscControl & 1) === 1, connections: this.conns.size };
  }

  accept(conn: Conn): { onData: (b: Buffer) => void; onClose: () => void } {
    const st: ConnState = { conn, buf: Buffer.alloc(0) };
    this.conns.add(st);
    return {
      onData: (b) => {
        st.buf = Buffer.concat([st.buf, b]);
        this.drain(st);
      },
      onClose: () => this.drop(st),
    };
  }

  private drop(st: ConnState): void {
    this.conns.delete(st);
    // pigpiod closes a socket's notification handle when the socket goes.
    if (st.notify !== undefined) this.notifies.delete(st.notify);
  }

  private drain(st: ConnState): void {
    while (st.buf.length >= 16) {
      const ext = st.buf.readUInt32LE(12);
      const hasExt = [CMD.BSCX, CMD.I2CO, CMD.I2CWD].includes(st.buf.readUInt32LE(0) as 114);
      const total = 16 + (hasExt ? ext : 0);
      if (st.buf.length < total) return;
      const req = st.buf.subarray(0, total);
      st.buf = st.buf.subarray(total);
      this.command(st, req.readUInt32LE(0), req.readUInt32LE(4), req.readUInt32LE(8), req.subarray(16));
    }
  }

  private reply(st: ConnState, cmd: number, p1: number, p2: number, res: number, extra?: Buffer): void {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(cmd, 0);
    h.writeUInt32LE(p1, 4);
    h.writeUInt32LE(p2, 8);
    h.writeInt32LE(res, 12);
    st.conn.write(extra ? Buffer.concat([h, extra]) : h);
  }

  private command(st: ConnState, cmd: number, p1: number, p2: number, ext: Buffer): void {
    remember(this.commands, NAMES[cmd] ?? `CMD${cmd}`);
    switch (cmd) {
      case CMD.NOIB: {
        const h = this.nextNotify++;
        st.notify = h;
        this.notifies.set(h, { st, bits: 0, seq: 0 });
        return this.reply(st, cmd, p1, p2, h);
      }
      case CMD.EVM: {
        const n = this.notifies.get(p1);
        if (!n) return this.reply(st, cmd, p1, p2, PI_BAD_HANDLE);
        n.bits = p2;
        return this.reply(st, cmd, p1, p2, 0);
      }
      case CMD.NC: {
        const known = this.notifies.delete(p1);
        // On the notification socket pigpio.py reads no reply; answer on command sockets only.
        if (st.notify === undefined) this.reply(st, cmd, p1, p2, known ? 0 : PI_BAD_HANDLE);
        return;
      }
      case CMD.BSCX: {
        this.bscControl = p1;
        const data = p1 & 1 ? this.fifo : Buffer.alloc(0);
        this.fifo = Buffer.alloc(0);
        const status = Buffer.alloc(4);
        status.writeUInt32LE(0x12, 0); // FR as logged in real traffic ("Status 18", docs/protocols/itho-wpu.md §4.7)
        return this.reply(st, cmd, p1, p2, 4 + data.length, Buffer.concat([status, data]));
      }
      case CMD.I2CO: {
        if (p1 !== 1) return this.reply(st, cmd, p1, p2, PI_BAD_I2C_BUS);
        const h = this.nextI2c++;
        this.i2c.set(h, { bus: p1, addr: p2 });
        return this.reply(st, cmd, p1, p2, h);
      }
      case CMD.I2CC:
        return this.reply(st, cmd, p1, p2, this.i2c.delete(p1) ? 0 : PI_BAD_HANDLE);
      case CMD.I2CWD: {
        const h = this.i2c.get(p1);
        if (!h) return this.reply(st, cmd, p1, p2, PI_BAD_HANDLE);
        if (h.addr !== 0x41) return this.reply(st, cmd, p1, p2, PI_I2C_WRITE_FAILED);
        const fault = this.takeFault();
        if (fault === 'nack') return this.reply(st, cmd, p1, p2, PI_I2C_WRITE_FAILED);
        if (fault === 'lost-connection') {
          for (const c of [...this.conns]) c.conn.close();
          return;
        }
        this.reply(st, cmd, p1, p2, 0);
        const answer = this.wpu.handle(ext);
        if (answer && fault !== 'no-reply') this.deliver(this.spoil(answer, fault));
        return;
      }
      default:
        return this.reply(st, cmd, p1, p2, PI_UNKNOWN_COMMAND);
    }
  }

  private takeFault(): PigpiodFault | undefined {
    if (!this.faultKind || this.faultLeft <= 0) return undefined;
    const f = this.faultKind;
    if (--this.faultLeft <= 0) this.faultKind = undefined;
    return f;
  }

  private spoil(frame: Buffer, fault: PigpiodFault | undefined): Buffer {
    const f = Buffer.from(frame);
    const fixSum = () => {
      let s = 0x80;
      for (let i = 0; i < f.length - 1; i++) s += f[i]!;
      f[f.length - 1] = (256 - (s & 0xff)) & 0xff;
    };
    switch (fault) {
      case 'wrong-source': // another I²C master on the bus writing to 0x40
        f[0] = 0x84;
        fixSum();
        return f;
      case 'bad-checksum':
        f[f.length - 1] ^= 0x5a;
        return f;
      case 'truncated':
        return f.subarray(0, Math.max(6, f.length >> 1));
      case 'wrong-class': // only the second class byte differs: the original's AND let it through
        f[2] ^= 0x01;
        fixSum();
        return f;
      default:
        return f;
    }
  }

  /** The WPU, as I²C master, writes to 0x40: only an armed slave with that address takes it. */
  private deliver(frame: Buffer): void {
    const parts = this.o.splitReplies && frame.length > 8 ? [frame.subarray(0, 7), frame.subarray(7)] : [frame];
    let delay = this.o.replyDelayMs ?? 5;
    for (const part of parts) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (this.stopped || (this.bscControl & 1) === 0 || this.bscControl >>> 16 !== 0x40) return;
        this.fifo = Buffer.concat([this.fifo, part]);
        this.event();
      }, delay);
      this.timers.add(t);
      delay += 3;
    }
  }

  private event(): void {
    if (this.o.noEvents) return;
    for (const n of this.notifies.values()) {
      if ((n.bits & 0x80000000) === 0) continue;
      const r = Buffer.alloc(12);
      r.writeUInt16LE(n.seq++ & 0xffff, 0);
      r.writeUInt16LE(BSC_EVENT_FLAGS, 2);
      r.writeUInt32LE(Number(process.hrtime.bigint() / 1000n) >>> 0, 4);
      r.writeUInt32LE(0, 8);
      n.st.conn.write(r);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const c of [...this.conns]) c.conn.close();
  }
}

/** A pigpiod on TCP (host default 127.0.0.1, port 0 = a free one). */
export async function startPigpiodServer(options: PigpiodSimulatorOptions & { host?: string; port?: number } = {}): Promise<PigpiodSimulator & { port: number; server: Server }> {
  const core = new PigpiodCore(options);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const h = core.accept({ write: (b) => void (socket.writable && socket.write(b)), close: () => socket.destroy() });
    socket.on('data', h.onData);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      h.onClose();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 }, () => resolve());
  });
  const stop = core.stop.bind(core);
  return Object.assign(core, {
    port: (server.address() as AddressInfo).port,
    server,
    stop: () => {
      stop();
      for (const s of sockets) s.destroy();
      server.close();
    },
  });
}

/** A pigpiod on the device end of a sim link: each newConnection() of the host end is a socket. */
export function startPigpiodSimulator(device: Transport, options: PigpiodSimulatorOptions = {}): PigpiodSimulator {
  const core = new PigpiodCore(options);
  const onConnection = (end: Transport) => {
    void end.open();
    const h = core.accept({ write: (b) => void end.write(b).catch(() => undefined), close: () => (end as Transport & { unplug?: () => void }).unplug?.() ?? void end.close() });
    end.on('data', h.onData);
    end.once('close', h.onClose);
  };
  device.on('connection', onConnection);
  const stop = core.stop.bind(core);
  return Object.assign(core, {
    stop: () => {
      device.off('connection', onConnection);
      stop();
    },
  });
}
