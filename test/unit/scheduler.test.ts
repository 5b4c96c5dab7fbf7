import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DeviceError, TimeoutError } from '../../src/core/errors.js';
import { abortedByStop, Scheduler, type JobSpec, type JobStatus } from '../../src/scheduler/index.js';
import { FakeClock } from '../helpers/fake-clock.js';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Poll (one event-loop turn at a time) until cond holds; no wall-clock timing involved. */
async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`never happened: ${what}`);
}

const CLOCKS = [
  // Time that moves only when the test says so; the second with Clock.after, as systemClock has it (the scheduler's timers use it when present).
  { kind: 'sleep only', make: (): FakeClock => new FakeClock(1_700_000_000_000, { sleep: 'on-advance' }) },
  { kind: 'with after()', make: (): FakeClock => new FakeClock(1_700_000_000_000, { sleep: 'on-advance', after: true }) },
];

function job(over: Partial<JobSpec> & { name: string }): JobSpec {
  return { cron: '0 0 * * *', portKey: null, timeoutMs: 60_000, run: async () => undefined, ...over };
}

function byName(list: JobStatus[]): Record<string, JobStatus> {
  return Object.fromEntries(list.map((s) => [s.name, s]));
}

describe('Scheduler.add validation', () => {
  const bad: [string, string][] = [
    ['61 * * * *', 'minute'],
    ['a b c', 'fields'],
    ['* * * *', 'fields'],
    ['0 0 30 2 *', 'never fires'],
    ['2026-01-01T00:00:00', 'fields'],
    ['', 'fields'],
  ];
  for (const [cron, why] of bad) {
    test(`cron '${cron}' is a one-line ConfigError naming job and expression`, () => {
      const s = new Scheduler();
      assert.throws(
        () => s.add(job({ name: 'pdu-rack', cron })),
        (err: unknown) => err instanceof ConfigError && err.message.startsWith('job pdu-rack: invalid cron expression') && err.message.includes(`'${cron}'`) && err.message.includes(why) && !err.message.includes('\n'),
      );
      assert.equal(s.status().length, 0);
    });
  }

  test('accepts 5 and 6 fields and nicknames', () => {
    const s = new Scheduler({ timezone: 'Europe/Amsterdam' });
    s.add(job({ name: 'a', cron: '*/5 * * * * *' }));
    s.add(job({ name: 'b', cron: '*/2 * * * *' }));
    s.add(job({ name: 'c', cron: '@hourly' }));
    assert.deepEqual(
      s.status().map((x) => x.name),
      ['a', 'b', 'c'],
    );
  });

  test('duplicate names, bad timeouts and bad timezones are ConfigErrors', () => {
    const s = new Scheduler();
    s.add(job({ name: 'a' }));
    assert.throws(
      () => s.add(job({ name: 'a' })),
      (e: unknown) => e instanceof ConfigError && /job a: duplicate/.test(e.message),
    );
    assert.throws(
      () => s.add(job({ name: 'b', timeoutMs: 0 })),
      (e: unknown) => e instanceof ConfigError && /job b: timeoutMs/.test(e.message),
    );
    assert.throws(() => s.add(job({ name: 'c', timeoutMs: Infinity })), ConfigError);
    assert.throws(
      () => s.add(job({ name: 'd', timezone: 'Mars/Base' })),
      (e: unknown) => e instanceof ConfigError && /job d: invalid timezone 'Mars\/Base'/.test(e.message),
    );
    assert.throws(() => new Scheduler({ timezone: 'Nowhere' }), ConfigError);
  });
});

