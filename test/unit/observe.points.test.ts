/** Self-metric points: the exact lines a snapshot becomes (the README's example lines). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePoints } from '../../src/core/line-protocol.js';
import { snapshotPoints } from '../../src/observe/points.js';
import type { Snapshot } from '../../src/observe/snapshot.js';

test('a snapshot as wattline_device / _outbox / _output / _process lines: integers for counters, host and site tags, started', () => {
  const NOW = Date.parse('2026-12-01T12:00:00Z');
  const errors: Snapshot['devices'][number]['errors'] = { timeout: 2, lock_timeout: 0, transport: 5, device: 0, frame: 1, config: 0, other: 0 };
  const s: Snapshot = {
    timeMs: NOW,
    startedMs: NOW - 86_400_000,
    version: '0.1.0',
    host: 'pi-garage',
    site: 'home',
    devices: [
      {
        name: 'meter',
        driver: 'dsmr-p1',
        nextRunMs: NOW + 1000,
        ok: 8630,
        failed: 8,
        timedOut: 2,
        skipped: 1,
        errors,
        lastDurationMs: 12.5,
        points: 17260,
        lastOkMs: NOW - 4000,
        lastErrorMs: NOW - 3_600_000,
        lastError: 'x',
        failingSinceMs: null,
        consecutiveFailures: 0,
      },
    ],
    outbox: { pendingRows: 120, pendingBytes: 14400, oldestPendingMs: NOW - 30_000, dropped: 0, deadLetters: 1, backfillPending: 0 },
    outputs: [
      { output: 'influx', target: 't', written: 172000, refused: 0, retries: 3, state: 'backing_off', nextTryMs: NOW + 8000, lastErrorClass: 'network', lastError: 'e', lastErrorMs: NOW },
      { output: 'mqtt', target: 'm', written: 9000, refused: 0, retries: 1, state: 'idle', nextTryMs: null, lastErrorClass: null, lastError: null, lastErrorMs: null },
    ],
    mqtt: { connected: true },
    process: { rssBytes: 61_000_000, heapUsedBytes: 14_000_000, cpuSeconds: 812.25, eventLoopDelayP99Ms: 21.5, uptimeS: 86400 },
  };
  assert.deepEqual(encodePoints(snapshotPoints(s), 's').lines, [
    `wattline_device,device=meter,driver=dsmr-p1,host=pi-garage,site=home collections_failed=8i,collections_ok=8630i,collections_skipped=1i,collections_timed_out=2i,errors_config=0i,errors_device=0i,errors_frame=1i,errors_lock_timeout=0i,errors_other=0i,errors_timeout=2i,errors_transport=5i,failing=0i,last_duration_ms=12.5,points=17260i,since_success_s=4,started=1796040000i 1796126400`,
    `wattline_outbox,host=pi-garage,site=home backfill_pending=0i,dead_letters=1i,dropped=0i,oldest_pending_age_s=30,pending_bytes=14400i,pending_rows=120i,started=1796040000i 1796126400`,
    `wattline_output,host=pi-garage,output=influx,site=home last_error_class="network",next_try_s=8,refused=0i,retries=3i,started=1796040000i,state="backing_off",written=172000i 1796126400`,
    `wattline_output,host=pi-garage,output=mqtt,site=home last_error_class="none",next_try_s=0,refused=0i,retries=1i,started=1796040000i,state="idle",written=9000i 1796126400`,
    `wattline_process,host=pi-garage,site=home cpu_s=812.25,event_loop_delay_p99_ms=21.5,heap_used_bytes=14000000i,rss_bytes=61000000i,started=1796040000i,uptime_s=86400i,version="0.1.0" 1796126400`,
  ]);
});
