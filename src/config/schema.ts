import { z } from 'zod';
import { isNetworkPath, parseNetworkPath } from '../transports/address.js';
import type { Driver } from '../devices/types.js';
import { influxSchema } from './influx.js';
import { outboxSchema } from './outbox.js';
import { captureSchema, deviceCaptureSchema } from './capture.js';
import { mqttSchema } from './mqtt.js';
import { durationMs, HOUR_MS } from './bounds.js';
import { observeConfigShape, reminderSchema } from './observe.js';
import { cronSchema, timeZoneSchema } from './time.js';

export const serialPortSchema = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .refine((p) => !isNetworkPath(p) || typeof parseNetworkPath(p) !== 'string', { error: (iss) => String(parseNetworkPath(String(iss.input))) })
      .describe(
        'Serial device (/dev/ttyUSB0, /dev/serial/by-id/...) or a network address: tcp://host:port (raw: ser2net, P1 readers, transparent gateways), rfc2217://host:port (serial settings sent to the remote port), modbus+tcp://host[:502] (Modbus drivers)',
      ),
    baudRate: z.int().positive().max(4_000_000).optional().describe("Default: the driver's"),
    dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).optional(),
    parity: z.enum(['none', 'even', 'odd']).optional(),
    stopBits: z.union([z.literal(1), z.literal(2)]).optional(),
  })
  .describe('Serial port of the device');

export const hidDeviceSchema = z
  .strictObject({
    path: z.string().min(1).optional().describe('hidraw node, e.g. /dev/hidraw0'),
    vendorId: z.int().min(0).max(0xffff).optional().describe('USB vendor id (e.g. 0x0665 written as 1637); the first device with these ids'),
    productId: z.int().min(0).max(0xffff).optional().describe('USB product id'),
  })
  .refine((h) => h.path !== undefined || (h.vendorId !== undefined && h.productId !== undefined), { message: 'give path, or both vendorId and productId' })
  .describe('USB HID device (node-hid), for devices without a serial adapter (PowerWalker PDU/ATS)');

const TAG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DEVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const tagsSchema = z.record(z.string().regex(TAG_NAME, 'tag names are letters, digits and _'), z.string().min(1)).default({}).describe('Extra tags on every point of this device');

/** The keys every device entry has, whatever its driver. */
function deviceBase() {
  return {
    name: z.string().regex(DEVICE_NAME, 'letters, digits, _ . - (it becomes the device tag)').describe('Unique name; the `device` tag'),
    enabled: z.boolean().default(true),
    schedule: cronSchema.default('*/10 * * * * *').describe('Cron expression, seconds allowed (6 fields)'),
    timeoutMs: durationMs(10, HOUR_MS).default(5000).describe('Longest one collection may take, in ms'),
    port: serialPortSchema.optional(),
    hid: hidDeviceSchema.optional(),
    simulate: z.boolean().default(false).describe('Use the built-in simulator instead of a port'),
    tags: tagsSchema,
    capture: deviceCaptureSchema,
  };
}

export function deviceSchemaFor(driver: Driver) {
  return z
    .strictObject({
      driver: z.literal(driver.id),
      ...deviceBase(),
      options: driver.options.prefault({} as never).describe(`Options of the ${driver.id} driver`),
    })
    .superRefine((d, ctx) => {
      if (driver.link === 'network') {
        if (d.port !== undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: `${driver.id} connects over the network: set host/port under options, not port` });
        if (d.hid !== undefined) ctx.addIssue({ code: 'custom', path: ['hid'], message: `${driver.id} connects over the network, not USB HID` });
      } else if (d.port !== undefined && isNetworkPath(d.port.path) && (parseNetworkPath(d.port.path) as { scheme?: string }).scheme === 'modbus+tcp' && !driver.modbus) {
        ctx.addIssue({ code: 'custom', path: ['port', 'path'], message: `modbus+tcp:// is for Modbus drivers; ${driver.id} takes a device path, tcp:// or rfc2217://` });
      } else if (d.port !== undefined && d.hid !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['hid'], message: 'give either port (serial) or hid (USB HID), not both' });
      } else if (!d.simulate && d.port === undefined && d.hid === undefined) {
        ctx.addIssue({ code: 'custom', path: ['port'], message: 'needs a port (port.path) or simulate: true' });
      }
    })
    .describe(driver.description);
}

export const logSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    format: z.enum(['pretty', 'json', 'auto']).default('auto').describe('auto: pretty on a terminal, JSON otherwise'),
    reminderS: reminderSchema,
  })
  .prefault({});

export function buildConfigSchema(drivers: readonly Driver[]) {
  const device = drivers.length === 0 ? z.never() : drivers.length === 1 ? deviceSchemaFor(drivers[0]) : z.discriminatedUnion('driver', drivers.map(deviceSchemaFor) as any);
  return z
    .strictObject({
      site: z.string().min(1).optional().describe('Tag `site` on every point'),
      host: z.string().min(1).optional().describe('Tag `host` on every point'),
      timezone: timeZoneSchema.optional().describe('Time zone for cron schedules (default: the system zone)'),
      log: logSchema,
      outbox: outboxSchema.default(outboxSchema.parse({})),
      capture: captureSchema.default(captureSchema.parse({})),
      influx: influxSchema.optional().describe('Where points go; without it they stay in the outbox'),
      mqtt: mqttSchema.optional().describe('MQTT output and Home Assistant discovery; without it nothing is published'),
      echo: z.boolean().default(false).describe('Also print every committed line to stdout'),
      ...observeConfigShape,
      devices: z.array(device).default([]),
    })
    .superRefine((cfg, ctx) => {
      const seen = new Map<string, number>();
      cfg.devices.forEach((d: { name: string }, i: number) => {
        const first = seen.get(d.name);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['devices', i, 'name'], message: `duplicate device name "${d.name}" (also devices[${first}])` });
        else seen.set(d.name, i);
      });
    });
}

export type WattlineConfig = z.output<ReturnType<typeof buildConfigSchema>>;

/** A device entry after validation (driver options still typed loosely). */
export interface DeviceConfig {
  driver: string;
  name: string;
  enabled: boolean;
  schedule: string;
  timeoutMs: number;
  port?: z.output<typeof serialPortSchema>;
  hid?: z.output<typeof hidDeviceSchema>;
  simulate: boolean;
  tags: Record<string, string>;
  /** Keep raw exchanges in the capture archive (`capture: on`). */
  capture?: boolean;
  options: unknown;
}

/** JSON Schema for editors, generated from the same zod source. */
export function configJsonSchema(drivers: readonly Driver[]): unknown {
  return z.toJSONSchema(buildConfigSchema(drivers), { io: 'input', unrepresentable: 'any' });
}
