import type { EventEmitter } from 'node:events';

/**
 * A byte link to one device or bus. It moves bytes and knows no device.
 *
 * Events: 'data' (Buffer chunk), 'close' (link went away; `open()` may be called
 * again), 'error' (Error). Implementations: serial (serialport), sim (in memory).
 */
export interface Transport extends EventEmitter {
  /**
   * Identity of the physical port or bus, e.g. `serial:/dev/ttyUSB0`.
   * Jobs whose transports share a key are run one at a time.
   */
  readonly key: string;
  readonly isOpen: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
  write(data: Uint8Array): Promise<void>;
}

export interface TransportEvents {
  data: [chunk: Buffer];
  close: [err?: Error];
  error: [err: Error];
}
