/**
 * The Itho WPU I²C message codec (docs/protocols/itho-wpu.md §4.2–4.3): pure bytes ⇄ values, no I/O.
 *
 * Request (written by the Pi to 0x41, address byte 0x82 on the wire):
 *   80 | class hi lo | type (04 read, 06 write) | len N | payload | chk
 * Reply (the WPU writes to the Pi's BSC slave 0x40, address byte 0x80 on the wire):
 *   82 | class hi lo | 01 | len N | payload | chk
 * In both directions the bytes plus the address byte sum to 0 mod 256.
 */
import { FrameError } from '../../core/errors.js';
import { dataType, hex, readRaw, scale, type DataType } from './tables.js';

/** Address bytes on the wire: the WPU (7-bit 0x41) and the Pi's BSC slave (7-bit 0x40). */
export const WPU_ADDRESS_BYTE = 0x82;
export const PI_ADDRESS_BYTE = 0x80;
export const WPU_I2C_ADDRESS = 0x41;
export const PI_BSC_ADDRESS = 0x40;

export const MSG_READ = 0x04;
export const MSG_WRITE = 0x06;
export const MSG_RESPONSE = 0x01;

/** Message classes [hi, lo] (docs/protocols/itho-wpu.md §4.2). */
export const CLASSES = {
  nodeid: [0x90, 0xe0],
  serial: [0x90, 0xe1],
  datatype: [0xa4, 0x00],
  datalog: [0xa4, 0x01],
  setting: [0xa4, 0x10],
  manual: [0x40, 0x30],
  counters: [0x42, 0x10],
} as const;
export type MessageKind = keyof typeof CLASSES;

/** Two's-complement checksum of `bytes` plus the address byte `addressByte`. */
export function checksum(bytes: Uint8Array, addressByte: number, end = bytes.length): number {
  let s = addressByte;
  for (let i = 0; i < end; i++) s += bytes[i]!;
  return (256 - (s & 0xff)) & 0xff;
}

export interface Request {
  kind: MessageKind;
  write: boolean;
  frame: Buffer;
}

function request(kind: MessageKind, type: number, payload: readonly number[] = []): Request {
  const [hi, lo] = CLASSES[kind];
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = PI_ADDRESS_BYTE;
  frame[1] = hi;
  frame[2] = lo;
  frame[3] = type;
  frame[4] = payload.length;
  for (let i = 0; i < payload.length; i++) frame[5 + i] = payload[i]!;
  // The destination's address byte 0x82 is part of the sum.
  frame[frame.length - 1] = checksum(frame, WPU_ADDRESS_BYTE, frame.length - 1);
  return { kind, write: type === MSG_WRITE, frame };
}

