/**
 * Options of the victron-vebus driver: one strict schema, defaults and units here.
 */
import { z } from 'zod';
import type { SerialSettings } from '../types.js';
import { ESS_SCAN_MAX_READS, ESS_SCAN_START } from './tables.js';

const watts = z.int().min(-32767).max(32767);

export const vebusControlSchema = z
  .strictObject({
    essPower: z
      .strictObject({
        min: watts.describe('Lowest set-point allowed, W (negative: feed from the battery to AC/grid)'),
        max: watts.describe('Highest set-point allowed, W (positive: charge the battery from AC)'),
      })
      .refine((r) => r.min <= r.max, { message: 'min must not be above max' })
      .optional()
      .describe('Allow `ess-power <watts>` within these limits (RAM only, never EEPROM); absent: refused'),
    sleep: z.boolean().default(false).describe('Allow `sleep` (the raw frame 05 3F 04 …)'),
    wakeup: z.boolean().default(false).describe('Allow `wakeup` (the raw frame 05 3F 07 …)'),
  })
  .describe('Control verbs this device allows (`wattline vebus <device> …`)');

export const vebusOptionsSchema = z
  .strictObject({
    address: z.int().min(0).max(31).default(0).describe('VE.Bus device address selected on connect (0: the master or a single unit)'),
    requestTimeoutMs: z.int().min(50).max(60_000).default(500).describe('How long to wait for each reply, ms (the original: 0.5 s)'),
    offlineAfterMs: z.int().min(1000).max(86_400_000).default(10_000).describe('Without a complete poll for this long, ms, the next poll connects afresh (version, address, scales, ESS scan); the original: 10 s'),
    snapshotWaitMs: z.int().min(0).max(5000).default(130).describe('Least time between the snapshot trigger (F 06) and reading it (X 38), ms (the device needs about 130 ms)'),
    phases: z.int().min(1).max(4).optional().describe('AC phases to read (F 01…04); default: what the L1 info frame says'),
    essSetpointRamId: z.int().min(1).max(255).optional().describe('RAM id of the ESS set-point; default: found by the assistant scan on connect'),
    essScan: z
      .strictObject({
        startId: z.int().min(0).max(255).default(ESS_SCAN_START),
        maxReads: z.int().min(1).max(64).default(ESS_SCAN_MAX_READS),
      })
      .default({ startId: ESS_SCAN_START, maxReads: ESS_SCAN_MAX_READS })
      .describe('Where the ESS-assistant scan starts and how many RAM ids it may read (the original: 128, 8)'),
    control: vebusControlSchema.optional(),
  })
  .describe('Victron Multiplus(-II) and other VE.Bus devices behind an MK2/MK3 interface');

export type VebusOptions = z.output<typeof vebusOptionsSchema>;

/** The MK3-USB: 2400 baud 8N1 (§3.1). */
export function vebusSerialSettings(): SerialSettings {
  return { baudRate: 2400, dataBits: 8, parity: 'none', stopBits: 1 };
}
