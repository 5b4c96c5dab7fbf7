/**
 * The debug 'collected' line (runtime/ledger.ts): what the modbus-tcp bench reads a poll from.
 * It carries the job's wait (tick to port held) and duration (port held to committed) with µs,
 * is written once the jobs ending together have ended (not inside their polls), follows the
 * worker's level when a reload changes it, and is not lost when the worker stops first.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { FakeClock } from '../helpers/fake-clock.js';
import { DeviceWatch } from '../../src/observe/index.js';
import { JobLedger } from '../../src/runtime/ledger.js';
import type { JobReport } from '../../src/runtime/types.js';
import { Scheduler } from '../../src/scheduler/index.js';

const report = (device: string, lines: string[]): JobReport => ({ device, ok: true, points: [], lines, dropped: [] });

function setup(level: 'debug' | 'info') {
  const written: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) written.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({ level, redact: { paths: ['token', '*.token'], censor: '[redacted]' } }, sink);
  // Time moves only when a job moves it (no timer fires: nothing calls advance()).
  const clock = new FakeClock(1_700_000_000_000, { sleep: 'on-advance' });
  const scheduler = new Scheduler({ log, clock });
  const ledger = new JobLedger(new DeviceWatch({ log, reminderMs: 60_000 }), null, clock, log);
  ledger.follow(scheduler);
  const collected = () => written.filter((r) => r.msg === 'collected');
  return { log, clock, scheduler, ledger, collected, written };
}

test("debug 'collected' line: device, points, wait and duration to the µs, written after the jobs that ended together", async () => {
  const { clock, scheduler, ledger, collected } = setup('debug');
  let seenDuringJobs = -1;
  // Both on port a: gw2 queues behind gw1. Each job moves the clock by its own collecting time.
  const add = (name: string, ms: number, lines: string[]) =>
    scheduler.add({
      name,
      cron: '0 0 1 1 *',
      portKey: 'a',
      timeoutMs: 1000,
      run: async () => {
        clock.t += ms;
        ledger.collected(report(name, lines));
        seenDuringJobs = Math.max(seenDuringJobs, collected().length);
      },
    });
  add('gw1', 1.25, ['m a=1', 'm b=2']);
  add('gw2', 2.5, ['m c=3']);
  const results = await scheduler.runOnce(['gw1', 'gw2']);
  assert.deepEqual(
    results.map((r) => r.outcome),
    ['ok', 'ok'],
  );
  assert.equal(seenDuringJobs, 0, 'no line written while the jobs of the turn were still running');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    collected().map(({ device, points, ms, waitMs }) => ({ device, points, ms, waitMs })),
    [
      { device: 'gw1', points: 2, ms: 1.25, waitMs: 0 },
      // gw2 queued behind gw1 on port a for gw1's 1.25 ms.
      { device: 'gw2', points: 1, ms: 2.5, waitMs: 1.25 },
    ],
  );
});

test("debug 'collected' line follows a level raised after start, and stop writes the lines still pending", async () => {
  const { log, scheduler, ledger, collected, written } = setup('info');
  scheduler.add({ name: 'p1', cron: '0 0 1 1 *', portKey: null, timeoutMs: 1000, run: async () => void ledger.collected(report('p1', ['m a=1'])) });
  await scheduler.runOnce(['p1']);
  await new Promise((r) => setImmediate(r));
  assert.equal(collected().length, 0, 'nothing at info');
  log.level = 'debug';
  await scheduler.runOnce(['p1']);
  // The worker stops before the deferred write: close() writes it.
  ledger.close();
  assert.deepEqual(
    collected().map((r) => r.device),
    ['p1'],
  );
  // Redaction still applies to every other line of the same logger.
  log.info({ token: 'hunter2' }, 'other');
  assert.equal(written.at(-1)!.token, '[redacted]');
});