describe('Scheduler.runOnce', () => {
  test('jobs on one port never overlap; jobs on different ports do; results in order', async () => {
    const s = new Scheduler();
    const active = new Map<string, number>();
    let maxPerPort = 0;
    let total = 0;
    let maxTotal = 0;
    const entered: string[] = [];
    // The two first jobs (ports A and B) must be inside together, or this never opens.
    const both = deferred();
    let met = 0;
    const meet = async () => {
      if (++met === 2) both.resolve();
      await both.promise;
    };
    const body = (name: string, port: string, wait: () => Promise<void>) => async () => {
      const n = (active.get(port) ?? 0) + 1;
      active.set(port, n);
      maxPerPort = Math.max(maxPerPort, n);
      maxTotal = Math.max(maxTotal, ++total);
      entered.push(name);
      await wait();
      await tick();
      active.set(port, n - 1);
      total--;
    };
    s.add(job({ name: 'a1', portKey: 'A', run: body('a1', 'A', meet) }));
    s.add(job({ name: 'a2', portKey: 'A', run: body('a2', 'A', tick) }));
    s.add(job({ name: 'b1', portKey: 'B', run: body('b1', 'B', meet) }));
    s.add(job({ name: 'a3', portKey: 'A', run: body('a3', 'A', tick) }));
    const results = await s.runOnce();
    assert.deepEqual(
      results.map((r) => [r.name, r.ok, r.outcome]),
      [
        ['a1', true, 'ok'],
        ['a2', true, 'ok'],
        ['b1', true, 'ok'],
        ['a3', true, 'ok'],
      ],
    );
    assert.equal(maxPerPort, 1);
    assert.ok(maxTotal >= 2, `max concurrency ${maxTotal}`);
    assert.deepEqual(
      entered.filter((n) => n.startsWith('a')),
      ['a1', 'a2', 'a3'],
    );
    const st = byName(s.status());
    assert.equal(st.a2!.runs, 1);
    assert.equal(st.a2!.lastOk, true);
    assert.equal(st.a2!.nextRun, null, 'not started: nothing scheduled');
  });

  test('named jobs only; unknown name is a ConfigError; a job in flight is joined, not run twice', async () => {
    const s = new Scheduler();
    let runs = 0;
    const gate = deferred();
    s.add(
      job({
        name: 'x',
        run: async () => {
          runs++;
          await gate.promise;
        },
      }),
    );
    s.add(job({ name: 'y', run: async () => assert.fail('y must not run') }));
    await assert.rejects(s.runOnce(['nope']), (e: unknown) => e instanceof ConfigError && /no job named 'nope'/.test(e.message));
    const first = s.runOnce(['x']);
    const second = s.runOnce(['x']);
    gate.resolve();
    const [[r1], [r2]] = await Promise.all([first, second]);
    assert.equal(runs, 1);
    assert.equal(r1, r2);
  });

  test('a failing job is recorded and does not stop the others; no unhandled rejections', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const s = new Scheduler();
      s.add(
        job({
          name: 'garbage',
          portKey: 'P',
          run: async () => {
            throw new DeviceError('bad checksum', 'garbage');
          },
        }),
      );
      s.add(
        job({
          name: 'sync-throw',
          portKey: 'P',
          run: () => {
            throw new Error('boom');
          },
        }),
      );
      s.add(job({ name: 'string-reject', portKey: 'P', run: () => Promise.reject('not an Error') }));
      s.add(job({ name: 'fine', portKey: 'P' }));
      const results = await s.runOnce();
      assert.deepEqual(
        results.map((r) => r.outcome),
        ['error', 'error', 'error', 'ok'],
      );
      assert.ok(results[0]!.err instanceof DeviceError);
      assert.equal(results[0]!.error, 'bad checksum');
      assert.equal(results[2]!.error, 'not an Error');
      const st = byName(s.status());
      assert.equal(st.garbage!.failures, 1);
      assert.equal(st.garbage!.lastOk, false);
      assert.equal(st.garbage!.lastError, 'bad checksum');
      assert.equal(st['sync-throw']!.lastError, 'boom');
      assert.equal(st.fine!.failures, 0);
      await tick();
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('events: jobStart and jobEnd; a throwing listener breaks nothing', async () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.on('jobStart', ({ name, trigger }) => seen.push(`start ${name} ${trigger}`));
    s.on('jobEnd', ({ name, ok, durationMs }) => seen.push(`end ${name} ${ok} ${typeof durationMs}`));
    s.on('jobEnd', () => {
      throw new Error('listener bug');
    });
    s.add(job({ name: 'a' }));
    const [r] = await s.runOnce();
    assert.equal(r!.ok, true);
    assert.deepEqual(seen, ['start a manual', 'end a true number']);
  });
});