function byteArg(name: string, v: number, max = 0xff): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${name} must be an integer 0..${max}, got ${v}`);
  return v;
}

export const requests = {
  nodeid: () => request('nodeid', MSG_READ),
  serial: () => request('serial', MSG_READ),
  datatype: () => request('datatype', MSG_READ),
  datalog: () => request('datalog', MSG_READ),
  counters: () => request('counters', MSG_READ),
  /** 16 zero bytes (current, min, max, step), then 00 <id> 00. */
  getSetting: (id: number) => request('setting', MSG_READ, [...new Array<number>(16).fill(0), 0, byteArg('setting id', id), 0]),
  /** New raw value as uint32 BE, 12 zero bytes, then 00 <id> 00. */
  setSetting: (id: number, raw: number) => {
    const v = byteArg('raw setting value', raw, 0xffffffff);
    return request('setting', MSG_WRITE, [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff, ...new Array<number>(12).fill(0), 0, byteArg('setting id', id), 0]);
  },
  /** Bank 01, id as uint16 BE, 01. */
  getManual: (id: number) => request('manual', MSG_READ, [1, (byteArg('manual id', id, 0xffff) >> 8) & 0xff, id & 0xff, 1]),
  /** Bank 01, id uint16 BE, datatype, value uint16 BE, check (1 = start the manual override, 0 = finish it). */
  setManual: (id: number, datatype: number, raw: number, start: boolean) => {
    byteArg('manual id', id, 0xffff);
    byteArg('raw manual value', raw, 0xffff);
    return request('manual', MSG_WRITE, [1, (id >> 8) & 0xff, id & 0xff, byteArg('datatype', datatype), (raw >> 8) & 0xff, raw & 0xff, start ? 1 : 0]);
  },
};

/** Bytes a reply needs in total once its first five are known (undefined before that). */
export function replyLength(head: Uint8Array): number | undefined {
  return head.length >= 5 ? head[4]! + 6 : undefined;
}

/**
 * Checks one reply frame (without the 0x80 address byte): source 0x82, the checksum, the
 * length byte, type 0x01 and — both bytes, fixing the original's AND — the class asked for.
 * Returns the payload; throws a FrameError that says which check failed.
 */
export function checkReply(frame: Uint8Array, kind: MessageKind): Buffer {
  const b = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (b.length < 6) throw new FrameError(`reply of ${b.length} bytes is shorter than the 6 of an empty message`, 'truncated');
  if (b[0] !== WPU_ADDRESS_BYTE) throw new FrameError(`reply from source ${hex(b[0]!)}, not the WPU (${hex(WPU_ADDRESS_BYTE)})`, 'unexpected');
  const want = b[4]! + 6;
  if (b.length < want) throw new FrameError(`reply truncated: ${b.length} of ${want} bytes (length byte ${b[4]})`, 'truncated');
  if (b.length > want) throw new FrameError(`reply length byte ${b[4]} does not match ${b.length} bytes (want ${b.length - 6})`, 'length');
  const chk = checksum(b, PI_ADDRESS_BYTE, b.length - 1);
  if (b[b.length - 1] !== chk) throw new FrameError(`reply checksum ${hex(b[b.length - 1]!)}, computed ${hex(chk)}`, 'checksum');
  if (b[3] !== MSG_RESPONSE) throw new FrameError(`reply message type ${hex(b[3]!)}, not a response (0x01)`, 'unexpected');
  const [hi, lo] = CLASSES[kind];
  if (b[1] !== hi || b[2] !== lo) throw new FrameError(`reply class ${hex(b[1]!)} ${hex(b[2]!)}, asked for ${kind} (${hex(hi)} ${hex(lo)})`, 'unexpected');
  return b.subarray(5, b.length - 1);
}

export interface NodeId {
  manufacturerGroup: number;
  manufacturer: number;
  /** "HCCP" for 0, else undefined. */
  manufacturerName?: string;
  hardwareType: number;
  /** "WPU" (13), "Autotemp" (15). */
  hardwareName?: string;
  productVersion: number;
  listVersion: number;
}

const HARDWARE: Record<number, string> = { 13: 'WPU', 15: 'Autotemp' };

export function decodeNodeId(payload: Uint8Array): NodeId {
  if (payload.length < 6) throw new FrameError(`node id payload of ${payload.length} bytes, need 6`, 'length');
  const id: NodeId = {
    manufacturerGroup: (payload[0]! << 8) | payload[1]!,
    manufacturer: payload[2]!,
    hardwareType: payload[3]!,
    productVersion: payload[4]!,
    listVersion: payload[5]!,
  };
  if (id.manufacturer === 0) id.manufacturerName = 'HCCP';
  const hw = HARDWARE[id.hardwareType];
  if (hw) id.hardwareName = hw;
  return id;
}

export function decodeSerial(payload: Uint8Array): number {
  if (payload.length < 3) throw new FrameError(`serial payload of ${payload.length} bytes, need 3`, 'length');
  return (payload[0]! << 16) | (payload[1]! << 8) | payload[2]!;
}

/** The datatype reply's payload is one type code per datalog field. */
export function decodeDatatypeList(payload: Uint8Array): number[] {
  return [...payload];
}

/** A field layout compiled from the datatype list: offsets into the datalog payload. */
export interface DatalogLayout {
  codes: number[];
  types: DataType[];
  offsets: number[];
  /** Total bytes the datalog payload must have. */
  length: number;
}

/** Throws (naming the code and the field) on a code whose width is unknown. */
export function compileLayout(codes: readonly number[], fieldName: (index: number) => string = (i) => `field ${i}`): DatalogLayout {
  const types: DataType[] = [];
  const offsets: number[] = [];
  let offset = 0;
  codes.forEach((code, i) => {
    const t = dataType(code);
    if (!t) throw new FrameError(`datatype list: unknown type code ${hex(code)} for ${fieldName(i)} (position ${i}); its width is unknown, so the datalog cannot be decoded`, 'syntax');
    types.push(t);
    offsets.push(offset);
    offset += t.width;
  });
  return { codes: [...codes], types, offsets, length: offset };
}

/**
 * Datalog payload → one value per field (undefined for opaque codes). The payload must be
 * exactly as long as the layout: a mismatch means the cached datatype list is stale.
 */
export function decodeDatalog(payload: Uint8Array, layout: DatalogLayout): (number | undefined)[] {
  if (payload.length !== layout.length) {
    throw new FrameError(`datalog of ${payload.length} bytes, but the datatype list's ${layout.types.length} fields need ${layout.length}`, 'length');
  }
  const out = new Array<number | undefined>(layout.types.length);
  for (let i = 0; i < layout.types.length; i++) {
    const t = layout.types[i]!;
    out[i] = t.opaque ? undefined : scale(readRaw(payload, layout.offsets[i]!, t), t);
  }
  return out;
}

export interface SettingValue {
  id: number;
  datatype: number;
  value: number;
  min: number;
  max: number;
  step: number;
}

/** Each 4-byte group is read with the setting's datatype, from its last 1, 2 or 4 bytes. */
export function decodeSetting(payload: Uint8Array): SettingValue {
  if (payload.length < 19) throw new FrameError(`setting payload of ${payload.length} bytes, need 19`, 'length');
  const code = payload[16]!;
  const t = dataType(code);
  if (!t || t.opaque) throw new FrameError(`setting ${payload[17]}: unknown type code ${hex(code)}`, 'syntax');
  const group = (g: number) => scale(readRaw(payload, g * 4 + 4 - t.width, t), t);
  return { id: payload[17]!, datatype: code, value: group(0), min: group(1), max: group(2), step: group(3) };
}

export interface ManualValue {
  id: number;
  datatype: number;
  value: number;
}

export function decodeManual(payload: Uint8Array): ManualValue {
  if (payload.length < 6) throw new FrameError(`manual payload of ${payload.length} bytes, need 6`, 'length');
  const code = payload[3]!;
  const t = dataType(code);
  const raw = (payload[4]! << 8) | payload[5]!;
  // The value travels as uint16 whatever the type; a one-byte type uses the low byte.
  let value = raw;
  if (t && !t.opaque) value = t.width === 1 ? scale(readRaw(payload, 5, t), t) : scale(readRaw(payload, 4, { ...t, width: 2 }), t);
  return { id: payload[2]!, datatype: code, value };
}

/** Counter i at bytes [2i, 2i+1], unsigned 16-bit BE. */
export function decodeCounters(payload: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < payload.length; i += 2) out.push((payload[i]! << 8) | payload[i + 1]!);
  return out;
}
