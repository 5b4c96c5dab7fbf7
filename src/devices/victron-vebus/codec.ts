/**
 * Pure VE.Bus codec: request frames built with their checksum, reply frames
 * decoded into values. No I/O, no clock. Facts: docs/protocols/victron-vebus.md §3 and tables.ts.
 *
 * A frame is `len marker data… chk`: len counts the marker and data (bit 7: two LED bytes
 * follow the data), and all bytes, len and chk included, sum to 0 mod 256 (§3.2).
 */
import { FrameError } from '../../core/errors.js';
import { CMD, DEFAULT_VAR_INFO, INFO_SNAPSHOT, LEN_LED_FLAG, MARKER_COMMAND, MARKER_INFO, PHASE_INFO_DC, SIGNED_RAM_IDS, WCMD, WREPLY, WRITE_FLAG_RAM_ONLY, type Letter, type VarInfo } from './tables.js';

export interface VebusFrame {
  /** The whole frame, len through checksum. */
  raw: Buffer;
  marker: number;
  /** From the marker through the last data byte (no LED bytes, no checksum): payload[0] is the marker. */
  payload: Buffer;
  /** LED bytes appended when bit 7 of len was set. */
  leds?: { on: number; blink: number };
}

/** (256 − sum) & 0xFF: the byte that makes the frame sum to 0 mod 256. */
export function checksum(bytes: ArrayLike<number>, end = bytes.length): number {
  let sum = 0;
  for (let i = 0; i < end; i++) sum += bytes[i]!;
  return (256 - (sum & 0xff)) & 0xff;
}

/** A frame from its payload (marker first): len and checksum added. */
export function buildFrame(payload: readonly number[]): Buffer {
  if (payload.length < 2 || payload.length > 0x7f) throw new RangeError(`VE.Bus payload of ${payload.length} bytes (2…127)`);
  const out = Buffer.alloc(payload.length + 2);
  out[0] = payload.length;
  for (let i = 0; i < payload.length; i++) out[i + 1] = payload[i]! & 0xff;
  out[out.length - 1] = checksum(out, out.length - 1);
  return out;
}

/** Parse one whole frame (the framer's output, or a capture record); throws FrameError. */
export function parseFrame(raw: Buffer): VebusFrame {
  if (raw.length < 4) throw new FrameError(`VE.Bus frame of ${raw.length} bytes is too short`, 'length');
  const len = raw[0]! & 0x7f;
  const withLeds = (raw[0]! & LEN_LED_FLAG) !== 0;
  const total = len + 2 + (withLeds ? 2 : 0);
  if (raw.length !== total) throw new FrameError(`VE.Bus frame: len 0x${hex(raw[0]!)} means ${total} bytes, got ${raw.length}`, 'length');
  if (checksum(raw) !== 0) throw new FrameError(`VE.Bus frame ${hexdump(raw)}: bad checksum`, 'checksum');
  const frame: VebusFrame = { raw, marker: raw[1]!, payload: raw.subarray(1, 1 + len) };
  if (withLeds) frame.leds = { on: raw[1 + len]!, blink: raw[2 + len]! };
  return frame;
}

// ---- requests -------------------------------------------------------------------------

const cmdFrame = (cmd: number, ...data: number[]) => buildFrame([MARKER_COMMAND, cmd, ...data]);

export const versionRequest = (): Buffer => cmdFrame(CMD.version);
/** `A 01 <addr>`: select the device address (action 1 = set). */
export const addressRequest = (address: number): Buffer => cmdFrame(CMD.address, 0x01, address);
export const ledRequest = (): Buffer => cmdFrame(CMD.led);
/** `F <n>`: 0 DC info, 1…4 AC info of a phase. */
export const infoRequest = (n: number): Buffer => cmdFrame(CMD.info, n);
/** `F 06 <ids>`: take a snapshot of these RAM variables (no reply). */
export const snapshotTrigger = (ids: readonly number[]): Buffer => cmdFrame(CMD.info, INFO_SNAPSHOT, ...ids);
export const snapshotRead = (letter: Letter): Buffer => cmdFrame(letter, WCMD.readSnapshot);
/** `X 30 <id> <id2>`: read two RAM variables (§3.4: the scan's "00" is a second id, UMains). */
export const ramReadRequest = (letter: Letter, id: number, id2 = 0): Buffer => cmdFrame(letter, WCMD.readRamVar, id, id2);
export const varInfoRequest = (letter: Letter, id: number): Buffer => cmdFrame(letter, WCMD.getRamVarInfo, id & 0xff, id >> 8);

/** `X 37 <flags> <id> <lo> <hi>`: CommandWriteViaID of a 16-bit value. */
export function writeViaIdRequest(letter: Letter, flags: number, id: number, value: number): Buffer {
  const v = value & 0xffff;
  return cmdFrame(letter, WCMD.writeViaId, flags, id, v & 0xff, v >> 8);
}

/**
 * The ESS set-point write (§3.4): watts > 0 charge the battery from AC, < 0 feed; the
 * RAM variable holds the negated value. RAM only (flag 0x02), never EEPROM.
 */
