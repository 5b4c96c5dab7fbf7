/** The way to InfluxDB a config names: its writer, and the flusher that sends an outbox through it. */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { InfluxConfig } from '../config/influx.js';
import { Flusher } from '../influx/flusher.js';
import { pingProbe } from '../influx/probe.js';
import type { Writer } from '../influx/types.js';
import { InfluxV1Writer } from '../influx/v1-writer.js';
import { InfluxV2Writer } from '../influx/v2-writer.js';
import type { Outbox } from '../outbox/types.js';

/** `log` hears what the writer does on its own (v1: creating a missing database). */
export function createWriter(config: InfluxConfig, log?: Logger): Writer {
  return config.version === 1 ? new InfluxV1Writer(config, log) : new InfluxV2Writer(config);
}

/** The flusher that sends `outbox` to the configured InfluxDB (the worker's, `drain`'s and backfill's). */
export function createFlusher(outbox: Outbox, influx: InfluxConfig, clock: Clock, log: Logger, reminderMs?: number): Flusher {
  return new Flusher({
    probe: pingProbe(influx),
    ...(reminderMs ? { reminderMs } : {}),
    outbox,
    writer: createWriter(influx, log),
    batchSize: influx.batchSize,
    batchBytes: influx.batchBytes,
    flushIntervalMs: influx.flushIntervalMs,
    minRetryDelayMs: influx.minRetryDelayMs,
    maxRetryDelayMs: influx.maxRetryDelayMs,
    clock,
    log,
  });
}
