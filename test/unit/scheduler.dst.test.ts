/**
 * The autumn DST change with a `timezone`: croner 10.0.1 took the next run from inside the
 * repeated hour to be the hour's first pass — in the past — so its timer fired again at once,
 * ~600 times a second for the whole hour (measured, Europe/Amsterdam, 2026-10-25). Every cron of
 * the scheduler that is not a fixed period (period.ts) and the self-metrics schedule
 * (observe/index.ts) run on croner: a job would have been started again as soon as it ended.
 * croner 11 schedules forward; these tests fail with 10.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cron } from 'croner';
import { Scheduler } from '../../src/scheduler/index.js';

const ZONE = 'Europe/Amsterdam';
// 02:00-03:00 local happens twice on 2026-10-25 (00:00-01:00 and 01:00-02:00 UTC); 02:30 local does not exist on 2026-03-29.
const REPEATED = ['2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2026-10-25T01:59:59Z'];
const SKIPPED = ['2026-03-29T01:30:00Z'];
// Not fixed periods (croner's, not PeriodTimer's), and one that is, as users write them.
const PATTERNS = ['15 * * * * *', '0 */20 * * * *', '*/7 * * * * *', '0 5,35 * * * *', '0 30 2 * * *', '*/30 * * * * *'];

test(`croner: from inside the repeated and the skipped hour (${ZONE}) the next run is after now, for every pattern`, () => {
  for (const pattern of PATTERNS) {
    for (const from of [...REPEATED, ...SKIPPED]) {
      const at = new Date(from);
      const next = new Cron(pattern, { timezone: ZONE, mode: '5-or-6-parts', paused: true }).nextRun(at);
      assert.ok(next && next.getTime() > at.getTime(), `${pattern} from ${from}: next run ${next?.toISOString()} is not after it`);
    }
  }
});

test('a job on croner inside the repeated hour runs at most once in 1.5 s (croner 10.0.1: hundreds of times), clock moved to 2026-10-25 01:30:00.3Z', async () => {
  const RealDate = Date;
  const skew = RealDate.parse('2026-10-25T01:30:00.300Z') - RealDate.now();
  // croner reads `new Date()` and Date.now(); both see the moved clock, timers run in real time.
  class MovedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + skew);
      else super(...(args as [number, number]));
    }
    static override now(): number {
      return RealDate.now() + skew;
    }
  }
  globalThis.Date = MovedDate as DateConstructor;
  const s = new Scheduler({ timezone: ZONE });
  let runs = 0;
  try {
    // Next due 01:30:07Z, 6.7 s away: no run is right.
    s.add({ name: 'meter', cron: '*/7 * * * * *', portKey: null, timeoutMs: 1000, run: async () => void runs++ });
    s.start();
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    await s.stop();
    globalThis.Date = RealDate;
  }
  assert.ok(runs <= 1, `${runs} runs in 1.5 s`);
});