export function essPowerRequest(letter: Letter, ramId: number, watts: number): Buffer {
  if (!Number.isInteger(watts) || watts < -32767 || watts > 32767) throw new RangeError(`ESS power ${watts} W is not a 16-bit integer`);
  return writeViaIdRequest(letter, WRITE_FLAG_RAM_ONLY, ramId, -watts);
}

// ---- replies --------------------------------------------------------------------------

export interface VersionReply {
  version: number;
  /** Mode character after the version (`B`). */
  mode: string;
}

export function isCommand(f: VebusFrame, cmd: number): boolean {
  return f.marker === MARKER_COMMAND && f.payload.length >= 2 && f.payload[1] === cmd;
}

export function decodeVersion(f: VebusFrame): VersionReply {
  expectCommand(f, CMD.version, 6, 'version');
  return { version: f.payload.readUInt32LE(2), mode: f.payload.length > 6 ? String.fromCharCode(f.payload[6]!) : '' };
}

/** The address the interface answers with (`A 01 <addr>`). */
export function decodeAddress(f: VebusFrame): number {
  expectCommand(f, CMD.address, 4, 'address');
  return f.payload[3]!;
}

export interface Leds {
  on: number;
  blink: number;
}

export function decodeLeds(f: VebusFrame): Leds {
  expectCommand(f, CMD.led, 4, 'LED');
  return { on: f.payload[2]!, blink: f.payload[3]! };
}

/** The info frame's phase byte: 0 for DC, 1…4 for an AC phase, undefined otherwise. */
export function infoKind(f: VebusFrame): number | undefined {
  if (f.marker !== MARKER_INFO || f.payload.length < 15) return undefined;
  const p = f.payload[5]!;
  if (p === PHASE_INFO_DC) return 0;
  if (p >= 0x05 && p <= 0x0b) return Math.max(9 - p, 1);
  return undefined;
}

export interface AcInfo {
  phase: number;
  /** Phases of the system, from an L1 frame's phase byte (0x08…0x0B); undefined on L2…L4. */
  phases: number | undefined;
  state: number;
  mainsFactor: number;
  inverterFactor: number;
  mainsV: number;
  mainsA: number;
  inverterV: number;
  inverterA: number;
  mainsPeriod: number;
  mainsHz: number | undefined;
}

type Infos = Readonly<Record<number, VarInfo>>;
/** A variable's info: the unit's answer (or the default), with the sign Victron's definitions force (SIGNED_RAM_IDS). */
function infoFor(infos: Infos, id: number): VarInfo {
  const info = infos[id] ?? DEFAULT_VAR_INFO[id]!;
  return SIGNED_RAM_IDS.has(id) && !info.signed && info.bit === undefined ? { ...info, signed: true } : info;
}

/** AC info (reply to `F 01…04`), §3.5: values scaled by the RAM-variable info of ids 0-3 and 8. */
export function decodeAcInfo(f: VebusFrame, infos: Infos = DEFAULT_VAR_INFO): AcInfo {
  const phase = infoKind(f);
  if (phase === undefined || phase === 0) throw new FrameError(`not an AC info frame: ${hexdump(f.raw)}`, 'unexpected');
  const p = f.payload;
  const phaseByte = p[5]!;
  const period = p[14]!;
  return {
    phase,
    phases: phaseByte >= 0x08 ? phaseByte - 7 : undefined,
    state: p[4]!,
    mainsFactor: p[1]!,
    inverterFactor: p[2]!,
    mainsV: round(scaled(p.readUInt16LE(6), 2, infoFor(infos, 0)), 4),
    mainsA: round(scaled(p.readUInt16LE(8), 2, infoFor(infos, 1)) * p[1]!, 4),
    inverterV: round(scaled(p.readUInt16LE(10), 2, infoFor(infos, 2)), 4),
    inverterA: round(scaled(p.readUInt16LE(12), 2, infoFor(infos, 3)) * p[2]!, 4),
    mainsPeriod: period,
    mainsHz: frequency(period, infoFor(infos, 8)),
  };
}

export interface DcInfo {
  batteryV: number;
  /** From the battery into the inverter, A. */
  inverterA: number;
  /** From the charger into the battery, A. */
  chargerA: number;
  inverterPeriod: number;
  inverterHz: number | undefined;
}

/** DC info (reply to `F 00`) [ext]: UBat (id 4 info), two 24-bit currents (id 5 info), the inverter period (id 7). */
export function decodeDcInfo(f: VebusFrame, infos: Infos = DEFAULT_VAR_INFO): DcInfo {
  if (infoKind(f) !== 0) throw new FrameError(`not a DC info frame: ${hexdump(f.raw)}`, 'unexpected');
  const p = f.payload;
  const i5 = infoFor(infos, 5);
  return {
    batteryV: round(scaled(p.readUInt16LE(6), 2, infoFor(infos, 4)), 4),
    inverterA: round(scaled(p.readUIntLE(8, 3), 3, i5), 4),
    chargerA: round(scaled(p.readUIntLE(11, 3), 3, i5), 4),
    inverterPeriod: p[14]!,
    inverterHz: frequency(p[14]!, infoFor(infos, 7)),
  };
}

