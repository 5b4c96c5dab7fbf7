/**
 * The worker seen from outside: its own figures as points into the outbox (like
 * Telegraf's inputs.internal), Prometheus /metrics and /health over HTTP, and the status
 * `wattline status` shows. One snapshot feeds all of them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HealthConfig, HttpConfig, InternalConfig } from '../config/observe.js';
import { cronProblem } from '../config/time.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { encodePoints } from '../core/line-protocol.js';
import type { Logger } from '../core/log.js';
import type { Precision } from '../core/point.js';
import { healthChecks } from './health.js';
import { snapshotPoints } from './points.js';
import { ProcessWatch } from './process.js';
import { takeSnapshot, type Snapshot, type SnapshotSources } from './snapshot.js';

export { DeviceWatch } from './devices.js';

/** How often written counts are sampled for "points/s over the last minute". */
const RATE_SAMPLE_MS = 10_000;
const RATE_WINDOW_MS = 60_000;

export interface ObserverOptions {
  internal: InternalConfig;
  http?: HttpConfig;
  health: HealthConfig;
  /** A timer on the self-metrics schedule (the scheduler's cronTimer, in the config's zone), started by start(). */
  timer: (schedule: string, fn: () => void) => { stop(): void };
  log: Logger;
  sources: Omit<SnapshotSources, 'process' | 'startedMs' | 'version'>;
  precision: Precision;
  /** Commit self-metric lines to the outbox (null: nowhere to write them). */
  append: ((lines: string[], precision: Precision) => void) | null;
  /** The config file and when it was loaded, for status. */
  configFile: string | null;
}

export class Observer {
  readonly process = new ProcessWatch();
  readonly startedMs: number;
  readonly version = packageVersion();
  private loadedMs: number;
  private timer: { stop(): void } | null = null;
  private sampler: NodeJS.Timeout | null = null;
  private readonly samples: { timeMs: number; written: Record<string, number> }[] = [];
  private http: { close(): Promise<void>; address: string } | null = null;
  private failures = 0;

  constructor(private readonly o: ObserverOptions) {
    this.startedMs = o.sources.now();
    this.loadedMs = this.startedMs;
    // Checked now, so a bad schedule is a config error before the worker opens anything.
    const problem = o.internal.enabled && o.append ? cronProblem(o.internal.schedule) : null;
    if (problem) throw new ConfigError(`internal.schedule: ${problem}`);
  }

  get healthConfig(): HealthConfig {
    return this.o.health;
  }

  snapshot(): Snapshot {
    return takeSnapshot({ ...this.o.sources, startedMs: this.startedMs, version: this.version, process: () => this.process.figures() });
  }

  /** Start sampling, the self-metrics schedule and (when configured) the HTTP endpoint. */
  async start(): Promise<void> {
    // HTTP first: a port in use is a config error before anything else runs.
    if (this.o.http) {
      const { startHttp } = await import('./http.js');
      this.http = await startHttp({ config: this.o.http, observer: this, log: this.o.log });
    }
    this.process.start();
    this.sample();
    this.sampler = setInterval(() => this.sample(), RATE_SAMPLE_MS);
    this.sampler.unref();
    if (this.o.internal.enabled && this.o.append) this.timer ??= this.o.timer(this.o.internal.schedule, () => void this.writeInternal());
  }

  async stop(): Promise<void> {
    this.timer?.stop();
    this.timer = null;
    if (this.sampler) clearInterval(this.sampler);
    this.process.stop();
    await this.http?.close();
  }

  /** Self-metrics into the outbox now (also called by the schedule). Never throws. */
  writeInternal(): number {
    try {
      const { lines } = encodePoints(snapshotPoints(this.snapshot()), this.o.precision);
      this.o.append!(lines, this.o.precision);
      return lines.length;
    } catch (err) {
      if (this.failures++ % 100 === 0) this.o.log.warn({ err: errorMessage(err), failures: this.failures }, 'self-metrics not written');
      return 0;
    }
  }

  /** Points (or messages) per second each output delivered over about the last minute. */
  rates(now = this.o.sources.now()): Record<string, number> {
    const current = this.writtenNow();
    const oldest = this.samples.find((s) => now - s.timeMs <= RATE_WINDOW_MS + RATE_SAMPLE_MS) ?? this.samples[0];
    const out: Record<string, number> = {};
    for (const [name, n] of Object.entries(current)) {
      const dt = oldest ? (now - oldest.timeMs) / 1000 : 0;
      out[name] = dt > 0 ? Math.round(((n - (oldest!.written[name] ?? 0)) / dt) * 100) / 100 : 0;
    }
    return out;
  }

  /** What `wattline status` shows: the snapshot, health, rates and where the config came from. */
  status(): Record<string, unknown> {
    const snapshot = this.snapshot();
    return {
      ...snapshot,
      health: healthChecks(snapshot, this.o.health),
      rates: this.rates(snapshot.timeMs),
      configFile: this.o.configFile,
      configLoadedMs: this.loadedMs,
      http: this.http?.address ?? null,
    };
  }

  /** A reload applied a new config (for status). */
  configLoaded(atMs: number): void {
    this.loadedMs = atMs;
  }

  private writtenNow(): Record<string, number> {
    const written: Record<string, number> = {};
    const f = this.o.sources.flusher();
    if (f) written.influx = f.delivered;
    const m = this.o.sources.mqtt();
    if (m) written.mqtt = m.stats.published ?? 0;
    return written;
  }

  private sample(): void {
    const now = this.o.sources.now();
    this.samples.push({ timeMs: now, written: this.writtenNow() });
    while (this.samples.length > 0 && now - this.samples[0]!.timeMs > RATE_WINDOW_MS + RATE_SAMPLE_MS) this.samples.shift();
  }
}

let version: string | undefined;
/** package.json's version (found above this file, whether run from src/ or dist/). */
export function packageVersion(): string {
  if (version) return version;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    version = 'unknown';
  }
  return version;
}

/** A URL fit for status and metrics: no user, no password. */
export function withoutCredentials(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return '(unparsable url)';
  }
}
