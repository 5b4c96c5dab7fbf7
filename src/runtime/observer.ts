/** The worker's observer (self-metrics, /metrics, /health, status): every figure read through a function, when asked. */
import { hostname } from 'node:os';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Precision } from '../core/point.js';
import type { LoadedConfig } from '../config/load.js';
import type { Flusher } from '../influx/flusher.js';
import type { MqttOutput } from '../mqtt/output.js';
import { DeviceWatch, Observer, withoutCredentials } from '../observe/index.js';
import type { Outbox } from '../outbox/types.js';
import { cronTimer, type Scheduler } from '../scheduler/index.js';
import type { DeviceRuntime } from './types.js';

export interface ObservedWorker {
  loaded: LoadedConfig;
  log: Logger;
  clock: Clock;
  precision: Precision;
  /** The live outbox; `sendQueue` is it with the backfill file beside it. */
  outbox: Outbox;
  sendQueue: Outbox | null;
  scheduler: Scheduler;
  devices: ReadonlyMap<string, DeviceRuntime>;
  deviceWatch: DeviceWatch;
  /** Both replaced while running (reload, start of MQTT). */
  flusher: () => Flusher | null;
  mqtt: () => MqttOutput | null;
}

export function createObserver(w: ObservedWorker): Observer {
  const config = w.loaded.config;
  const outbox = w.outbox;
  return new Observer({
    internal: config.internal,
    ...(config.http ? { http: config.http } : {}),
    health: config.health,
    timer: (schedule, fn) => cronTimer(schedule, config.timezone, fn, 'internal.schedule'),
    log: w.log.child({ room: 'observe' }),
    precision: w.precision,
    append: (lines, precision) => outbox.append(lines, precision),
    configFile: w.loaded.path,
    sources: {
      host: config.host ?? hostname(),
      site: config.site ?? null,
      now: () => w.clock.now(),
      devices: () => w.scheduler.status().map((j) => ({ name: j.name, driver: w.devices.get(j.name)?.driver.id ?? '', nextRunMs: j.nextRun, ...w.deviceWatch.tally(j.name) })),
      outbox: () => ({ all: (w.sendQueue ?? outbox).stats(), live: outbox.stats() }),
      flusher: () => w.flusher()?.status() ?? null,
      mqtt: () => {
        const mqtt = w.mqtt();
        return mqtt ? { target: withoutCredentials(config.mqtt!.url), stats: mqtt.stats() } : null;
      },
    },
  });
}
