/**
 * A serial port through `serialport` (node-serialport 13).
 *
 * It moves bytes and knows no device. Each open() makes a fresh SerialPort, so a port that
 * disappeared and came back under the same path (a USB adapter replugged, a udev symlink, a
 * PTY link recreated) is found again. Reopening is the session's policy, not this class's.
 * Nothing from serialport may throw unhandled: its callbacks and events are turned into
 * promise results and this emitter's 'data' / 'close' / 'error'.
 *
 * A hung-up tty can read as end-of-file forever instead of failing (a PTY whose other side
 * went away does; serialport 13 then re-reads without end and never reports the loss), so
 * while open the path is checked every `presenceCheckMs`: when it is gone or now names
 * another device, the port is closed as disconnected.
 */
import { EventEmitter } from 'node:events';
import { stat, statSync, type Stats } from 'node:fs';
import type { SerialPort } from 'serialport';
import { TransportError, errorMessage } from '../core/errors.js';
import type { SerialSettings } from './serial-settings.js';
import type { Transport } from './transport.js';

export interface SerialTransportOptions extends SerialSettings {
  path: string;
  /** How often (ms) to check that the device node is still there while open; 0 = never. */
  presenceCheckMs?: number;
}

export class SerialTransport extends EventEmitter implements Transport {
  readonly key: string;
  private port: SerialPort | undefined;
  private opening: Promise<void> | undefined;
  private presence: NodeJS.Timeout | undefined;

  constructor(readonly options: SerialTransportOptions) {
    super();
    this.key = `serial:${options.path}`;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  open(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    this.opening ??= this.doOpen().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async doOpen(): Promise<void> {
    const { path, baudRate, dataBits, parity, stopBits } = this.options;
    // Loaded on first open: serialport and its native binding cost ~13 MB resident,
    // which a worker with only simulated or network devices should not pay.
    const { SerialPort } = await import('serialport');
    return new Promise<void>((resolve, reject) => {
      let port: SerialPort;
      try {
        port = new SerialPort({ path, baudRate, dataBits, parity, stopBits, autoOpen: false });
      } catch (err) {
        // Invalid settings: trying again cannot help.
        reject(new TransportError(`${path}: cannot use these serial settings: ${errorMessage(err)}`, false, { cause: err }));
        return;
      }
      port.open((err) => {
        if (err) {
          port.removeAllListeners();
          reject(openError(path, err));
          return;
        }
        this.attach(port);
        resolve();
      });
    });
  }

  private attach(port: SerialPort): void {
    this.port = port;
    this.watchPresence(port);
    port.on('data', (chunk: Buffer) => this.emit('data', chunk));
    port.on('error', (err: Error) => {
      // An emitter with no 'error' listener throws; a lost error is better than a crash.
      if (this.listenerCount('error') > 0) this.emit('error', new TransportError(`${this.options.path}: ${errorMessage(err)}`, true, { cause: err }));
    });
    port.on('close', (err?: Error | null) => {
      if (this.port === port) this.port = undefined;
      clearInterval(this.presence);
      port.removeAllListeners();
      port.on('error', () => undefined); // late errors of a dead port go nowhere
      const why = err ? new TransportError(`${this.options.path}: disconnected (${errorMessage(err)})`, true, { cause: err }) : undefined;
      this.emit('close', why);
    });
  }

  private watchPresence(port: SerialPort): void {
    const every = this.options.presenceCheckMs ?? 1000;
    if (every <= 0) return;
    let opened: Stats;
    try {
      opened = statSync(this.options.path);
    } catch {
      return;
    }
    clearInterval(this.presence);
    this.presence = setInterval(() => {
      stat(this.options.path, (err, now) => {
        if (this.port !== port || !port.isOpen) return;
        if (!err && now.rdev === opened.rdev && now.ino === opened.ino) return;
        // Close as a disconnect: the 'close' handler above reports it.
        port.close(() => undefined, new Error(err ? 'device node is gone' : 'device node now names another device'));
      });
    }, every);
    this.presence.unref();
  }

  /** Closes the port; a second call (or a call on a closed port) does nothing. */
  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    const port = this.port;
    if (!port || !port.isOpen) return;
    await new Promise<void>((resolve) => {
      port.close((err) => {
        // Closing a port that vanished under us reports an error; it is closed either way.
        if (err && this.listenerCount('error') > 0) this.emit('error', new TransportError(`${this.options.path}: close: ${errorMessage(err)}`, true, { cause: err }));
        resolve();
      });
    });
  }

  async write(data: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port || !port.isOpen) throw new TransportError(`${this.options.path}: write on a closed port`, true);
    await new Promise<void>((resolve, reject) => {
      port.write(Buffer.from(data), (err) => {
        if (err) reject(new TransportError(`${this.options.path}: write failed: ${errorMessage(err)}`, true, { cause: err }));
        else port.drain((e) => (e ? reject(new TransportError(`${this.options.path}: drain failed: ${errorMessage(e)}`, true, { cause: e })) : resolve()));
      });
    });
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
