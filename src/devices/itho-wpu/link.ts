/**
 * One I²C conversation with the WPU through pigpiod (docs/protocols/itho-wpu.md §4.6–4.7): open both
 * sockets, NOIB, EVM(BSC), arm the BSC slave at 0x40, I2CO(1, 0x41); per request I2CWD and
 * BSCX on each BSC event until a whole reply frame is there; then I2CC, BSC off, EVM off, NC,
 * both sockets closed — also when something failed on the way.
 */
import type { Clock } from '../../core/clock.js';
import { DeviceError, FrameError, TimeoutError, TransportError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Transport } from '../../transports/transport.js';
import { checkReply, PI_BSC_ADDRESS, replyLength, WPU_I2C_ADDRESS, type Request } from './codec.js';
import { bscSlaveControl, EVENT_BSC, pack, PigpioClient } from './link-pigpio.js';
import type { CaptureHook } from '../kit/capture.js';

export interface BusOptions {
  device: string;
  i2cBus: number;
  /** Longest wait for each pigpiod reply, ms. */
  commandTimeoutMs: number;
  /** Longest wait for the WPU's reply to one request, ms. */
  replyTimeoutMs: number;
  /** Extra attempts for reads (writes are never repeated). */
  retries: number;
  retryDelayMs: number;
  clock: Clock;
  log: Logger;
  /** Already safe (kit/capture.ts): a failing archive never fails an exchange. */
  capture?: CaptureHook;
  /** Counters shared with the session's stats(). */
  counts: Record<string, number>;
}

const ARM = bscSlaveControl(PI_BSC_ADDRESS);

export class WpuBus {
  private i2c: number | undefined;
  private armed = false;
  private events = false;
  private rx: Buffer = Buffer.alloc(0);
  private attempt = 0;
  private wake: (() => void) | undefined;
  private readonly frames: Buffer[] = [];
  /** An I²C handle close() could not close (pigpiod keeps it when the socket is lost). */
  leftOpenI2c: number | undefined;
  /** Time of the first capture of this conversation (the poll's timestamp). */
  firstCaptureMs: number | undefined;

  private constructor(
    private readonly pi: PigpioClient,
    private readonly o: BusOptions,
  ) {}

  /** Opens everything; on failure closes what was opened and throws. */
  static async open(command: Transport, notification: Transport, o: BusOptions, staleI2c?: number): Promise<WpuBus> {
    const pi = new PigpioClient(command, notification, o.device, o.commandTimeoutMs);
    const bus = new WpuBus(pi, o);
    try {
      await pi.open();
      // pigpiod's I²C handles are global: one a lost connection left behind is closed now.
      if (staleI2c !== undefined) await pi.command(pack.i2cClose(staleI2c)).catch(() => undefined);
      pi.onEvent = (event) => {
        if (event === EVENT_BSC) bus.onBscEvent();
      };
      await pi.ok(pack.evm(pi.notifyHandle!, 2 ** EVENT_BSC), 'EVM (BSC events)');
      bus.events = true;
      // Arming the slave also reads it: whatever was left in its FIFO is discarded.
      await pi.ok(pack.bscx(ARM), 'BSCX (arm the slave at 0x40)');
      bus.armed = true;
      bus.i2c = (await pi.ok(pack.i2cOpen(o.i2cBus, WPU_I2C_ADDRESS, 0), `I2CO (bus ${o.i2cBus}, 0x41)`)).res;
    } catch (err) {
      await bus.close();
      throw err;
    }
    return bus;
  }

  /**
   * One request and its checked reply payload. Reads are tried 1 + retries times; a write is
   * sent once, and no reply to it is an error that says it was not repeated.
   */
  async exchange(req: Request, signal: AbortSignal): Promise<Buffer> {
    const attempts = req.write ? 1 : 1 + this.o.retries;
    let last = '';
    for (let a = 1; a <= attempts; a++) {
      signal.throwIfAborted();
      if (!this.pi.isOpen) throw new TransportError(`${this.o.device}: pigpiod connection lost`, true);
      if (a > 1) {
        this.o.counts.retries = (this.o.counts.retries ?? 0) + 1;
        await this.o.clock.sleep(this.o.retryDelayMs, signal);
      }
      this.attempt++;
      this.rx = Buffer.alloc(0);
      this.frames.length = 0;
      this.capture('tx', req.frame);
      const w = await this.pi.command(pack.i2cWriteDevice(this.i2c!, req.frame));
      if (w.res < 0) {
        last = `I2C write failed (${w.res}: the WPU did not acknowledge)`;
        this.o.counts.write_errors = (this.o.counts.write_errors ?? 0) + 1;
        if (req.write) break;
        continue;
      }
      const payload = await this.awaitReply(req, signal);
      if (payload.ok) return payload.payload;
      last = payload.reason;
      if (!this.pi.isOpen) throw new TransportError(`${this.o.device}: pigpiod connection lost while waiting for the ${req.kind} reply`, true);
    }
    if (req.write) {
      throw new TimeoutError(`${this.o.device}: ${req.kind} write: ${last}; the write was sent once and NOT repeated (read the value back to see whether it took)`);
    }
    throw new DeviceError(`${this.o.device}: no valid ${req.kind} reply in ${attempts} attempt${attempts === 1 ? '' : 's'}: ${last}`, this.o.device);
  }

