/**
 * Options of the powerwalker-pdu driver (the device entry's `options:`): one strict schema,
 * defaults and units here. Control is off unless listed: which verbs, and for
 * which outlets (`all` also allows outlet `A`).
 */
import { z } from 'zod';
import { powerwalkerSerialSettings, requestTimeoutMs, retries } from '../powerwalker/config.js';
import { OUTLETS } from './codec.js';

/** Verbs that change the device; `memory` only reads and needs no allowance. */
export const PDU_WRITE_VERBS = ['shutdown', 'shutdown-restore', 'cancel', 'on', 'off', 'test', 'energy-clear'] as const;
export type PduWriteVerb = (typeof PDU_WRITE_VERBS)[number];

export const pduOptionsSchema = z
  .strictObject({
    requestTimeoutMs,
    retries,
    control: z
      .strictObject({
        allow: z
          .array(z.enum(PDU_WRITE_VERBS))
          .default([])
          .describe(`Verbs \`wattline pdu <device> …\` may send: ${PDU_WRITE_VERBS.join(', ')}; none by default`),
        outlets: z
          .union([z.literal('all'), z.array(z.int().min(1).max(OUTLETS)).max(OUTLETS)])
          .default([])
          .describe('Outlets those verbs may switch (1-8), or all (which also allows outlet A); none by default'),
      })
      .default({ allow: [], outlets: [] })
      .describe('Control allowed on this PDU (off by default)'),
  })
  .describe('PowerWalker PDU RC-16A (protocol PI90), 8 outlets; serial 2400 8N1 or USB HID');

export type PduOptions = z.output<typeof pduOptionsSchema>;

export { powerwalkerSerialSettings };
