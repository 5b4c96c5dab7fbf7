/** Option pieces and line settings both PowerWalker drivers use (docs/protocols/powerwalker.md §1.1, §1.9). */
import { z } from 'zod';
import type { SerialSettings } from '../types.js';

export const requestTimeoutMs = z
  .int()
  .min(50)
  .max(30_000)
  .default(2500)
  .describe('Deadline for each reply, ms (the longest reply, QSR, needs ~0.7 s on the wire at 2400 baud; the original waited a fixed 1 s per command)');

export const retries = z.int().min(0).max(3).default(1).describe('Read-only queries asked again after a malformed or cut-off reply (never control commands)');

/** §1.1: 2400 baud, 8N1. */
export function powerwalkerSerialSettings(): SerialSettings {
  return { baudRate: 2400, dataBits: 8, parity: 'none', stopBits: 1 };
}
