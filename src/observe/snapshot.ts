/**
 * One picture of the running worker, taken on demand: what self-metrics, /metrics, /health
 * and `wattline status` all show. The worker hands in plain functions (this room imports no
 * other room's classes), so every figure has one source.
 */
import { oneLine, type FlusherStatus } from '../influx/flusher.js';
import type { OutboxStats } from '../outbox/types.js';
import type { DeviceTally } from './devices.js';
import type { ProcessFigures } from './process.js';

export type OutputState = 'delivering' | 'backing_off' | 'refused' | 'idle';

export interface DeviceFigures extends DeviceTally {
  name: string;
  driver: string;
  nextRunMs: number | null;
}

export interface OutboxFigures {
  pendingRows: number;
  pendingBytes: number;
  oldestPendingMs: number | null;
  dropped: number;
  deadLetters: number;
  backfillPending: number;
}

export interface OutputFigures {
  output: 'influx' | 'mqtt';
  /** Where it goes (no secrets). */
  target: string;
  /** Points (influx) or messages (mqtt) the server took. */
  written: number;
  refused: number;
  retries: number;
  state: OutputState;
  nextTryMs: number | null;
  /** network, timeout, http_<status>, outbox; null while nothing failed. */
  lastErrorClass: string | null;
  /** The last error in words (one line, no body). */
  lastError: string | null;
  lastErrorMs: number | null;
}

export interface Snapshot {
  timeMs: number;
  startedMs: number;
  version: string;
  host: string;
  site: string | null;
  devices: DeviceFigures[];
  outbox: OutboxFigures | null;
  outputs: OutputFigures[];
  mqtt: { connected: boolean } | null;
  process: ProcessFigures;
}

export interface SnapshotSources {
  startedMs: number;
  version: string;
  host: string;
  site: string | null;
  now(): number;
  devices(): DeviceFigures[];
  /** All pending (live + backfill), and the live outbox alone. */
  outbox(): { all: OutboxStats; live: OutboxStats } | null;
  flusher(): FlusherStatus | null;
  mqtt(): { target: string; stats: Record<string, number> } | null;
  process(): ProcessFigures;
}

export function takeSnapshot(s: SnapshotSources): Snapshot {
  const outbox = s.outbox();
  const flusher = s.flusher();
  const mqtt = s.mqtt();
  const outputs: OutputFigures[] = [];
  if (flusher) outputs.push(influxFigures(flusher));
  if (mqtt) outputs.push(mqttFigures(mqtt.target, mqtt.stats));
  return {
    timeMs: s.now(),
    startedMs: s.startedMs,
    version: s.version,
    host: s.host,
    site: s.site,
    devices: s.devices().map((d) => (d.lastError === null ? d : { ...d, lastError: oneLine(d.lastError) })),
    outbox: outbox && {
      pendingRows: outbox.all.rows,
      pendingBytes: outbox.all.bytes,
      oldestPendingMs: outbox.all.oldestCommittedMs,
      dropped: outbox.all.dropped,
      deadLetters: outbox.all.deadLetters,
      backfillPending: outbox.all.rows - outbox.live.rows,
    },
    outputs,
    mqtt: mqtt && { connected: mqtt.stats.connected === 1 },
    process: s.process(),
  };
}

function influxFigures(f: FlusherStatus): OutputFigures {
  const e = f.lastError;
  return {
    output: 'influx',
    target: f.target,
    written: f.delivered,
    refused: f.refused,
    retries: f.retries,
    state: f.state,
    nextTryMs: f.nextAttemptMs,
    lastErrorClass: e ? (e.kind === 'internal' ? 'outbox' : e.status !== null ? `http_${e.status}` : /timed out|timeout/i.test(e.message) ? 'timeout' : 'network') : null,
    lastError: e ? oneLine(e.message) : null,
    lastErrorMs: e?.timeMs ?? null,
  };
}

function mqttFigures(target: string, m: Record<string, number>): OutputFigures {
  return {
    output: 'mqtt',
    target,
    written: m.published ?? 0,
    refused: m.publishErrors ?? 0,
    retries: Math.max(0, (m.connects ?? 0) - 1),
    state: m.connected === 1 ? (m.queued || m.batched || m.inflight ? 'delivering' : 'idle') : 'backing_off',
    nextTryMs: null,
    lastErrorClass: m.connected === 1 ? null : 'network',
    lastError: m.connected === 1 ? null : 'not connected to the broker',
    lastErrorMs: null,
  };
}
