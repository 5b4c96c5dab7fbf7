/**
 * Pure Modbus framing for the HDHK driver's one request, FC03 Read Holding Registers
 * (docs/protocols/hdhk.md §2.2): the RTU frame (unit, PDU, CRC-16/MODBUS low byte first) and the MBAP
 * frame of Modbus TCP (transaction id, protocol 0, length, unit, PDU; Modbus Messaging on
 * TCP/IP Implementation Guide v1.0b §3.1.3). Bytes in, bytes or words out: no I/O, no clock.
 * The ports (link-rtu.ts, link-mbap.ts) cut replies out of the byte stream with these.
 */
import { crc16Reflected } from '../../core/crc16.js';
import { FC_READ_HOLDING } from './tables.js';

/** unit (1) + function (1) + start (2) + count (2) + CRC (2). */
export const RTU_REQUEST_LENGTH = 8;
/** An exception reply in RTU form: unit, function | 0x80, code, CRC (2). */
export const RTU_EXCEPTION_LENGTH = 5;
/** transaction (2), protocol (2), length (2), unit (1). */
export const MBAP_HEADER_LENGTH = 7;
/** Most registers one FC03 request may ask for (Modbus Application Protocol v1.1b3 §6.3). */
export const MAX_READ_COUNT = 125;

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF; docs/protocols/hdhk.md §2.4) of bytes [start, end). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc16Reflected(bytes, start, end, 0xffff);
}

/** Whether an RTU frame's last two bytes are the CRC of the rest. */
export function crcOk(frame: Uint8Array, start = 0, end = frame.length): boolean {
  if (end - start < 4) return false;
  const crc = crc16(frame, start, end - 2);
  return frame[end - 2] === (crc & 0xff) && frame[end - 1] === crc >>> 8;
}

/** `unit` + `pdu`, with its CRC: the RTU form (what captures hold, for either framing). */
export function rtuFrame(unitAndPdu: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(unitAndPdu.length + 2);
  frame.set(unitAndPdu);
  const crc = crc16(unitAndPdu);
  frame[unitAndPdu.length] = crc & 0xff;
  frame[unitAndPdu.length + 1] = crc >>> 8;
  return frame;
}

/** FC03 request in RTU form. */
export function readRequestRtu(unit: number, start: number, count: number): Buffer {
  const frame = Buffer.allocUnsafe(RTU_REQUEST_LENGTH);
  writeReadPdu(frame, 0, unit, start, count);
  const crc = crc16(frame, 0, 6);
  frame[6] = crc & 0xff;
  frame[7] = crc >>> 8;
  return frame;
}

/** FC03 request in MBAP form. */
export function readRequestMbap(transaction: number, unit: number, start: number, count: number): Buffer {
  const frame = Buffer.allocUnsafe(MBAP_HEADER_LENGTH + 5);
  put16(frame, 0, transaction);
  put16(frame, 2, 0);
  put16(frame, 4, 6); // unit + function + start + count
  writeReadPdu(frame, 6, unit, start, count);
  return frame;
}

function writeReadPdu(frame: Buffer, at: number, unit: number, start: number, count: number): void {
  frame[at] = unit;
  frame[at + 1] = FC_READ_HOLDING;
  put16(frame, at + 2, start);
  put16(frame, at + 4, count);
}

/**
 * A big-endian 16-bit value, by hand: Buffer's writeUInt16BE checks its arguments through
 * rest-parameter wrappers that allocate on every call in the interpreted daemon (daemon-v8.ts),
 * and each gateway poll is a few such writes. Callers pass values already in range.
 */
function put16(frame: Uint8Array, at: number, value: number): void {
  frame[at] = value >>> 8;
  frame[at + 1] = value & 0xff;
}

/** Length of the RTU reply to FC03 for `count` registers: unit, fc, byte count, data, CRC. */
export function rtuReadReplyLength(count: number): number {
  return 5 + 2 * count;
}

/** What an MBAP header at `at` says: the whole frame's length, or null when it cannot be one. */
export function mbapFrameLength(bytes: Uint8Array, at = 0): number | null {
  const length = (bytes[at + 4]! << 8) | bytes[at + 5]!; // unit + PDU
  return length < 2 || length > 254 ? null : 6 + length;
}

/** A reply's content: the registers, or the Modbus exception code the unit answered. */
export type ReadReply = { words: number[] } | { exception: number };

/**
 * The PDU of an FC03 reply (function, byte count, data — without unit, CRC or MBAP header)
 * at bytes [at, end), for a request of `count` registers. Throws a plain Error naming what
 * is wrong when it is not such a reply.
 */
export function decodeReadReply(bytes: Uint8Array, at: number, end: number, count: number): ReadReply {
  const fc = bytes[at];
  if (fc === (FC_READ_HOLDING | 0x80) && end - at === 2) return { exception: bytes[at + 1]! };
  if (fc !== FC_READ_HOLDING) throw new Error(`reply with function ${fc}, expected ${FC_READ_HOLDING}`);
  if (bytes[at + 1] !== 2 * count || end - at !== 2 + 2 * count) throw new Error(`reply of ${end - at - 2} data bytes (byte count ${bytes[at + 1]}), expected ${2 * count}`);
  const words = new Array<number>(count);
  for (let i = 0, p = at + 2; i < count; i++, p += 2) words[i] = (bytes[p]! << 8) | bytes[p + 1]!;
  return { words };
}

const EXCEPTIONS: Record<number, string> = {
  1: 'Illegal function',
  2: 'Illegal data address',
  3: 'Illegal data value',
  4: 'Server device failure',
  5: 'Acknowledge',
  6: 'Server device busy',
  10: 'Gateway path unavailable',
  11: 'Gateway target device failed to respond',
};

/** The name Modbus Application Protocol v1.1b3 §7 gives an exception code. */
export function exceptionName(code: number): string {
  return EXCEPTIONS[code] ?? 'unknown exception';
}
