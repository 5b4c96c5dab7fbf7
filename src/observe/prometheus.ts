/**
 * The snapshot in Prometheus' text format through prom-client (the ecosystem's library: HELP
 * and TYPE lines, escaping, counters ending in `_total`). Every metric reads the one snapshot
 * taken per scrape, so a scrape is one consistent picture.
 */
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';
import { ERROR_CLASSES } from './devices.js';
import type { Snapshot } from './snapshot.js';

// Only the three classes used here. The package's index also loads the Pushgateway (http,
// https), cluster aggregation and the default metrics: about 11 MB resident instead of 0.9 MB
// (measured with Node 20), more than the whole budget of watching the worker (README).
const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry') as typeof Prom.Registry;
const Counter = require('prom-client/lib/counter') as typeof Prom.Counter;
const Gauge = require('prom-client/lib/gauge') as typeof Prom.Gauge;
type Gauge<T extends string> = Prom.Gauge<T>;
type Counter<T extends string> = Prom.Counter<T>;

export class PrometheusView {
  private readonly registry = new Registry();
  private current: Snapshot | null = null;
  private turn: Promise<unknown> = Promise.resolve();

  constructor() {
    const s = () => this.current!;
    // Each metric is filled from the current snapshot when scraped, after dropping the last scrape's series.
    const fillFrom = <M extends { reset(): void }>(fill: (m: M, s: Snapshot) => void) =>
      function (this: M) {
        this.reset();
        fill(this, s());
      };
    const gauge = (name: string, help: string, labelNames: string[], fill: (m: Gauge<string>, s: Snapshot) => void) => new Gauge({ name, help, labelNames, registers: [this.registry], collect: fillFrom(fill) });
    const counter = (name: string, help: string, labelNames: string[], fill: (m: Counter<string>, s: Snapshot) => void) => new Counter({ name, help, labelNames, registers: [this.registry], collect: fillFrom(fill) });
    const dev = ['device', 'driver'];
    const labels = (d: { name: string; driver: string }) => ({ device: d.name, driver: d.driver });

    counter('wattline_device_collections_total', 'Collections since the process started, by result (timed_out is also counted as failed)', [...dev, 'result'], (m, x) => {
      for (const d of x.devices) {
        m.inc({ ...labels(d), result: 'ok' }, d.ok);
        m.inc({ ...labels(d), result: 'failed' }, d.failed);
        m.inc({ ...labels(d), result: 'timed_out' }, d.timedOut);
        m.inc({ ...labels(d), result: 'skipped' }, d.skipped);
      }
    });
    counter('wattline_device_errors_total', 'Failed collections by error class', [...dev, 'class'], (m, x) => {
      for (const d of x.devices) for (const c of ERROR_CLASSES) m.inc({ ...labels(d), class: c }, d.errors[c]);
    });
    counter('wattline_device_points_total', 'Points produced by successful collections', dev, (m, x) => {
      for (const d of x.devices) m.inc(labels(d), d.points);
    });
    gauge('wattline_device_last_duration_seconds', 'How long the last collection took', dev, (m, x) => {
      for (const d of x.devices) if (d.lastDurationMs !== null) m.set(labels(d), d.lastDurationMs / 1000);
    });
    gauge('wattline_device_seconds_since_success', 'Seconds since the last successful collection (absent before the first)', dev, (m, x) => {
      for (const d of x.devices) if (d.lastOkMs !== null) m.set(labels(d), (x.timeMs - d.lastOkMs) / 1000);
    });
    gauge('wattline_device_failing', '1 while the device fails since its last success', dev, (m, x) => {
      for (const d of x.devices) m.set(labels(d), d.failingSinceMs === null ? 0 : 1);
    });

    const outbox = (name: string, help: string, value: (o: NonNullable<Snapshot['outbox']>, x: Snapshot) => number) => gauge(name, help, [], (m, x) => x.outbox && m.set(value(x.outbox, x)));
    outbox('wattline_outbox_pending_rows', 'Points waiting in the outbox (live and backfill)', (o) => o.pendingRows);
    outbox('wattline_outbox_pending_bytes', 'Bytes of line protocol waiting in the outbox', (o) => o.pendingBytes);
    outbox('wattline_outbox_oldest_pending_age_seconds', 'Age of the oldest pending point (0 when empty)', (o, x) => (o.oldestPendingMs === null ? 0 : (x.timeMs - o.oldestPendingMs) / 1000));
    outbox('wattline_outbox_dead_letters', 'Lines the server refused, kept in the dead-letter table', (o) => o.deadLetters);
    outbox('wattline_outbox_backfill_pending_rows', 'Backfill points waiting behind the live ones', (o) => o.backfillPending);
    counter('wattline_outbox_dropped_total', 'Points dropped because the outbox was full (since the outbox was created)', [], (m, x) => x.outbox && m.inc(x.outbox.dropped));

    const out = ['output'];
    counter('wattline_output_written_total', 'Points (influx) or messages (mqtt) delivered', out, (m, x) => x.outputs.forEach((o) => m.inc({ output: o.output }, o.written)));
    counter('wattline_output_refused_total', 'Batches refused by the server (401/403/404) or publishes that failed', out, (m, x) => x.outputs.forEach((o) => m.inc({ output: o.output }, o.refused)));
    counter('wattline_output_retries_total', 'Batches kept for a retry (network, timeout, 5xx, 429) or reconnects', out, (m, x) => x.outputs.forEach((o) => m.inc({ output: o.output }, o.retries)));
    gauge('wattline_output_state', '1 for the state the output is in', [...out, 'state'], (m, x) => {
      for (const o of x.outputs) for (const st of ['delivering', 'backing_off', 'refused', 'idle']) m.set({ output: o.output, state: st }, o.state === st ? 1 : 0);
    });
    gauge('wattline_output_next_try_seconds', 'Seconds until the next try after a failure (0 when not waiting)', out, (m, x) => {
      for (const o of x.outputs) m.set({ output: o.output }, o.nextTryMs === null ? 0 : Math.max(0, (o.nextTryMs - x.timeMs) / 1000));
    });

    gauge('wattline_process_resident_memory_bytes', 'Resident memory', [], (m, x) => m.set(x.process.rssBytes));
    gauge('wattline_process_heap_used_bytes', 'V8 heap in use', [], (m, x) => m.set(x.process.heapUsedBytes));
    counter('wattline_process_cpu_seconds_total', 'User and system CPU time', [], (m, x) => m.inc(x.process.cpuSeconds));
    gauge('wattline_process_event_loop_delay_p99_seconds', '99th percentile of the event-loop delay over about the last minute', [], (m, x) => m.set(x.process.eventLoopDelayP99Ms / 1000));
    gauge('wattline_process_start_time_seconds', 'Start of the process, unix seconds', [], (m, x) => m.set(Math.floor(x.startedMs / 1000)));
    gauge('wattline_build_info', 'Always 1; the version as a label', ['version'], (m, x) => m.set({ version: x.version }, 1));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Scrapes take turns: each renders its own snapshot. */
  render(snapshot: Snapshot): Promise<string> {
    const run = this.turn.then(async () => {
      this.current = snapshot;
      try {
        return await this.registry.metrics();
      } finally {
        this.current = null;
      }
    });
    this.turn = run.catch(() => undefined);
    return run;
  }
}
