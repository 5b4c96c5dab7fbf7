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
  /**
   * Carry out one control request prepared by the driver's `control.prepare` (already
   * validated and allowed). Called with the device's port lock held, on a started or a
   * fresh session (the CLI without a running worker: start → control → close). A refusal by
   * the device (NAK, ERR) is a DeviceError; no reply a TimeoutError.
   */
  control?(request: ControlRequest, signal: AbortSignal): Promise<ControlResult>;
}

/** One verb a driver offers: `wattline control <device> <verb> [args...]`, MQTT commands. */
export interface ControlVerbSpec {
  name: string;
  /** Argument synopsis for --help: `<outlet|A> <delay>`. */
  usage: string;
  description: string;
  /** Reads only (memory maps, settings): allowed without any control config. */
  readOnly?: boolean;
  /** The CLI asks "type YES" before sending unless --yes (writes to device settings). */
  confirm?: boolean;
}

export interface ControlRequest {
  verb: string;
  /** Driver-specific, already parsed and validated. */
  params: unknown;
  /** One line for logs and confirmations: `shutdown outlet 3 in 0.5 min`. */
  summary: string;
}

export interface ControlResult {
  /** One line for the user. */
  message: string;
  /** Structured outcome for `--format json` and MQTT state topics. */
  data?: Record<string, unknown>;
}

export interface DriverControl<Options> {
  /** CLI alias besides `wattline control`: `pdu` gives `wattline pdu <device> <verb>`. */
  cliName?: string;
  verbs: readonly ControlVerbSpec[];
  /**
   * Pure, no I/O: parse and validate the arguments (InputError naming the accepted ranges)
   * and check that the device's config allows the verb for this target (ConfigError when not).
   */
  prepare(verb: string, args: readonly string[], options: Options, device: string): ControlRequest;
}

/** One stored raw exchange (capture archive, `wattline captures`, backfill). */
export interface CaptureRecord {
  timeMs: number;
  direction: 'rx' | 'tx';
  data: Buffer;
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
  /** Speaks Modbus: its port may also be a Modbus TCP server (`modbus+tcp://`, Transport.framing 'mbap'). */
  modbus?: boolean;
  /** Serial settings used when the config gives a port path without them. */
  defaultSerial?: (options: Options) => SerialSettings;
  /** For network drivers: the TCP address to connect to, from the options. */
  networkAddress?: (options: Options) => { host: string; port: number };
  createSession(ctx: DriverContext<Options>): DeviceSession;
  /** Raw capture (text or bytes) in, points out; used by `wattline decode` and backfill. */
  decode?(input: Buffer, ctx: DecodeContext<Options>): DecodeResult;
  /**
   * Re-decode archived exchanges into the points the live session made from them, with the
   * same timestamps. Poll drivers get the records of one collect() (the worker groups them),
   * stream drivers one record per call. Rule shared with the live session: a poll's points
   * carry the timeMs of that poll's first capture record.
   */
  decodeCapture?(records: readonly CaptureRecord[], ctx: DecodeContext<Options>): DecodeResult;
  /**
   * Option keys (dotted: `tls.ca`) that hold file paths: a config file's relative paths are
   * resolved against the config file's folder before the driver sees them.
   */
  pathOptions?: readonly string[];
  /** Control verbs (outlet switching, set-points); absent when the driver offers none. */
  control?: DriverControl<Options>;
}
