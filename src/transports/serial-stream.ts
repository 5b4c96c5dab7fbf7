/**
 * The serialport stream as a serial link: every platform the tty link (serial-tty.ts) does not
 * cover, and any port it cannot take. Loaded on first use: serialport and its native binding
 * cost ~13 MB resident, which a worker with only simulated or network devices should not pay.
 */
import type { SerialPort } from 'serialport';
import { TransportError, errorMessage } from '../core/errors.js';
import type { SerialLink, SerialLinkEvents, SerialLinkOptions } from './serial-link.js';

export async function openStreamLink(options: SerialLinkOptions, events: SerialLinkEvents): Promise<SerialLink> {
  const { SerialPort } = await import('serialport');
  const { path, baudRate, dataBits, parity, stopBits } = options;
  let port: SerialPort;
  try {
    port = new SerialPort({ path, baudRate, dataBits, parity, stopBits, autoOpen: false });
  } catch (err) {
    // Invalid settings: trying again cannot help.
    throw new TransportError(`${path}: cannot use these serial settings: ${errorMessage(err)}`, false, { cause: err });
  }
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (err) {
        port.removeAllListeners();
        reject(err);
      } else resolve();
    });
  });
  return new StreamLink(port, events);
}

class StreamLink implements SerialLink {
  readonly kind = 'serialport' as const;

  constructor(
    private readonly port: SerialPort,
    private readonly events: SerialLinkEvents,
  ) {
    port.on('data', (chunk: Buffer) => events.data(chunk));
    port.on('error', (err: Error) => events.error(err));
    port.on('close', (err?: Error | null) => {
      port.removeAllListeners();
      port.on('error', () => undefined); // late errors of a dead port go nowhere
      events.closed(err ?? undefined);
    });
  }

  write(data: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.port.write(data, (err) => {
        if (err) reject(err);
        else this.port.drain((e) => (e ? reject(e) : resolve()));
      });
    });
  }

  close(why?: Error): Promise<void> {
    if (!this.port.isOpen) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.port.close((err) => {
        // Closing a port that vanished under us reports an error; it is closed either way.
        if (err) this.events.error(new Error(`close: ${errorMessage(err)}`, { cause: err }));
        resolve();
      }, why);
    });
  }
}
