/**
 * CRC-16/ARC as DSMR 4+/ESMR 5 P1 telegrams use it: polynomial 0x8005 processed reflected
 * (0xA001), initial value 0, no final XOR, over every byte from '/' to '!' inclusive
 * (docs/protocols/dsmr-p1.md §5.3; check value '123456789' -> 0xBB3D).
 * The table-driven loop is core/crc16.ts, shared with the Modbus CRC (initial 0xFFFF).
 */
import { crc16Reflected } from '../../core/crc16.js';

/** CRC over bytes[start, end); `crc` continues an earlier partial result. */
export function crc16arc(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  return crc16Reflected(bytes, start, end, crc);
}

/** The CRC as a telegram writes it: four upper-case hex digits. */
export function formatCrc(crc: number): string {
  return crc.toString(16).toUpperCase().padStart(4, '0');
}
