/**
 * Options of the blueprint driver (the device entry's `options:`): one strict schema, every
 * default and unit here and nowhere else, each described (`wattline drivers --long` shows it).
 */
import { z } from 'zod';
import type { SerialSettings } from '../types.js';

export const blueprintOptionsSchema = z
  .strictObject({
    requestTimeoutMs: z.int().min(50).max(30_000).default(1000).describe('Deadline for each reply, ms'),
  })
  .default({ requestTimeoutMs: 1000 });

export type BlueprintOptions = z.infer<typeof blueprintOptionsSchema>;

/** The line settings when the config names only a port path. */
export const blueprintSerialSettings = (): SerialSettings => ({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