/**
 * RAM-variable info (reply to `X 36`): undefined when the device does not know the variable.
 * A scale word that gives no finite scale (0x8000: 1 / 0) is a FrameError, never a scale.
 */
export function decodeVarInfo(f: VebusFrame): VarInfo | undefined {
  const code = winmonCode(f);
  if (code === WREPLY.variableNotSupported || code === WREPLY.commandNotSupported) return undefined;
  const p = f.payload;
  if (code !== WREPLY.varInfoScale || p.length < 8 || p[5] !== WREPLY.varInfoOffset) {
    throw new FrameError(`RAM-variable info reply ${hexdump(f.raw)}: expected 8E <scale> 8F <offset>`, 'syntax');
  }
  let field = p.readUInt16LE(3);
  const offsetField = p.readUInt16LE(6);
  if (field === 0) return undefined;
  let signed = false;
  if (field >= 0x8000) {
    field = 0x10000 - field;
    signed = true;
  }
  if (offsetField === 0x8000) {
    if (field > 16) throw new FrameError(`RAM-variable info reply ${hexdump(f.raw)}: bit ${field - 1} of a 16-bit variable`, 'syntax');
    return { scale: 1, signed: false, offset: 0, bit: field - 1 };
  }
  if (field === 0x8000) throw new FrameError(`RAM-variable info reply ${hexdump(f.raw)}: scale word 0x8000 gives no scale (1 / 0)`, 'syntax');
  const scale = field >= 0x4000 ? 1 / (0x8000 - field) : field;
  return { scale, signed, offset: offsetField >= 0x8000 ? offsetField - 0x10000 : offsetField };
}

/** The raw values of a snapshot reply (`X 99 v…`), 16-bit each, in the trigger's id order. */
export function decodeSnapshotRaw(f: VebusFrame): number[] {
  const code = winmonCode(f);
  if (code !== WREPLY.snapshot) throw new FrameError(`snapshot reply ${hexdump(f.raw)}: code 0x${hex(code ?? 0)}, expected 0x99`, 'unexpected');
  const data = f.payload.subarray(3);
  if (data.length % 2 !== 0) throw new FrameError(`snapshot reply ${hexdump(f.raw)}: odd value bytes`, 'length');
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 2) out.push(data.readUInt16LE(i));
  return out;
}

/** A snapshot's values by RAM id, scaled. */
export function decodeSnapshot(f: VebusFrame, ids: readonly number[], infos: Infos = DEFAULT_VAR_INFO): Map<number, number> {
  const raw = decodeSnapshotRaw(f);
  if (raw.length !== ids.length) throw new FrameError(`snapshot reply has ${raw.length} values for ${ids.length} ids`, 'length');
  return new Map(ids.map((id, i) => [id, scaled(raw[i]!, 2, infoFor(infos, id))]));
}

/** `X 85 <v1> <v2>`: the two 16-bit raw values read; undefined when the variable is not supported. */
export function decodeRamRead(f: VebusFrame): [number, number] | undefined {
  const code = winmonCode(f);
  if (code === WREPLY.variableNotSupported || code === WREPLY.commandNotSupported) return undefined;
  if (code !== WREPLY.readRamOk || f.payload.length < 5) throw new FrameError(`RAM read reply ${hexdump(f.raw)}: expected 85 <value>`, 'unexpected');
  return [f.payload.readUInt16LE(3), f.payload.length >= 7 ? f.payload.readUInt16LE(5) : 0];
}

/** The reply code of a Winmon frame (the byte after the letter). */
export function winmonCode(f: VebusFrame): number | undefined {
  return f.marker === MARKER_COMMAND && f.payload.length >= 3 ? f.payload[2] : undefined;
}

// ---- values ---------------------------------------------------------------------------

/** raw (of `bytes` bytes, little-endian already read) → scale × (raw + offset), signed when the info says so. */
export function scaled(raw: number, bytes: number, info: VarInfo): number {
  if (info.bit !== undefined) return (raw >> info.bit) & 1;
  const bits = 8 * bytes;
  const v = info.signed && raw >= 2 ** (bits - 1) ? raw - 2 ** bits : raw;
  // Rounded so 0.01 × 5230 is 52.3, not 52.300000000000004.
  return round(info.scale * (v + info.offset), 9);
}

/** f = 10 / (scale × (period + offset)) [ext]; undefined for a zero period. */
export function frequency(period: number, info: VarInfo): number | undefined {
  const t = info.scale * (period + info.offset);
  return t > 0 ? round(10 / t, 2) : undefined;
}

/** A 16-bit word as a signed int16. */
export function int16(word: number): number {
  return word >= 0x8000 ? word - 0x10000 : word;
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function expectCommand(f: VebusFrame, cmd: number, minPayload: number, what: string): void {
  if (!isCommand(f, cmd) || f.payload.length < minPayload) throw new FrameError(`not a ${what} reply: ${hexdump(f.raw)}`, 'unexpected');
}

export function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

export function hexdump(b: Uint8Array): string {
  return [...b].map(hex).join(' ');
}
