import { z } from 'zod';

/** The capture archive: raw exchanges of the devices with `capture: on`, for backfill (docs/capture.md). */
export const captureSchema = z
  .strictObject({
    path: z.string().min(1).default('data/capture.sqlite').describe('SQLite file of the capture archive (relative to the config file); apart from the outbox'),
    maxAgeDays: z.number().positive().max(36_500).default(30).describe('Captures older than this are deleted, days'),
    maxBytes: z
      .int()
      .min(1024)
      .default(1024 * 1024 * 1024)
      .describe('Most bytes of raw data kept; the oldest captures are deleted beyond it'),
  })
  .describe('Capture archive (raw frames/telegrams of devices with capture: on)');

export type CaptureConfig = z.infer<typeof captureSchema>;

/** A device's `capture:` switch: on/off (YAML 1.2 reads them as text) or true/false. */
export const deviceCaptureSchema = z
  .union([z.boolean(), z.enum(['on', 'off'])])
  .default('off')
  .transform((v) => v === true || v === 'on')
  .describe('on: keep every raw exchange of this device in the capture archive (default off)');