  private async awaitReply(req: Request, signal: AbortSignal): Promise<{ ok: true; payload: Buffer } | { ok: false; reason: string }> {
    const deadline = this.o.clock.now() + this.o.replyTimeoutMs;
    let reason = '';
    let swept = false;
    for (;;) {
      while (this.frames.length > 0) {
        const frame = this.frames.shift()!;
        try {
          return { ok: true, payload: checkReply(frame, req.kind) };
        } catch (err) {
          if (!(err instanceof FrameError)) throw err;
          this.o.counts[`bad_${err.reason}`] = (this.o.counts[`bad_${err.reason}`] ?? 0) + 1;
          reason = err.message;
        }
      }
      const left = deadline - this.o.clock.now();
      if (!this.pi.isOpen) break;
      if (left <= 0) {
        // One last read of the slave at the deadline: a reply whose BSC event got lost.
        if (swept) break;
        swept = true;
        const before = this.frames.length + this.rx.length;
        await this.readBsc(this.attempt);
        if (this.frames.length + this.rx.length > before) this.o.counts.missed_events = (this.o.counts.missed_events ?? 0) + 1;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const onAbort = () => done();
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve();
        }
        this.wake = done;
        signal.addEventListener('abort', onAbort, { once: true });
      });
      this.wake = undefined;
      signal.throwIfAborted();
    }
    if (reason) return { ok: false, reason };
    this.o.counts.no_reply = (this.o.counts.no_reply ?? 0) + 1;
    if (this.rx.length > 0) {
      return { ok: false, reason: `reply truncated: ${this.rx.length} of ${replyLength(this.rx) ?? '≥ 6'} bytes in ${this.o.replyTimeoutMs} ms (${this.rx.toString('hex')})` };
    }
    return { ok: false, reason: `no reply in ${this.o.replyTimeoutMs} ms` };
  }

  /** A BSC event: read the slave's FIFO. */
  private onBscEvent(): void {
    void this.readBsc(this.attempt).then(() => this.wake?.());
  }

  /** BSCX, then whole frames cut from what arrived; bytes of an earlier attempt are ignored. Never throws. */
  private async readBsc(attempt: number): Promise<void> {
    try {
      const r = await this.pi.command(pack.bscx(ARM));
      if (attempt !== this.attempt || r.res <= 4) return; // 0-byte events happen and mean nothing
      this.rx = Buffer.concat([this.rx, r.extra.subarray(4)]);
      for (let len = replyLength(this.rx); len !== undefined && this.rx.length >= len; len = replyLength(this.rx)) {
        const frame = Buffer.from(this.rx.subarray(0, len));
        this.rx = this.rx.subarray(len);
        this.capture('rx', frame);
        this.frames.push(frame);
      }
    } catch (err) {
      this.o.log.debug({ err: errorMessage(err) }, 'itho-wpu: BSCX read failed');
    }
  }

  private capture(direction: 'rx' | 'tx', frame: Buffer): void {
    const t = this.o.clock.now();
    this.firstCaptureMs ??= t;
    this.o.capture?.(direction, frame, t);
  }

  /** Undo in reverse order whatever open() got to; never throws. */
  async close(): Promise<void> {
    const step = async (what: string, buf: Buffer) => {
      if (!this.pi.isOpen) return;
      try {
        const r = await this.pi.command(buf);
        if (r.res < 0) this.o.log.debug({ res: r.res }, `itho-wpu: ${what} refused`);
      } catch (err) {
        this.o.log.debug({ err: errorMessage(err) }, `itho-wpu: ${what} failed`);
      }
    };
    if (this.i2c !== undefined) {
      if (this.pi.isOpen) await step('I2CC', pack.i2cClose(this.i2c));
      else this.leftOpenI2c = this.i2c;
    }
    this.i2c = undefined;
    if (this.armed) await step('BSCX off', pack.bscx(0));
    this.armed = false;
    if (this.events && this.pi.notifyHandle !== undefined) await step('EVM off', pack.evm(this.pi.notifyHandle, 0));
    this.events = false;
    this.pi.onEvent = undefined;
    await this.pi.close();
  }
}
