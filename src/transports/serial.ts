/**
 * A serial port.
 *
 * It moves bytes and knows no device. On Linux the bytes go through a tty link (serial-tty.ts:
 * serialport's binding sets termios once, Node's tty stream reads and writes), elsewhere, or
 * when asked (`link: 'serialport'`), through serialport's stream (serial-stream.ts). Each
 * open() opens the path afresh, so a port that disappeared and came back under the same path
 * (a USB adapter replugged, a udev symlink, a PTY link recreated) is found again. Reopening is
 * the session's policy, not this class's. Nothing below may throw unhandled: callbacks and
 * events are turned into promise results and this emitter's 'data' / 'close' / 'error'.
 *
 * A hung-up tty can read as end-of-file forever instead of failing (a PTY whose other side
 * went away does through serialport 13, which then re-reads without end and never reports
 * the loss), so while the serialport stream is open the path is checked every
 * `presenceCheckMs`: when it is gone or now names another device, the port is closed as
 * disconnected. The tty link needs no such check: the kernel's hang-up (EIO, or end of file
 * after a USB adapter's vhangup) closes it as lost, and a timer waking an idle worker every
 * second cost more CPU than the stat (issue 24: ≈ 0.1 ms a second per port).
 */
import { EventEmitter } from 'node:events';
import { statSync, type Stats } from 'node:fs';
import { TransportError, errorMessage } from '../core/errors.js';
import type { SerialSettings } from './serial-settings.js';
import { badSettings, type SerialLink, type SerialLinkEvents } from './serial-link.js';
import { openStreamLink } from './serial-stream.js';
import { openTtyLink } from './serial-tty.js';
import type { Transport } from './transport.js';

export interface SerialTransportOptions extends SerialSettings {
  path: string;
  /** How often (ms) to check that the device node is still there while the serialport stream is open; 0 = never (the tty link sees a hang-up itself). */
  presenceCheckMs?: number;
  /** 'serialport': always serialport's stream, never the tty link (default: the tty link where it applies). */
  link?: 'auto' | 'serialport';
}

export class SerialTransport extends EventEmitter implements Transport {
  readonly key: string;
  private link: SerialLink | undefined;
  private opening: Promise<void> | undefined;
  private presence: NodeJS.Timeout | undefined;

  constructor(readonly options: SerialTransportOptions) {
    super();
    this.key = `serial:${options.path}`;
  }

  get isOpen(): boolean {
    return this.link !== undefined;
  }

  /** Which link carries the bytes while open. */
  get linkKind(): SerialLink['kind'] | undefined {
    return this.link?.kind;
  }

  open(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    this.opening ??= this.doOpen().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async doOpen(): Promise<void> {
    const { path } = this.options;
    const bad = badSettings(this.options);
    if (bad) throw new TransportError(`${path}: cannot use these serial settings: ${bad}`, false);
    const slot: { link?: SerialLink } = {};
    const events: SerialLinkEvents = {
      data: (chunk) => this.emit('data', chunk),
      error: (err) => {
        // An emitter with no 'error' listener throws; a lost error is better than a crash.
        if (this.listenerCount('error') > 0) this.emit('error', new TransportError(`${path}: ${errorMessage(err)}`, true, { cause: err }));
      },
      closed: (err) => {
        if (this.link === slot.link) {
          this.link = undefined;
          clearInterval(this.presence);
        }
        this.emit('close', err ? new TransportError(`${path}: disconnected (${errorMessage(err)})`, true, { cause: err }) : undefined);
      },
    };
    try {
      slot.link = (this.options.link === 'serialport' ? undefined : await openTtyLink(this.options, events)) ?? (await openStreamLink(this.options, events));
    } catch (err) {
      throw err instanceof TransportError ? err : openError(path, err as Error);
    }
    this.link = slot.link;
    this.watchPresence(slot.link);
  }

  private watchPresence(link: SerialLink): void {
    const every = this.options.presenceCheckMs ?? 1000;
    if (every <= 0 || link.kind === 'tty') return;
    let opened: Stats;
    try {
      opened = statSync(this.options.path);
    } catch {
      return;
    }
    clearInterval(this.presence);
    // statSync, not stat: a device node's stat never blocks, and the libuv pool's round trip
    // (two thread wake-ups a second per port) cost more CPU than the stat itself.
    this.presence = setInterval(() => {
      if (this.link !== link) return;
      let now: Stats | undefined;
      try {
        now = statSync(this.options.path);
      } catch {
        now = undefined;
      }
      if (now && now.rdev === opened.rdev && now.ino === opened.ino) return;
      // Close as a disconnect: the link's 'closed' reports it.
      void link.close(new Error(now ? 'device node now names another device' : 'device node is gone'));
    }, every);
    this.presence.unref();
  }

  /** Closes the port; a second call (or a call on a closed port) does nothing. */
  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    await this.link?.close();
  }

  async write(data: Uint8Array): Promise<void> {
    const link = this.link;
    if (!link) throw new TransportError(`${this.options.path}: write on a closed port`, true);
    try {
      await link.write(Buffer.isBuffer(data) ? data : Buffer.from(data));
    } catch (err) {
      throw new TransportError(`${this.options.path}: write failed: ${errorMessage(err)}`, true, { cause: err });
    }
  }
}

/** Opening failed: name the path; a missing or busy port may come back, a refused one needs a person. */
function openError(path: string, err: Error): TransportError {
  const msg = errorMessage(err);
  if (/ENOENT|No such file/i.test(msg)) return new TransportError(`${path}: no such serial port (unplugged, or a wrong path?)`, true, { cause: err });
  if (/EACCES|Permission denied/i.test(msg)) {
    return new TransportError(`${path}: permission denied (add the user to the dialout group)`, true, { cause: err });
  }
  return new TransportError(`${path}: cannot open: ${msg}`, true, { cause: err });
}
