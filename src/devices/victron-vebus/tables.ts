/**
 * VE.Bus "MK2 protocol" constants as data (docs/protocols/victron-vebus.md §3; the MK2 Protocol 3.14 document
 * as quoted by j9brown/victron-mk3, [ext]). Nothing here does I/O.
 */

/** Marker after `len` of command frames, and of info frames (replies to `F 0…4`), §3.2. */
export const MARKER_COMMAND = 0xff;
export const MARKER_INFO = 0x20;

/** Bit 7 of `len`: two LED bytes (on, blink) follow the data, before the checksum (§3.2; layout [inferred]). */
export const LEN_LED_FLAG = 0x80;
export const LEN_MASK = 0x7f;

export const CMD = {
  version: 0x56, // 'V'
  address: 0x41, // 'A'
  led: 0x4c, // 'L'
  info: 0x46, // 'F'
} as const;

/** Winmon letters: interchangeable, the reply carries the request's letter (§3.2 [ext]). */
export const LETTERS = [0x57, 0x58, 0x59, 0x5a] as const; // W X Y Z
export type Letter = (typeof LETTERS)[number];
export const LETTER_X: Letter = 0x58;

/** Winmon sub-commands (the byte after the letter). */
export const WCMD = {
  readRamVar: 0x30,
  getRamVarInfo: 0x36,
  writeViaId: 0x37,
  readSnapshot: 0x38,
} as const;

/** First data byte of a Winmon reply. */
export const WREPLY = {
  commandNotSupported: 0x80,
  readRamOk: 0x85,
  ramWriteOk: 0x87,
  varInfoScale: 0x8e,
  varInfoOffset: 0x8f,
  variableNotSupported: 0x90,
  accessLevelRequired: 0x9b,
  snapshot: 0x99,
} as const;

/** `F` arguments: 0 DC info, 1…4 AC info of L1…L4, 6 snapshot trigger (§3.4). */
export const INFO_DC = 0;
export const INFO_SNAPSHOT = 6;
/** Phase-info byte of an info frame: 0x0C DC; 0x08…0x0B L1 of a 1…4-phase system; 0x07 L2, 0x06 L3, 0x05 L4 [ext]. */
export const PHASE_INFO_DC = 0x0c;

/** WriteViaID flags: bit 1 = RAM only, never EEPROM (§3.4, the 2025 change). */
export const WRITE_FLAG_RAM_ONLY = 0x02;

/** Raw frames sent verbatim: they do not follow the checksum rule (§3.4 notes). */
export const WAKEUP_FRAME: readonly number[] = [0x05, 0x3f, 0x07, 0x00, 0x00, 0x00, 0xc2];
export const SLEEP_FRAME: readonly number[] = [0x05, 0x3f, 0x04, 0x00, 0x00, 0x00, 0xc5];

/** RAM variable ids (MK2 protocol 3.14, as listed in §3.6 and [ext]). */
export const RAM = {
  uMains: 0,
  iMains: 1,
  uInverter: 2,
  iInverter: 3,
  uBat: 4,
  iBat: 5,
  inverterPeriod: 7,
  mainsPeriod: 8,
  chargeState: 13,
  inverterPower: 15,
  outputPower: 16,
} as const;

/** What the poll's snapshot asks for, in this order (§3.4: `F 06 0F 10 04 05 0D`). */
export const SNAPSHOT_IDS: readonly number[] = [RAM.inverterPower, RAM.outputPower, RAM.uBat, RAM.iBat, RAM.chargeState];

/** Variables whose scale/offset the session reads (0x36) once per connection. */
export const VAR_INFO_IDS: readonly number[] = [0, 1, 2, 3, 4, 5, 7, 8, 13, 15, 16];

/** Scale and offset of a RAM variable: value = scale × (raw + offset), raw read signed when `signed`. */
export interface VarInfo {
  scale: number;
  signed: boolean;
  offset: number;
  /** Bit variables (offset field 0x8000): the value is this bit of raw. */
  bit?: number;
}

/**
 * Used when a device does not answer 0x36 for a variable, and by decodeCapture for records
 * without 0x36 exchanges. The original's divisors (§3.5-§3.6: U, I /100, UBat /100, IBat /10,
 * SOC /2 %) and a bench MultiPlus-II's 0x36 answers [ext] (periods: 1/977 and 1/1953 + 256).
 * The inverter current is read signed: MultiPlus-IIs report negative values [ext].
 */
export const DEFAULT_VAR_INFO: Readonly<Record<number, VarInfo>> = {
  0: { scale: 0.01, signed: false, offset: 0 },
  1: { scale: 0.01, signed: true, offset: 0 },
  2: { scale: 0.01, signed: false, offset: 0 },
  3: { scale: 0.01, signed: true, offset: 0 },
  4: { scale: 0.01, signed: false, offset: 0 },
  5: { scale: 0.1, signed: true, offset: 0 },
  7: { scale: 1 / 1953, signed: false, offset: 256 },
  8: { scale: 1 / 977, signed: false, offset: 0 },
  13: { scale: 1 / 200, signed: false, offset: 0 },
  15: { scale: 1, signed: true, offset: 0 },
  16: { scale: 1, signed: true, offset: 0 },
};

/**
 * RAM variables read signed whatever the unit's 0x36 answer says. Victron's own
 * MK2 code (velib, `Mk2RawAcPhase`) declares the inverter current `sn16 inverterI`, and casts
 * the mains current to sn16 because "vebus does return a signed value, but the value info is
 * not updated accordingly": a MultiPlus 24/3000 answers id 3 with an unsigned 1/100 scale and
 * then sends fe ff for −0.02 A. The other variables keep the sign the unit declares.
 */
export const SIGNED_RAM_IDS: ReadonlySet<number> = new Set([RAM.iMains, RAM.iInverter]);

/** Device state byte of the AC info frame (§3.5). Its integer is the `state` field. */
export const DEVICE_STATES: readonly string[] = ['down', 'startup', 'off', 'slave', 'invert_full', 'invert_half', 'invert_aes', 'power_assist', 'bypass', 'charge'];

/** LED bits (§3.7), bit 0 first; `led_<name>` fields. */
export const LED_NAMES: readonly string[] = ['mains', 'absorption', 'bulk', 'float', 'inverter', 'overload', 'low_bat', 'temperature'];

/** ESS assistant (§3.4): the header word's upper 12 bits are the assistant id, 5 = ESS. */
export const ESS_ASSISTANT_MASK = 0xfff0;
export const ESS_ASSISTANT_ID = 0x0050;
export const ESS_SCAN_START = 128;
export const ESS_SCAN_MAX_READS = 8;
