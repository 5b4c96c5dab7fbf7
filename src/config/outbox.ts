import { z } from 'zod';

export const outboxSchema = z
  .strictObject({
    path: z.string().min(1).default('data/outbox.sqlite').describe('SQLite file of the outbox (relative to the config file)'),
    maxRows: z.int().min(1).default(10_000_000).describe('Most pending points; the oldest are dropped beyond it'),
    maxBytes: z
      .int()
      .min(1024)
      .default(2 * 1024 * 1024 * 1024)
      .describe('Most pending bytes of line protocol; the oldest are dropped beyond it'),
    minFreeBytes: z
      .int()
      .min(0)
      .optional()
      .describe("Below this many free bytes on the outbox's filesystem new points are refused (counted) until space returns; delivery goes on. Default: 5% of the filesystem, at most 1 GiB"),
    synchronous: z
      .enum(['full', 'normal'])
      .default('full')
      .describe("SQLite fsync level: 'full' keeps every commit through a power cut; 'normal' is faster but may lose the last commits on power loss (never on a crash)"),
  })
  .describe('Durable SQLite buffer between collection and InfluxDB');

export type OutboxConfig = z.infer<typeof outboxSchema>;
