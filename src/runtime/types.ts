/** What the runtime keeps per device and hands to its listeners (MQTT, `test`, `once`). */
import type { Writable } from 'node:stream';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { Point } from '../core/point.js';
import type { LoadedConfig } from '../config/load.js';
import type { Link } from '../assembly/link.js';
import type { DeviceConfig } from '../config/schema.js';
import type { DeviceSession, Driver } from '../devices/types.js';
import type { RunningSimulator } from '../simulators/index.js';
import type { Transport } from '../transports/transport.js';

export interface DeviceRuntime {
  config: DeviceConfig;
  driver: Driver;
  /** Decided once (assembly/link.ts): its key is the port lock jobs and control verbs share. */
  link: Link;
  transport: Transport;
  session: DeviceSession;
  simulator?: RunningSimulator;
  /** Capture archive: the cycle id of the collect() running now (poll drivers), null otherwise. */
  cycle?: number | null;
  /** Telegrams received since the last collect(), kept only for a raw consumer (mqtt.vscp). */
  raw?: RawTelegram[];
}

export interface RawTelegram {
  text: string;
  timeMs: number;
}

export interface JobReport {
  device: string;
  ok: boolean;
  points: Point[];
  lines: string[];
  error?: string;
  dropped: { reason: string; count: number }[];
  /** Points the outbox refused for lack of disk space (outbox.minFreeBytes): collected, not kept. */
  refused?: number;
  /** The telegrams behind these points, for mqtt.vscp (only for its driver, only when configured). */
  raw?: RawTelegram[];
}

export function failedReport(device: string, error: string): JobReport {
  return { device, ok: false, points: [], lines: [], error, dropped: [] };
}

export interface WorkerOptions {
  loaded: LoadedConfig;
  drivers: readonly Driver[];
  log: Logger;
  clock?: Clock;
  /** Where `echo` prints lines (stdout). */
  echo?: Writable;
  /** Only these devices (by name). */
  only?: readonly string[];
  /** `test`: collect and print, no outbox, no InfluxDB. */
  dryRun?: boolean;
  /**
   * `once`/`test`: one collection, then the process ends. Nothing retries or reopens later, so
   * the sessions' "retrying" chatter stays below error (unless debug was asked for), and the
   * verb prints each failure once from its reports.
   */
  oneShot?: boolean;
}
