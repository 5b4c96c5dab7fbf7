/**
 * One open serial port under SerialTransport: the bytes in and out, and how it ends.
 *
 * Two kinds: the tty link (Linux: serialport's native binding sets termios once, Node's own
 * tty stream moves the bytes; serial-tty.ts) and the serialport stream (every other
 * platform, and any port the tty link cannot take; serial-stream.ts). Both report through
 * the same three callbacks, and `closed` exactly once.
 */
import type { SerialSettings } from './serial-settings.js';

export interface SerialLinkEvents {
  data(chunk: Buffer): void;
  error(err: Error): void;
  /** The link is gone: closed by us (no error) or lost (the reason). Called once. */
  closed(err?: Error): void;
}

export interface SerialLink {
  readonly kind: 'tty' | 'serialport';
  /** Resolves when the bytes are handed on (tty: to the kernel; serialport: drained). */
  write(data: Buffer): Promise<void>;
  /** Ends the link; `why` given, it is reported to `closed` as a disconnect. */
  close(why?: Error): Promise<void>;
}

export interface SerialLinkOptions extends SerialSettings {
  path: string;
}

/** Settings a port cannot take: trying again cannot help (same checks as serialport's). */
export function badSettings(s: SerialSettings): string | undefined {
  if (!Number.isInteger(s.baudRate) || s.baudRate <= 0) return `baudRate ${String(s.baudRate)} is not a positive integer`;
  if (![5, 6, 7, 8].includes(s.dataBits)) return `dataBits ${String(s.dataBits)} is not 5, 6, 7 or 8`;
  if (![1, 2].includes(s.stopBits)) return `stopBits ${String(s.stopBits)} is not 1 or 2`;
  if (!['none', 'even', 'odd'].includes(s.parity)) return `parity ${String(s.parity)} is not none, even or odd`;
  return undefined;
}