for (const { kind, make } of CLOCKS)
  describe(`Scheduler timeouts (manual clock, ${kind})`, () => {
    test('timeout aborts the signal, is recorded, and the port stays held until the job lets go', async () => {
      const clock = make();
      const s = new Scheduler({ clock });
      let reason: unknown;
      const zombie = deferred();
      let started = false;
      s.add(
        job({
          name: 'slow',
          portKey: 'P',
          timeoutMs: 20,
          // Ignores its signal on purpose: a driver bug must not let two jobs share a wire.
          run: (signal) => {
            started = true;
            signal.addEventListener('abort', () => (reason = signal.reason));
            return zombie.promise;
          },
        }),
      );
      let nextRan = false;
      s.add(job({ name: 'next', portKey: 'P', lockWaitMs: 10_000, run: async () => void (nextRan = true) }));
      const slow = s.runOnce(['slow']);
      await until(() => started, 'slow started');
      clock.advance(20);
      const [r] = await slow;
      assert.equal(r!.outcome, 'timeout');
      assert.ok(r!.err instanceof TimeoutError);
      assert.equal(r!.error, 'job slow timed out after 20ms');
      assert.equal(reason, r!.err, 'the signal carries the TimeoutError');
      assert.equal(r!.durationMs, 20);
      let st = byName(s.status()).slow!;
      assert.deepEqual([st.timeouts, st.failures, st.runs, st.running], [1, 1, 1, true]);

      const next = s.runOnce(['next']);
      await tick();
      assert.equal(nextRan, false, 'port still held by the job that timed out');
      zombie.resolve();
      const [n] = await next;
      assert.equal(n!.ok, true);
      st = byName(s.status()).slow!;
      assert.equal(st.running, false);
    });

    test('the timeout starts once the port is held; waiting has its own bound', async () => {
      const clock = make();
      const s = new Scheduler({ clock });
      const gate = deferred();
      let holderIn = false;
      let quitterRan = false;
      s.add(
        job({
          name: 'holder',
          portKey: 'P',
          timeoutMs: 1_000_000,
          run: async () => {
            holderIn = true;
            await gate.promise;
          },
        }),
      );
      s.add(job({ name: 'patient', portKey: 'P', timeoutMs: 30, lockWaitMs: 1000 }));
      s.add(job({ name: 'quitter', portKey: 'P', timeoutMs: 30, lockWaitMs: 50, run: async () => void (quitterRan = true) }));
      const all = s.runOnce();
      await until(() => holderIn, 'holder in');
      clock.advance(100); // past both jobs' timeouts, past quitter's wait bound
      await until(() => byName(s.status()).quitter!.runs === 1, 'quitter gave up');
      gate.resolve();
      const [holder, patient, quitter] = await all;
      assert.equal(holder!.ok, true);
      assert.equal(patient!.ok, true, 'time queued does not count against the timeout');
      assert.equal(patient!.waitMs, 100);
      assert.equal(quitter!.outcome, 'lock-timeout');
      assert.ok(quitter!.err instanceof TimeoutError);
      assert.equal(quitter!.error, 'job quitter waited more than 50 ms for port P');
      assert.equal(quitter!.durationMs, 0);
      assert.equal(quitterRan, false);
      const st = byName(s.status()).quitter!;
      assert.deepEqual([st.lockTimeouts, st.timeouts, st.failures, st.lastStart], [1, 0, 1, null]);
    });

    test('by default a job waits for its port as long as max(timeout, cron interval)', async () => {
      const clock = make();
      const s = new Scheduler({ clock });
      const gate = deferred();
      s.add(job({ name: 'holder', portKey: 'P', timeoutMs: 1_000_000, run: () => gate.promise }));
      s.add(job({ name: 'every10s', cron: '*/10 * * * * *', portKey: 'P', timeoutMs: 1000 }));
      const results = s.runOnce();
      await tick();
      clock.advance(9_999);
      await tick();
      assert.equal(byName(s.status()).every10s!.runs, 0);
      clock.advance(1);
      await until(() => byName(s.status()).every10s!.runs === 1, 'gave up');
      gate.resolve();
      const [, r] = await results;
      assert.equal(r!.error, 'job every10s waited more than 10000 ms for port P');
    });
  });

