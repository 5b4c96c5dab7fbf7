/**
 * Options of the hdhk driver (the device entry's `options:`): one strict schema, the
 * defaults and their units here and nowhere else. One device entry is one
 * RS-485 bus; its units are polled one after another.
 */
import { z } from 'zod';
import type { SerialSettings } from '../types.js';
import { CHANNELS, DEFAULT_CT_RATIO, UNIT_ID_MAX, UNIT_ID_MIN } from './tables.js';

const ctRatio = z.number().positive().max(100).describe('Amperes per register count (docs/protocols/hdhk.md §2.2: 0.01 for DL-CT08CL2, 0.0245 for SCT013-030)');

export const channelSchema = z
  .strictObject({
    circuit: z.string().trim().min(1).max(64).describe('Name of the circuit on this channel; the `circuit` tag, unique within the device'),
    phase: z.enum(['L1', 'L2', 'L3']).optional().describe('Phase the circuit is on; the `phase` tag and the per-phase sums'),
    voltageV: z.number().positive().max(1000).optional().describe('Nominal voltage, V; when set, apparent_power_va = current × voltage'),
    ctRatio: ctRatio.optional().describe("Amperes per count for this channel; default the unit's ctRatio"),
    enabled: z.boolean().default(true).describe('false: the channel is read but not reported'),
  })
  .describe('One input of the meter (channel 1…16 = a…p)');

const CHANNEL_KEY = /^(?:[1-9]|1[0-6])$/;

export const unitSchema = z
  .strictObject({
    id: z.int().min(UNIT_ID_MIN).max(UNIT_ID_MAX).describe('Modbus unit id (register 3 low byte; factory default 1)'),
    name: z.string().trim().min(1).max(64).optional().describe('Name of the unit; the `unit_name` tag'),
    ctRatio: ctRatio.default(DEFAULT_CT_RATIO),
    channels: z
      .record(z.string(), channelSchema)
      .superRefine((channels, ctx) => {
        for (const key of Object.keys(channels)) {
          if (!CHANNEL_KEY.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `channel must be 1-${CHANNELS} (a…p), got "${key}"` });
        }
        if (Object.keys(channels).length === 0) ctx.addIssue({ code: 'custom', message: 'name at least one channel' });
      })
      .describe('Channels to report, by number 1…16; channels not listed are not reported'),
  })
  .describe('One HDHK meter on the bus');

export const hdhkOptionsSchema = z
  .strictObject({
    units: z.array(unitSchema).min(1).max(UNIT_ID_MAX).describe('The meters on this bus, polled in this order'),
    pauseMs: z.int().min(0).max(10_000).default(20).describe('Pause between two requests on the bus, ms (at least the 3.5-character gap: ~4 ms at 9600 baud, docs/protocols/hdhk.md §2.6)'),
    requestTimeoutMs: z.int().min(10).max(60_000).default(1000).describe('How long to wait for each reply, ms (the original used 1 s)'),
    frequency: z.enum(['skip', 'read']).default('skip').describe('read: also read each channel frequency (registers 24-39, in the same request as the currents)'),
  })
  .superRefine((o, ctx) => {
    const ids = new Map<number, number>();
    const names = new Map<string, number>();
    const circuits = new Map<string, string>();
    o.units.forEach((u, i) => {
      const seen = ids.get(u.id);
      if (seen !== undefined) ctx.addIssue({ code: 'custom', path: ['units', i, 'id'], message: `unit id ${u.id} is already used by units[${seen}]` });
      else ids.set(u.id, i);
      if (u.name !== undefined) {
        const n = names.get(u.name);
        if (n !== undefined) ctx.addIssue({ code: 'custom', path: ['units', i, 'name'], message: `unit name "${u.name}" is already used by units[${n}]` });
        else names.set(u.name, i);
      }
      for (const [ch, c] of Object.entries(u.channels)) {
        const where = circuits.get(c.circuit);
        if (where !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['units', i, 'channels', ch, 'circuit'], message: `circuit name "${c.circuit}" is already used by ${where}` });
        } else circuits.set(c.circuit, `units[${i}].channels.${ch}`);
      }
    });
  })
  .describe('HDHK 16-channel current meters on one RS-485 bus (Modbus RTU)');

export type HdhkOptions = z.output<typeof hdhkOptionsSchema>;
export type HdhkUnitOptions = HdhkOptions['units'][number];
export type HdhkChannelOptions = HdhkUnitOptions['channels'][string];

/** Factory setting (docs/protocols/hdhk.md §2.1, register 3 = 0x0001): 9600 baud, 8N1. */
export function hdhkSerialSettings(): SerialSettings {
  return { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 };
}
