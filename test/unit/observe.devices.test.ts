/** A device's failures as a person reads them over days: first occurrence, reminders with the count, recovery. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { TimeoutError, TransportError } from '../../src/core/errors.js';
import { DeviceWatch, errorClass } from '../../src/observe/devices.js';

function capture() {
  const records: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => void records.push(JSON.parse(s)) });
  return { log, records, loud: () => records.filter((r) => r.level >= 30).map((r) => r.msg) };
}

const refused = { name: 'ups', ok: false, outcome: 'error' as const, error: '127.0.0.1:3493: cannot connect: ECONNREFUSED', err: new TransportError('x', true), durationMs: 3 };

test('the same failure every 10 s for 12 minutes: logged once, then once per reminder with the count; a new error at once; the recovery in words', () => {
  const { log, records, loud } = capture();
  const watch = new DeviceWatch({ log, reminderMs: 300_000 });
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  for (let i = 0; i < 72; i++) watch.ended(refused, 0, t0 + i * 10_000);
  assert.deepEqual(loud(), ['collection failed', 'ups still failing: 31 failures in a row', 'ups still failing: 61 failures in a row']);
  assert.equal(records.filter((r) => r.msg === 'collection failed again').length, 69, 'the rest at debug');
  watch.ended({ ...refused, outcome: 'timeout', error: 'no answer within 5000 ms', err: new TimeoutError('t') }, 0, t0 + 720_000);
  assert.equal(loud().at(-1), 'collection failed');
  watch.ended({ name: 'ups', ok: true, outcome: 'ok', durationMs: 12 }, 40, t0 + 730_000);
  assert.equal(loud().at(-1), 'ups recovered after 73 failures');
  const t = watch.tally('ups');
  assert.deepEqual(
    { ok: t.ok, failed: t.failed, timedOut: t.timedOut, transport: t.errors.transport, timeout: t.errors.timeout, points: t.points, failing: t.failingSinceMs, run: t.consecutiveFailures },
    { ok: 1, failed: 73, timedOut: 1, transport: 72, timeout: 1, points: 40, failing: null, run: 0 },
  );
});

test('error classes: the scheduler outcome first, then the WattlineError code', () => {
  assert.equal(errorClass({ outcome: 'lock-timeout' }), 'lock_timeout');
  assert.equal(errorClass({ outcome: 'error', err: new TransportError('x', false) }), 'transport');
  assert.equal(errorClass({ outcome: 'error', err: new Error('plain') }), 'other');
});