describe('Scheduler.stop', () => {
  test('aborts running jobs and queued waiters, and waits for them to settle', async () => {
    const s = new Scheduler();
    const order: string[] = [];
    s.add(
      job({
        name: 'running',
        portKey: 'P',
        run: (signal) =>
          new Promise((_, reject) => {
            order.push('started');
            signal.addEventListener('abort', () =>
              setImmediate(() => {
                order.push('job settled');
                reject(signal.reason);
              }),
            );
          }),
      }),
    );
    s.add(job({ name: 'queued', portKey: 'P', run: async () => void order.push('queued ran') }));
    s.start();
    const results = s.runOnce();
    await until(() => order.includes('started'), 'started');
    await s.stop();
    order.push('stop resolved');
    assert.deepEqual(order, ['started', 'job settled', 'stop resolved']);
    const [running, queued] = await results;
    assert.equal(running!.outcome, 'aborted');
    assert.match(running!.error!, /job running aborted: scheduler stopping/);
    assert.equal(queued!.outcome, 'aborted');
    assert.ok(s.status().every((x) => x.nextRun === null && !x.running));
  });

  for (const { kind, make } of CLOCKS)
    test(`gives up waiting after stopTimeoutMs for a job that ignores its signal (${kind})`, async () => {
      const clock = make();
      const s = new Scheduler({ clock, stopTimeoutMs: 500 });
      const gate = deferred();
      let started = false;
      s.add(
        job({
          name: 'stubborn',
          run: async () => {
            started = true;
            await gate.promise;
          },
        }),
      );
      const results = s.runOnce();
      await until(() => started, 'started');
      let stopped = false;
      const stopping = s.stop().then(() => (stopped = true));
      await tick();
      assert.equal(stopped, false);
      clock.advance(500);
      await stopping;
      assert.equal(byName(s.status()).stubborn!.running, true);
      gate.resolve();
      const [r] = await results;
      assert.equal(r!.ok, true, 'it finished after all, despite the abort');
    });
});

