import type { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { FieldValue, Point } from '../core/point.js';
import type { SerialSettings } from '../transports/serial-settings.js';
import type { Transport } from '../transports/transport.js';

// The transports own the type (a serial port is theirs); drivers name it from here, beside the rest of their contract.
export type { SerialSettings } from '../transports/serial-settings.js';

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
  /** `wattline test`: write nothing, caches included (read what exists, keep the rest in memory). */
  readOnly?: boolean;
  /** `once`/`test`: the process ends after this collection; messages must not promise a retry. */
  oneShot?: boolean;
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
  /** Handles a decoder may keep open from one call to the next of the same run (the Itho
   *  parameter map), closed by whoever made the context when the run ends; absent: open and
   *  close within each call. */
  held?: HeldHandles;
}

/** Run-scoped open things, one per key; `open` runs on the first `get` of a key. */
export interface HeldHandles {
  get<T extends { close(): void }>(key: string, open: () => T): T;
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
  /**
   * Of pathOptions, the files read and never written (a parameter map, a CA): they must exist
   * before the worker starts. The others are written, so their folder must be writable.
   */
  inputFiles?: readonly string[];
  /** Control verbs (outlet switching, set-points); absent when the driver offers none. */
  control?: DriverControl<Options>;
  /** What every measurement and field it emits is (docs/fields.md): read by MQTT discovery and any other output. */
  fields?: DriverFields;
}

// --- Field metadata (docs/fields.md) --------------------------------------------------------

/**
 * What a field measures. Home Assistant's device class where one fits; `count` (events,
 * sockets, channels), `number` (a value whose unit the driver cannot know in advance, such as
 * the Itho parameter map's entries), `state` (a code with known values, a bit mask), `flag`
 * (0/1 or boolean condition) and `text` carry no unit.
 */
export type Quantity =
  | 'energy'
  | 'reactive_energy'
  | 'power'
  | 'apparent_power'
  | 'reactive_power'
  | 'power_factor'
  | 'voltage'
  | 'current'
  | 'frequency'
  | 'temperature'
  | 'percentage'
  | 'battery'
  | 'duration'
  | 'volume'
  | 'gas'
  | 'water'
  | 'count'
  | 'number'
  | 'state'
  | 'flag'
  | 'text';

/**
 * How a field's value behaves over time: `counter` only grows (a meter reading; Home
 * Assistant `total_increasing`, Prometheus counter), `gauge` goes up and down (`measurement`),
 * `state` is a code or text read as it is (no statistics), `info` is a rating, setting or
 * identifier that rarely changes (Home Assistant shows it under "Diagnostic").
 */
export type FieldKind = 'counter' | 'gauge' | 'state' | 'info';

/** What a set flag means (Home Assistant's binary sensor classes). */
export type FlagMeaning = 'problem' | 'power' | 'battery_low' | 'battery_charging';

export interface FieldSpec {
  quantity: Quantity;
  /** Unit of the value as written (`kWh`, `W`, `V`, `°C`, `%`, `s`, `m³`); none for count/number/state/flag/text. */
  unit?: string;
  kind: FieldKind;
  /** Display name; default: the key without its unit suffix, `_` as spaces (`energy_import_t1_kwh` → `energy import t1`). */
  name?: string;
  /** Physically plausible range of the value, in `unit` (the device's documents): outside it a reading is suspect. */
  min?: number;
  max?: number;
  /** State codes (or texts) and their words: `{ '0': 'off', '1': 'on' }`. */
  states?: Readonly<Record<string, string>>;
  /** quantity `flag`: what it means when set. */
  flag?: FlagMeaning;
  /** The quantity told by a tag's value (P1 M-Bus: `mbus_type` gas or water); others keep `quantity`. */
  quantityByTag?: { tag: string; values: Readonly<Partial<Record<string, Quantity>>> };
}

export interface MeasurementFields {
  /**
   * Tags that tell this measurement's series apart within one device, in topic order
   * (`['unit', 'channel']`); [] for one series per device. Omitted: the identifying tags
   * (docs/fields.md "Names") `unit`, `outlet`, `channel`, `phase`, `source`, those a point
   * carries (`CONVENTION_SERIES`).
   */
  series?: readonly string[];
  fields: Readonly<Record<string, FieldSpec>>;
  /** Fields whose keys are not known in advance (names from a parameter map), tried in order after `fields`; a function describes the key it matched. */
  patterns?: readonly (readonly [RegExp, FieldSpec | ((field: string) => FieldSpec)])[];
}

/** Who made the device and what it is, as far as its points tell (for discovery's device block). */
export interface DeviceIdentity {
  manufacturer?: string;
  model?: string;
  firmware?: string;
}

/** A control verb pair offered as an on/off switch per target (an outlet). */
export interface SwitchEntity {
  component: 'switch';
  /** Topic level after the device: `outlet`. */
  path: string;
  /** Where targets and their state come from: points of this measurement, the target in this tag. */
  measurement: string;
  targetTag: string;
  onVerb: string;
  offVerb: string;
  /** ON/OFF from a collected point's fields; undefined when the point does not say. */
  state(fields: Record<string, FieldValue>): 'ON' | 'OFF' | undefined;
}

/** A control verb taking one number, offered as a number entity (a set-point). */
export interface NumberEntity {
  component: 'number';
  path: string;
  verb: string;
  /** The verb's widest range (the options' schema bounds). */
  min: number;
  max: number;
  step: number;
  unit?: string;
  quantity?: Quantity;
  /** The range this device's config allows (narrower than min/max), when the driver's options say. */
  limits?: (options: unknown) => { min: number; max: number } | undefined;
  /** A collected field that reports the current value, when the driver has one. */
  stateFrom?: { measurement: string; field: string };
}

export type ControlEntity = SwitchEntity | NumberEntity;

/** A driver's field metadata: every measurement and field it emits, its maker, its switchable commands. */
export interface DriverFields {
  manufacturer?: string;
  measurements: Readonly<Record<string, MeasurementFields>>;
  /** Model, maker and firmware from one point, where the driver reports them; default: `identityFromPoint`. */
  identify?(point: Point): DeviceIdentity;
  /** Control verbs offered as switches and numbers (MQTT `…/set`, Home Assistant entities); each still only where `control.prepare` allows it. */
  entities?: readonly ControlEntity[];
}
