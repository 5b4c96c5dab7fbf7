import { z } from 'zod';
import { cronProblem } from './time.js';

/** The worker's own figures as points (Telegraf's `inputs.internal`): on by default, every 30 s. */
export const internalSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Write wattline_device / _outbox / _output / _process points into the outbox'),
    schedule: z
      .string()
      .min(1)
      .default('*/30 * * * * *')
      .superRefine((v, ctx) => {
        const problem = cronProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: `not a cron expression: ${problem}` });
      })
      .describe('Cron expression (seconds allowed) for the self-metrics'),
  })
  .prefault({})
  .describe("The worker's own metrics, like Telegraf's inputs.internal");

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/;

/** `host:port`, IPv6 in brackets. */
const LISTEN = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export const httpSchema = z
  .strictObject({
    listen: z.string().regex(LISTEN, 'host:port, e.g. 127.0.0.1:9464').default('127.0.0.1:9464').describe('Where GET /metrics and /health listen'),
    allowNonLoopback: z.boolean().default(false).describe('Needed to listen on anything but loopback: /metrics shows device names, targets and error classes to whoever connects'),
    maxConnections: z.int().min(1).default(16).describe('Open connections at most; more are refused'),
    requestTimeoutMs: z.int().min(100).default(5000).describe('A client that has not sent its request by then is disconnected'),
  })
  .superRefine((h, ctx) => {
    const m = LISTEN.exec(h.listen);
    if (!m) return;
    if (Number(m[2]) > 65535) ctx.addIssue({ code: 'custom', path: ['listen'], message: `port ${m[2]} is above 65535` });
    if (!h.allowNonLoopback && !LOOPBACK.test(m[1]!)) {
      ctx.addIssue({ code: 'custom', path: ['listen'], message: `${m[1]} is not a loopback address: set http.allowNonLoopback: true to expose /metrics and /health there` });
    }
  })
  .describe('Prometheus /metrics and /health over HTTP; off unless this section is present');

export const healthSchema = z
  .strictObject({
    maxPendingAgeS: z.int().min(1).default(900).describe('/health fails when the oldest pending point is older than this, in s'),
    maxDeviceFailureS: z.int().min(1).default(600).describe('/health fails when every device has been failing for longer than this, in s'),
  })
  .prefault({})
  .describe('Thresholds of GET /health');

/** Between reminders of a problem that persists (flusher, failing devices), in s. */
export const reminderSchema = z.int().min(1).default(300).describe('Between log reminders of a problem that persists, in s');

/** The top-level keys this file adds to the config (spread into the schema). */
export const observeConfigShape = {
  internal: internalSchema,
  http: httpSchema.optional(),
  health: healthSchema,
};

export type InternalConfig = z.output<typeof internalSchema>;
export type HttpConfig = z.output<typeof httpSchema>;
export type HealthConfig = z.output<typeof healthSchema>;

/** `host:port` split; the host without IPv6 brackets. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = LISTEN.exec(listen)!;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}
