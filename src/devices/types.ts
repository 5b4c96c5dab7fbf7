import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Point } from '../core/point.js';
import type { Transport } from '../transports/transport.js';

/** Serial line settings; drivers give defaults, the config may override them. */
export interface SerialSettings {
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

/** What the worker hands a driver when it creates a session for one configured device. */
export interface DriverContext<Options> {
  /** Device name from the config; every point carries it as the `device` tag. */
  device: string;
  options: Options;
  /** Extra tags from the config (and site/host), added to every point. */
  tags: Record<string, string>;
  /** The link, created by the worker from the device's `port` (serial) or `simulate` entry. */
  transport: Transport;
  clock: Clock;
  log: Logger;
  /** Optional raw-capture hook (capture archive); drivers call it for every raw exchange. */
  capture?: (direction: 'rx' | 'tx', data: Buffer | string, timeMs: number) => void;
}

export interface CollectResult {
  points: Point[];
  /** Frames dropped or fields skipped this cycle, with reasons (counted, not thrown). */
  dropped?: { reason: string; count: number }[];
}

export interface DeviceSession {
  /** Open the link; stream drivers start reading here and keep the port open. */
  start(): Promise<void>;
  /**
   * One collection: poll drivers talk to the device; stream drivers hand over the
   * latest (or every) complete frame received since the previous call.
   * Throws (TransportError, DeviceError, TimeoutError) when nothing usable came.
   */
  collect(signal: AbortSignal): Promise<CollectResult>;
  close(): Promise<void>;
  /** Counters for `wattline devices` (frames ok/dropped, reopens, ...). */
  stats(): Record<string, number>;
}

export interface DecodeContext<Options> {
  device: string;
  options: Options;
  tags: Record<string, string>;
  clock: Clock;
}

export interface DecodeResult {
  points: Point[];
  /** One line each: what could not be decoded and where (`telegram 3 (line 57): bad CRC ...`). */
  errors: string[];
}

export interface Driver<Options = any> {
  id: string;
  /** One line for `wattline drivers --long` and the docs. */
  description: string;
  /** 'stream': the device pushes frames (P1); 'poll': request/response. */
  kind: 'poll' | 'stream';
  /** Driver-specific options (the device entry's `options:`), strict, with defaults. */
  options: z.ZodType<Options>;
  /**
   * 'serial' (default): the device entry names a serial `port:`. 'network': the driver's
   * options say where to connect (`networkAddress`), and the worker opens a TCP link.
   */
  link?: 'serial' | 'network';
  /** Serial settings used when the config gives a port path without them. */
  defaultSerial?: (options: Options) => SerialSettings;
  /** For network drivers: the TCP address to connect to, from the options. */
  networkAddress?: (options: Options) => { host: string; port: number };
  createSession(ctx: DriverContext<Options>): DeviceSession;
  /** Raw capture (text or bytes) in, points out; used by `wattline decode` and backfill. */
  decode?(input: Buffer, ctx: DecodeContext<Options>): DecodeResult;
}
