/**
 * What a config reload changes (`Worker.reload`): which devices are added, removed, changed
 * or untouched, and whether the outbox limits and the InfluxDB target change. Pure: it
 * compares two validated configs and opens nothing, so a refused reload has touched nothing.
 */
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../core/errors.js';
import type { LoadedConfig } from '../config/load.js';
import type { DeviceConfig, WattlineConfig } from '../config/schema.js';

export interface ReloadPlan {
  added: DeviceConfig[];
  removed: string[];
  /** Same name, different entry (schedule, options, tags, port, …): old job and port closed, new ones opened. */
  changed: DeviceConfig[];
  unchanged: DeviceConfig[];
  influxChanged: boolean;
  /** outbox.maxRows, maxBytes or minFreeBytes. */
  limitsChanged: boolean;
}

/** What the worker reads once at start; a reload that changes them is refused (restart to apply). */
const FIXED: readonly { path: string; get: (c: WattlineConfig) => unknown }[] = [
  { path: 'outbox.path', get: (c) => c.outbox.path },
  { path: 'outbox.synchronous', get: (c) => c.outbox.synchronous },
  { path: 'capture', get: (c) => c.capture },
  { path: 'mqtt', get: (c) => c.mqtt },
  { path: 'log.format', get: (c) => c.log?.format },
];

/** The devices a worker runs: enabled ones (and only the named ones when it was started for some). */
export function runnableDevices(config: WattlineConfig, only?: readonly string[]): DeviceConfig[] {
  return (config.devices as DeviceConfig[]).filter((d) => d.enabled && (!only || only.includes(d.name)));
}

/** Compare the running config with the new one; ConfigError for a change only a restart can apply. */
export function planReload(current: LoadedConfig, next: LoadedConfig, only?: readonly string[]): ReloadPlan {
  const a = current.config;
  const b = next.config;
  const fixed = FIXED.filter((f) => !isDeepStrictEqual(f.get(a), f.get(b))).map((f) => f.path);
  if (fixed.length > 0) throw new ConfigError(`${fixed.join(', ')}: changed, which needs a restart (the running worker keeps the old config)`);
  if (current.dir !== next.dir) throw new ConfigError(`the config file moved from ${current.dir} to ${next.dir}: restart to use it`);

  // site, host and timezone reach every device (tags, cron): a change there changes them all.
  const shared = (c: WattlineConfig) => ({ site: c.site, host: c.host, timezone: c.timezone });
  const allChanged = !isDeepStrictEqual(shared(a), shared(b));
  const before = new Map(runnableDevices(a, only).map((d) => [d.name, d]));
  const plan: ReloadPlan = { added: [], removed: [], changed: [], unchanged: [], influxChanged: false, limitsChanged: false };
  for (const device of runnableDevices(b, only)) {
    const old = before.get(device.name);
    if (!old) plan.added.push(device);
    else if (allChanged || !isDeepStrictEqual(old, device)) plan.changed.push(device);
    else plan.unchanged.push(device);
    before.delete(device.name);
  }
  plan.removed = [...before.keys()];
  plan.influxChanged = !isDeepStrictEqual(a.influx, b.influx);
  plan.limitsChanged = a.outbox.maxRows !== b.outbox.maxRows || a.outbox.maxBytes !== b.outbox.maxBytes || a.outbox.minFreeBytes !== b.outbox.minFreeBytes;
  return plan;
}
