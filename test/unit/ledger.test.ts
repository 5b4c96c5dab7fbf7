/**
 * The runtime records a job's outcome in one place, the scheduler's job end (runtime/ledger.ts;
 * docs/architecture.md, "Where a job's outcome is recorded"): a collection that finishes after
 * its job timed out, and a job that never got its port, are each one failed run in the device
 * status beside the outbox — never a success, never counted twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { systemClock } from '../../src/core/clock.js';
import { DeviceWatch } from '../../src/observe/index.js';
import { openDeviceStatus } from '../../src/outbox/device-status.js';
import { JobLedger } from '../../src/runtime/ledger.js';
import type { JobReport } from '../../src/runtime/types.js';
import { Scheduler } from '../../src/scheduler/index.js';

const dir = mkdtempSync(join(tmpdir(), 'wl-ledger-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const report = (device: string): JobReport => ({ device, ok: true, points: [], lines: ['m v=1i 1'], dropped: [] });

test('job ledger: a collection finishing after its timeout and a job that never got its port are each one failed run (status beside the outbox)', async () => {
  const path = join(dir, 'outbox.sqlite');
  new Database(path).close();
  const status = openDeviceStatus(path);
  const log = pino({ level: 'silent' });
  const scheduler = new Scheduler({ log });
  const ledger = new JobLedger(new DeviceWatch({ log, reminderMs: 60_000 }), status, systemClock, log);
  ledger.follow(scheduler);

  let lateCollect!: () => void;
  const late = new Promise<void>((resolve) => (lateCollect = resolve));
  // Ignores its deadline: finishes its collection only once the scheduler has given up on it.
  scheduler.add({
    name: 'slow',
    cron: '0 0 1 1 *',
    portKey: 'bus',
    timeoutMs: 300,
    run: async (signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      ledger.collected(report('slow'));
      lateCollect();
    },
  });
  // Its neighbour on the same bus gives up waiting for the port long before that.
  scheduler.add({ name: 'neighbour', cron: '0 0 1 1 *', portKey: 'bus', timeoutMs: 1000, lockWaitMs: 20, run: async () => void ledger.collected(report('neighbour')) });
  try {
    const results = await scheduler.runOnce(['slow', 'neighbour']);
    await late;
    assert.deepEqual(
      results.map((r) => [r.name, r.outcome]),
      [
        ['slow', 'timeout'],
        ['neighbour', 'lock-timeout'],
      ],
    );
    // once/test report what the scheduler decided, not the late collection.
    assert.deepEqual(
      ledger.reports(results).map((r) => [r.device, r.ok]),
      [
        ['slow', false],
        ['neighbour', false],
      ],
    );
    const slow = status.get('slow')!;
    assert.deepEqual([slow.ok, slow.runs, slow.failures, slow.points, slow.lastOkMs], [false, 1, 1, 0, null]);
    assert.match(slow.error!, /timed out after 300ms/);
    const neighbour = status.get('neighbour')!;
    assert.deepEqual([neighbour.ok, neighbour.runs, neighbour.failures, neighbour.points, neighbour.lastOkMs], [false, 1, 1, 0, null]);
  } finally {
    await scheduler.stop();
    ledger.close();
  }
});
