/**
 * Options of the itho-wpu driver (the device entry's `options:`): one strict schema, the
 * defaults and their units here and nowhere else.
 */
import { z } from 'zod';

/** pigpiod's default socket port (pigpio.py: PIGPIO_PORT). */
export const DEFAULT_PIGPIO_PORT = 8888;

export const CONTROL_VERBS = ['setting-set', 'manual'] as const;

export const ithoWpuOptionsSchema = z
  .strictObject({
    host: z.string().trim().min(1).max(253).default('127.0.0.1').describe('Host of the pigpio daemon (pigpiod -l listens on localhost only)'),
    port: z.int().min(1).max(65535).default(DEFAULT_PIGPIO_PORT).describe('TCP port of the pigpio daemon'),
    parameterMap: z.string().trim().min(1).describe('SQLite parameter map converted from $_parameters_HeatPump.par (scripts/convert-itho-par.ts)'),
    cacheDb: z.string().trim().min(1).default('data/itho-wpu-cache.sqlite').describe('SQLite file where node id, serial and datatype list are kept between runs (one row per device)'),
    i2cBus: z.int().min(0).max(31).default(1).describe('Kernel I2C bus of the master side (/dev/i2c-1 on a Pi)'),
    replyTimeoutMs: z.int().min(20).max(10_000).default(250).describe('How long to wait for the WPU to answer one request, ms (the original slept 210 ms)'),
    retries: z.int().min(0).max(50).default(4).describe('Extra attempts for reads without a valid reply (writes are never repeated)'),
    retryDelayMs: z.int().min(0).max(10_000).default(50).describe('Pause before each retry of a read, ms'),
    commandTimeoutMs: z.int().min(50).max(30_000).default(1000).describe('How long to wait for pigpiod to answer one socket command, ms'),
    countersEvery: z.int().min(0).max(100_000).default(30).describe('Read the counters (operating hours, starts) on the first poll and then every Nth poll; 0: never'),
    control: z
      .strictObject({
        allow: z.array(z.enum(CONTROL_VERBS)).max(2).default([]).describe('Writing verbs `wattline itho <device>` may send: setting-set (installer settings), manual (manual-operation overrides); none by default'),
      })
      .default({ allow: [] })
      .describe('Writes to the heat pump; reads (nodeid, datalog, setting <id>, ...) need nothing here'),
  })
  .describe('Itho WPU heat pump on I2C through the pigpio daemon');

export type IthoWpuOptions = z.output<typeof ithoWpuOptionsSchema>;