// Real croner ticks (second-level); these wait for an event, never for a fixed time.
describe('Scheduler with real cron ticks', { concurrency: true }, () => {
  test('a job still running at its next tick gets that tick skipped and counted; failing jobs keep ticking', { timeout: 10_000 }, async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const s = new Scheduler();
    try {
      const release = deferred();
      let active = 0;
      let maxActive = 0;
      s.add(
        job({
          name: 'slow',
          cron: '* * * * * *',
          portKey: 'P',
          run: async () => {
            maxActive = Math.max(maxActive, ++active);
            await release.promise; // held until a tick has been skipped
            active--;
          },
        }),
      );
      s.add(
        job({
          name: 'broken',
          cron: '* * * * * *',
          portKey: 'Q',
          run: async () => {
            throw new DeviceError('no answer', 'broken');
          },
        }),
      );
      s.add(
        job({
          name: 'throws',
          cron: '* * * * * *',
          portKey: null,
          run: () => {
            throw new Error('sync');
          },
        }),
      );
      const skipped = deferred();
      s.on('jobSkipped', ({ name }) => name === 'slow' && skipped.resolve());
      const slowEnded = deferred();
      s.on('jobEnd', ({ name }) => name === 'slow' && slowEnded.resolve());
      s.start();
      assert.notEqual(byName(s.status()).slow!.nextRun, null);
      await skipped.promise;
      release.resolve();
      await slowEnded.promise;
      await s.stop();
      const st = byName(s.status());
      assert.ok(st.slow!.overrunsSkipped >= 1);
      assert.equal(maxActive, 1);
      assert.ok(st.broken!.failures >= 1);
      assert.equal(st.broken!.lastError, 'no answer');
      assert.ok(st.throws!.failures >= 1);
      await tick();
      assert.deepEqual(unhandled, []);
    } finally {
      await s.stop();
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('a tick that finds a manual run of the same job in flight is skipped and counted', { timeout: 10_000 }, async () => {
    const s = new Scheduler();
    try {
      const release = deferred();
      let runs = 0;
      s.add(
        job({
          name: 'j',
          cron: '* * * * * *',
          portKey: 'P',
          run: async () => {
            runs++;
            await release.promise;
          },
        }),
      );
      const skipped = deferred();
      s.on('jobSkipped', () => skipped.resolve());
      const manual = s.runOnce(['j']);
      s.start();
      await skipped.promise;
      assert.equal(runs, 1);
      release.resolve();
      const [r] = await manual;
      assert.equal(r!.ok, true);
      assert.ok(byName(s.status()).j!.overrunsSkipped >= 1);
    } finally {
      await s.stop();
    }
  });
});

// Real croner ticks too: what sharing one timer per cron expression promises.
describe('Scheduler: jobs on the same cron expression share one tick', { concurrency: true }, () => {
  test('every job of a tick starts before any of them ends, even jobs that need no I/O', { timeout: 10_000 }, async () => {
    const s = new Scheduler();
    try {
      const events: string[] = [];
      const firstTick = deferred();
      // Jobs that finish in microtasks: with a timer per job, each would end before the next timer fired.
      for (const name of ['a', 'b', 'c']) s.add(job({ name, cron: '* * * * * *', portKey: name, run: async () => void events.push(`run ${name}`) }));
      s.on('jobStart', ({ name, trigger }) => events.push(`start ${name} ${trigger}`));
      s.on('jobEnd', ({ name, waitMs }) => {
        events.push(`end ${name}`);
        assert.ok(waitMs >= 0);
        if (events.filter((e) => e.startsWith('end')).length === 3) firstTick.resolve();
      });
      s.start();
      await firstTick.promise;
      await s.stop();
      const first = events.slice(0, 9);
      assert.deepEqual(first.slice(0, 3), ['start a cron', 'start b cron', 'start c cron'], first.join(', '));
      assert.deepEqual(
        first.filter((e) => e.startsWith('end')),
        ['end a', 'end b', 'end c'],
      );
      // One timer: all three have the same next tick, and after stop none.
      assert.ok(s.status().every((j) => j.nextRun === null));
    } finally {
      await s.stop();
    }
  });

  test('removing one job of a shared tick leaves the others ticking; adding one joins the tick', { timeout: 10_000 }, async () => {
    const s = new Scheduler();
    try {
      const runs = new Map<string, number>();
      const count = (name: string) => async () => void runs.set(name, (runs.get(name) ?? 0) + 1);
      s.add(job({ name: 'stays', cron: '* * * * * *', run: count('stays') }));
      s.add(job({ name: 'goes', cron: '* * * * * *', run: count('goes') }));
      s.add(job({ name: 'other', cron: '*/2 * * * * *', run: count('other') }));
      s.start();
      const next = byName(s.status());
      assert.equal(next.stays!.nextRun, next.goes!.nextRun);
      await s.remove('goes');
      const goneAt = runs.get('goes') ?? 0;
      const joined = deferred();
      s.add(job({ name: 'late', cron: '* * * * * *', run: async () => joined.resolve() }));
      assert.equal(byName(s.status()).late!.nextRun, byName(s.status()).stays!.nextRun);
      await joined.promise;
      const staysAgain = deferred();
      s.on('jobEnd', ({ name }) => name === 'stays' && staysAgain.resolve());
      await staysAgain.promise;
      assert.equal(runs.get('goes') ?? 0, goneAt, 'a removed job never runs again');
    } finally {
      await s.stop();
    }
  });
});

test('runOnce right after runOnce starts a new run instead of returning the finished one', async () => {
  const { Scheduler: S } = await import('../../src/scheduler/index.js');
  const scheduler = new S();
  let runs = 0;
  scheduler.add({ name: 'j', cron: '0 0 1 1 *', portKey: 'p', timeoutMs: 1000, run: async () => void runs++ });
  await scheduler.runOnce(['j']);
  await scheduler.runOnce(['j']);
  await scheduler.runOnce(['j']);
  assert.equal(runs, 3);
  await scheduler.stop();
});

test('active counts the jobs started and not yet ended; jobEnd listeners see the ending job no longer counted (the group commit holds on it)', async () => {
  const s = new Scheduler({ clock: new FakeClock(1_700_000_000_000, { sleep: 'on-advance', after: true }) });
  const gates = [deferred(), deferred()];
  s.add(job({ name: 'a', run: () => gates[0]!.promise }));
  s.add(job({ name: 'b', run: () => gates[1]!.promise }));
  const atEnd: Record<string, number> = {};
  s.on('jobEnd', (r) => (atEnd[r.name] = s.active));
  assert.equal(s.active, 0);
  const runs = s.runOnce();
  assert.equal(s.active, 2);
  gates[0]!.resolve();
  await until(() => 'a' in atEnd, 'a ended');
  assert.equal(s.active, 1);
  gates[1]!.resolve();
  await runs;
  assert.deepEqual(atEnd, { a: 1, b: 0 });
  assert.equal(s.active, 0);
});

test('abortedByStop tells a job cut short by stop() from one that timed out (the capture archive drops only the first)', async () => {
  // The system clock: the 1 ms job timeout fires by itself.
  const s = new Scheduler();
  const seen: Record<string, boolean> = {};
  const waitForAbort = (name: string) => (signal: AbortSignal) =>
    new Promise<void>((_, reject) =>
      signal.addEventListener('abort', () => {
        seen[name] = abortedByStop(signal);
        reject(signal.reason as Error);
      }),
    );
  s.add(job({ name: 'slow', timeoutMs: 1, run: waitForAbort('slow') }));
  await s.runOnce(['slow']);
  s.add(job({ name: 'stopped', run: waitForAbort('stopped') }));
  const runs = s.runOnce(['stopped']);
  await tick();
  await s.stop();
  await runs;
  assert.deepEqual(seen, { slow: false, stopped: true });
});
