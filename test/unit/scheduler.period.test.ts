import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Cron } from 'croner';
import { Scheduler } from '../../src/scheduler/index.js';
import { PeriodTimer, fixedPeriodMs, nextBoundary } from '../../src/scheduler/period.js';

describe('fixedPeriodMs: which cron expressions are a fixed period', () => {
  const cases: [string, number | null][] = [
    ['* * * * * *', 1000],
    ['*/5 * * * * *', 5000],
    ['*/60 * * * * *', 60_000],
    ['0 * * * * *', 60_000],
    ['* * * * *', 60_000],
    ['*/15 * * * *', 900_000],
    ['0 */5 * * * *', 300_000],
    // Not a fixed period: 0,7,…,56 then 0 again.
    ['*/7 * * * * *', null],
    // A fixed period only where every zone offset is a multiple of it (not +05:45).
    ['*/20 * * * *', null],
    ['*/30 * * * *', null],
    ['5 * * * * *', null],
    ['*/5 */5 * * * *', null],
    ['* * * * * 1', null],
    ['0 0 * * *', null],
    ['@hourly', null],
  ];
  for (const [pattern, ms] of cases) test(`'${pattern}' → ${ms}`, () => assert.equal(fixedPeriodMs(pattern), ms));
});

describe('the fast path ticks when croner does', () => {
  // Zones with :30 and :45 offsets, 30-minute DST (Lord Howe), and each zone's spring-forward of 2026.
  // Not the fall-back: croner 10 gets the repeated hour wrong (see period.ts), the fast path does not.
  const windows: [string | undefined, string][] = [
    [undefined, '2026-12-07T09:41:13.250Z'],
    ['UTC', '2026-12-07T09:41:13.250Z'],
    ['Europe/Amsterdam', '2026-03-29T01:00:00Z'],
    ['Asia/Kolkata', '2026-12-07T09:41:13.250Z'],
    ['Asia/Kathmandu', '2026-06-30T18:14:59.999Z'],
    ['America/St_Johns', '2026-03-08T05:30:00Z'],
    ['Australia/Lord_Howe', '2026-10-03T15:30:00Z'],
    ['Pacific/Chatham', '2026-09-26T14:00:00Z'],
  ];
  const patterns = ['* * * * * *', '*/5 * * * * *', '* * * * *', '0 */5 * * * *', '*/15 * * * *'];
  for (const [zone, around] of windows) {
    test(`${zone ?? 'host zone'} around ${around}`, () => {
      for (const pattern of patterns) {
        const periodMs = fixedPeriodMs(pattern)!;
        const cron = new Cron(pattern, { timezone: zone, mode: '5-or-6-parts' });
        // From an hour before to an hour after, at instants that fall on and between boundaries.
        const mid = Date.parse(around);
        const span = Math.max(3_600_000, 40 * periodMs);
        const stepMs = periodMs < 60_000 ? 997 : 61_003;
        let compared = 0;
        for (let t = mid - span; t <= mid + span; t += stepMs) {
          for (const at of [t, nextBoundary(t, periodMs)]) {
            const croner = cron.nextRuns(1, new Date(at))[0]!.getTime();
            assert.equal(nextBoundary(at, periodMs), croner, `${pattern} in ${zone ?? 'host zone'} after ${new Date(at).toISOString()}`);
            compared++;
          }
        }
        assert.ok(compared > 100);
      }
    });
  }
});

/** node:test's fake setTimeout, and a wall clock (epoch ms) that the test moves apart from it. */
function fakeTimers(t: TestContext, wall: number) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const clock = {
    wall,
    now: () => clock.wall,
    /** The wall clock moves to `to`; the timers run `timerMs` on. */
    move(to: number, timerMs: number) {
      clock.wall = to;
      t.mock.timers.tick(timerMs);
    },
  };
  return clock;
}

describe('PeriodTimer', () => {
  test('ticks on each boundary, not before it, once after a blocked loop, and never after stop', (t) => {
    const clock = fakeTimers(t, 1_700_000_000_300);
    const ticks: number[] = [];
    const timer = new PeriodTimer(1000, () => ticks.push(clock.wall), clock.now);
    assert.equal(timer.nextRun(), 1_700_000_001_000);

    // The timer fires 5 ms before the boundary by the wall clock (libuv's cached loop time, a clock
    // step): no tick; it re-arms for the rest.
    clock.move(1_700_000_000_995, 700);
    assert.deepEqual(ticks, []);
    clock.move(1_700_000_001_000, 5);
    assert.deepEqual(ticks, [1_700_000_001_000]);
    assert.equal(timer.nextRun(), 1_700_000_002_000, 'the next boundary strictly after the tick');

    // Loop blocked for 3.4 s: one tick when it wakes, the missed boundaries dropped (croner's behaviour).
    clock.move(1_700_000_005_400, 1000);
    assert.deepEqual(ticks, [1_700_000_001_000, 1_700_000_005_400]);
    assert.equal(timer.nextRun(), 1_700_000_006_000);
    clock.move(1_700_000_006_000, 600);
    assert.equal(ticks.length, 3);

    timer.stop();
    assert.equal(timer.nextRun(), null);
    clock.move(1_700_000_016_000, 10_000);
    assert.equal(ticks.length, 3);
  });

  test('stopped from inside its own tick: no further tick', (t) => {
    const clock = fakeTimers(t, 0);
    let n = 0;
    const timer = new PeriodTimer(5000, () => (n++, timer.stop()), clock.now);
    clock.move(5000, 5000);
    clock.move(20_000, 15_000);
    assert.equal(n, 1);
  });

  test('waits at most 30 s at a time (a wall-clock step is seen as soon as croner would)', (t) => {
    const clock = fakeTimers(t, 0);
    let n = 0;
    const timer = new PeriodTimer(900_000, () => n++, clock.now);
    // The clock steps forward past the boundary: noticed at the next 30 s check, not 15 min later.
    clock.move(900_001, 30_000);
    assert.equal(n, 1);
    timer.stop();
  });
});

test('a job on a fixed period starts on the boundary status() announced (real clock); its overruns are counted', async () => {
  const s = new Scheduler();
  const starts: { at: number; announced: number; nextDuring: number | null }[] = [];
  let announced = 0;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  s.add({
    name: 'j',
    cron: '* * * * * *',
    portKey: null,
    timeoutMs: 60_000,
    run: async () => {
      starts.push({ at: Date.now(), announced, nextDuring: s.status()[0]!.nextRun });
      if (starts.length === 1) await held;
    },
  });
  const skipped = new Promise<void>((r) => s.on('jobSkipped', ({ overrunsSkipped }) => overrunsSkipped === 2 && r()));
  s.start();
  announced = s.status()[0]!.nextRun!;
  await skipped;
  release();
  await s.stop();
  const first = starts[0]!;
  assert.equal(first.announced % 1000, 0, 'a whole second');
  assert.ok(first.at >= first.announced, `started at ${first.at}, before its tick ${first.announced}`);
  assert.ok(first.nextDuring! > first.announced && first.nextDuring! % 1000 === 0, 'nextRun moved on to a later second');
  const st = s.status()[0]!;
  assert.equal(st.overrunsSkipped, 2);
  assert.equal(st.runs, starts.length);
  assert.equal(st.nextRun, null);
});
