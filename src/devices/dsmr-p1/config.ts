/**
 * Options of the dsmr-p1 driver (the device entry's `options:`): one strict schema, the
 * defaults and their units here and nowhere else.
 */
import { z } from 'zod';
import type { SerialSettings } from '../types.js';
import { FIELD_GROUPS } from './tables.js';
import { DEFAULT_MAX_TELEGRAM_BYTES } from './framer.js';
import { isTimeZone } from '../../core/zone.js';

export const p1OptionsSchema = z
  .strictObject({
    mode: z.enum(['latest', 'every']).default('latest').describe('latest: each collection hands over the newest telegram since the last one; every: all of them (queued, bounded by queueLimit)'),
    timestamps: z.enum(['collection', 'meter']).default('collection').describe("collection: when the telegram arrived; meter: the meter's clock (0-0:1.0.0) and each M-Bus reading's own time"),
    meterClockWindowMs: z
      .int()
      .min(0)
      .default(7_200_000)
      .describe('timestamps: meter: a meter clock further than this (ms) from the arrival time is not believed (counted, logged, the arrival time is used); 2 h allows a meter an hour off for DST; 0: believe any clock'),
    timezone: z
      .string()
      .refine(isTimeZone, { message: 'not an IANA time zone (e.g. Europe/Amsterdam, Europe/Brussels, Europe/Stockholm)' })
      .default('Europe/Amsterdam')
      .describe("IANA zone of the meter's clock; its S/W flag only settles the repeated autumn hour"),
    dsmrVersion: z.enum(['auto', '2.2', '3', '4', '5']).default('auto').describe('Picks the default serial settings: 2.2 and 3 talk 9600 7E1, 4 and 5 (and auto) 115200 8N1; parsing adapts by itself'),
    maxTelegramBytes: z.int().min(256).max(1_048_576).default(DEFAULT_MAX_TELEGRAM_BYTES).describe('Longest telegram accepted, in bytes; longer ones are dropped and counted (oversize)'),
    staleAfterMs: z.int().min(1000).default(25_000).describe('No good telegram for this long (ms) and a collection fails; meters send every 1 s (DSMR 5) to 10 s'),
    reconnectQuietMs: z
      .int()
      .min(1000)
      .max(3_600_000)
      .optional()
      .describe(
        'Network links (tcp://, rfc2217://): no byte for this long (ms) and the connection is closed and opened again; default 3x the telegram interval (the gap between the last two telegrams, taken as 1-10 s; 30 s until two have arrived)',
      ),
    queueLimit: z.int().min(1).max(100_000).default(600).describe('mode every: telegrams kept between collections; the oldest are dropped and counted beyond it'),
    exclude: z.array(z.enum(FIELD_GROUPS)).default([]).describe('Field groups to leave out: energy, power, phases, reactive, quality, demand, status, info, mbus'),
    reopenMinMs: z.int().min(10).max(3_600_000).default(1000).describe('First wait (ms) before reopening a port that closed; doubles per failure'),
    reopenMaxMs: z.int().min(10).max(3_600_000).default(30_000).describe('Longest wait (ms) between reopen attempts'),
  })
  .superRefine((o, ctx) => {
    if (o.reopenMaxMs < o.reopenMinMs) ctx.addIssue({ code: 'custom', path: ['reopenMaxMs'], message: `must be at least reopenMinMs (${o.reopenMaxMs} < ${o.reopenMinMs})` });
  })
  .describe('DSMR / ESMR P1 smart meter options');

export type P1Options = z.output<typeof p1OptionsSchema>;

/** All defaults, for tests and for callers that have no config entry. */
export function p1Defaults(overrides: Partial<P1Options> = {}): P1Options {
  return p1OptionsSchema.parse(overrides);
}

/** DSMR 2.2 and 3 (P1 companion standard 3.0 §4.2): 9600 baud 7E1; DSMR 4 and 5: 115200 8N1. */
export function p1SerialSettings(options: Pick<P1Options, 'dsmrVersion'>): SerialSettings {
  return options.dsmrVersion === '2.2' || options.dsmrVersion === '3' ? { baudRate: 9600, dataBits: 7, parity: 'even', stopBits: 1 } : { baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 };
}
