/**
 * A snapshot as points, the way Telegraf's `inputs.internal` writes its own: one
 * `wattline_device` per device, one `wattline_outbox`, one `wattline_output` per output and
 * one `wattline_process`, tagged `host` and `site`. Counters are integers, monotonic since the
 * process started; `started` (unix seconds) changes when they restart from zero, so Grafana's
 * `non_negative_derivative` sees a restart for what it is.
 */
import { int, msToNs, type FieldValue, type Point } from '../core/point.js';
import { ERROR_CLASSES } from './devices.js';
import type { Snapshot } from './snapshot.js';

const ageS = (nowMs: number, thenMs: number | null): number | undefined => (thenMs === null ? undefined : Math.max(0, (nowMs - thenMs) / 1000));

export function snapshotPoints(s: Snapshot): Point[] {
  const time = msToNs(s.timeMs);
  const base: Record<string, string> = { host: s.host, ...(s.site ? { site: s.site } : {}) };
  const started = int(Math.floor(s.startedMs / 1000));
  const points: Point[] = [];
  const point = (measurement: string, tags: Record<string, string>, fields: Record<string, FieldValue | undefined>) => {
    const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<string, FieldValue>;
    points.push({ measurement, tags: { ...base, ...tags }, fields: defined, time });
  };

  for (const d of s.devices) {
    point(
      'wattline_device',
      { device: d.name, driver: d.driver },
      {
        collections_ok: int(d.ok),
        collections_failed: int(d.failed),
        collections_timed_out: int(d.timedOut),
        collections_skipped: int(d.skipped),
        ...Object.fromEntries(ERROR_CLASSES.map((c) => [`errors_${c}`, int(d.errors[c])])),
        last_duration_ms: d.lastDurationMs === null ? undefined : Math.round(d.lastDurationMs * 1000) / 1000,
        points: int(d.points),
        since_success_s: ageS(s.timeMs, d.lastOkMs),
        failing: int(d.failingSinceMs === null ? 0 : 1),
        started,
      },
    );
  }
  if (s.outbox) {
    const o = s.outbox;
    point(
      'wattline_outbox',
      {},
      {
        pending_rows: int(o.pendingRows),
        pending_bytes: int(o.pendingBytes),
        oldest_pending_age_s: ageS(s.timeMs, o.oldestPendingMs) ?? 0,
        dropped: int(o.dropped),
        dead_letters: int(o.deadLetters),
        backfill_pending: int(o.backfillPending),
        started,
      },
    );
  }
  for (const o of s.outputs) {
    point(
      'wattline_output',
      { output: o.output },
      {
        written: int(o.written),
        refused: int(o.refused),
        retries: int(o.retries),
        state: o.state,
        next_try_s: o.nextTryMs === null ? 0 : Math.max(0, (o.nextTryMs - s.timeMs) / 1000),
        last_error_class: o.lastErrorClass ?? 'none',
        started,
      },
    );
  }
  const p = s.process;
  point(
    'wattline_process',
    {},
    {
      rss_bytes: int(p.rssBytes),
      heap_used_bytes: int(p.heapUsedBytes),
      cpu_s: p.cpuSeconds,
      event_loop_delay_p99_ms: p.eventLoopDelayP99Ms,
      uptime_s: int(p.uptimeS),
      version: s.version,
      started,
    },
  );
  return points;
}
