import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { checkOrder, DAY_MS, durationMs } from './bounds.js';

export const influxTlsSchema = z
  .strictObject({
    ca: z.string().min(1).optional().describe('CA certificate (PEM file, relative to the config file) to trust instead of the system CAs'),
    rejectUnauthorized: z.boolean().default(true).describe("Verify the server's certificate (turn off only for a self-signed test server)"),
  })
  .describe('TLS settings for https:// URLs');

const common = {
  url: z.url({ protocol: /^https?$/ }).describe('Base URL of the server, e.g. http://127.0.0.1:8086'),
  precision: z.enum(['s', 'ms', 'us', 'ns']).default('ms').describe('Timestamp precision of written lines'),
  batchSize: z.int().min(1).max(100_000).default(5000).describe('Most lines per write request'),
  batchBytes: z
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(4 * 1024 * 1024)
    .describe('Most bytes per write request'),
  flushIntervalMs: durationMs(10, DAY_MS).default(1000).describe('How often the outbox is flushed, in ms'),
  timeoutMs: durationMs(100, 600_000).default(10_000).describe('Per-request timeout, in ms'),
  gzip: z.boolean().default(true).describe('Compress request bodies'),
  minRetryDelayMs: durationMs(1, DAY_MS).default(1000).describe('First back-off after a failed write, in ms'),
  maxRetryDelayMs: durationMs(1, DAY_MS).default(60_000).describe('Longest back-off between failed writes, in ms'),
  tls: influxTlsSchema.optional(),
};

/** Both versions: tls settings mean nothing on plain http (said, not silently ignored). */
function checkTls(c: { url: string; tls?: unknown }, ctx: z.RefinementCtx): void {
  if (c.tls && !c.url.startsWith('https:')) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls settings need an https:// url' });
}

export const influxV1Schema = z
  .strictObject({
    version: z.literal(1),
    ...common,
    database: z.string().min(1).describe('InfluxDB 1.x database'),
    retentionPolicy: z.string().min(1).optional().describe('Retention policy (default: the database default)'),
    username: z.string().optional().describe('Use ${VAR} from the environment'),
    password: z.string().optional().describe('Use ${VAR} from the environment'),
    createDatabase: z.boolean().default(true).describe('Create the database on InfluxDB\'s first "database not found" (once; as Telegraf\'s skip_database_creation = false)'),
  })
  .superRefine((c, ctx) => {
    checkOrder(c, ctx, 'minRetryDelayMs', 'maxRetryDelayMs');
    checkTls(c, ctx);
  })
  .describe('InfluxDB 1.x /write API');

function urlUser(url: string): string {
  try {
    return new URL(url).username;
  } catch {
    return '';
  }
}

export const influxV2Schema = z
  .strictObject({
    version: z.literal(2),
    ...common,
    org: z.string().default('').describe('Organisation (ignored by VictoriaMetrics)'),
    bucket: z.string().min(1).describe('Bucket (or database/retention policy on 1.8+)'),
    token: z.string().default('').describe('API token; use ${VAR} from the environment'),
    username: z.string().optional().describe('HTTP basic auth instead of a token (VictoriaMetrics -httpAuth.*); use ${VAR}'),
    password: z.string().optional().describe('HTTP basic auth password; use ${VAR} from the environment'),
  })
  .superRefine((c, ctx) => {
    checkOrder(c, ctx, 'minRetryDelayMs', 'maxRetryDelayMs');
    checkTls(c, ctx);
    // The writer would refuse this at start; said here so config check says it too.
    if (c.token && (c.username || urlUser(c.url))) ctx.addIssue({ code: 'custom', path: ['token'], message: 'give either a token or a username/password (basic auth), not both' });
  })
  .describe('InfluxDB 2.x/3.x/Cloud /api/v2/write API, also VictoriaMetrics');

export const influxSchema = z.discriminatedUnion('version', [influxV1Schema, influxV2Schema]);

export type InfluxV1Config = z.infer<typeof influxV1Schema>;
export type InfluxV2Config = z.infer<typeof influxV2Schema>;
export type InfluxConfig = z.infer<typeof influxSchema>;

export type InfluxTlsConfig = z.infer<typeof influxTlsSchema>;

/** `tls.ca` is relative to the config file, like every other path in it (made absolute at load). */
export function resolveInfluxPaths(influx: { tls?: InfluxTlsConfig } | undefined, dir: string): void {
  if (influx?.tls?.ca && !isAbsolute(influx.tls.ca)) influx.tls.ca = resolve(dir, influx.tls.ca);
}
