import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PortLocks } from '../../src/scheduler/index.js';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('PortLocks', () => {
  test('one holder per key; other keys run alongside', async () => {
    const locks = new PortLocks();
    const active = new Map<string, number>();
    let maxPerKey = 0;
    let maxTotal = 0;
    let total = 0;
    // Both holders of different keys must be inside at once, or this barrier never opens.
    const bothIn = deferred();
    let inside = 0;
    const body = (key: string, wait: () => Promise<void>) => async () => {
      const n = (active.get(key) ?? 0) + 1;
      active.set(key, n);
      maxPerKey = Math.max(maxPerKey, n);
      maxTotal = Math.max(maxTotal, ++total);
      await wait();
      active.set(key, n - 1);
      total--;
    };
    const meet = async () => {
      if (++inside === 2) bothIn.resolve();
      await bothIn.promise;
    };
    await Promise.all([locks.run('ttyUSB0', body('ttyUSB0', meet)), locks.run('ttyUSB0', body('ttyUSB0', tick)), locks.run('ttyUSB0', body('ttyUSB0', tick)), locks.run('ttyUSB1', body('ttyUSB1', meet))]);
    assert.equal(maxPerKey, 1);
    assert.ok(maxTotal >= 2, `max concurrency ${maxTotal}`);
    assert.equal(locks.isHeld('ttyUSB0'), false);
  });

  test('waiters get the lock in arrival order', async () => {
    const locks = new PortLocks();
    const gate = deferred();
    const order: number[] = [];
    const first = locks.run('bus', () => gate.promise);
    const rest = [1, 2, 3, 4, 5].map((i) => locks.run('bus', async () => void order.push(i)));
    assert.equal(locks.waiting('bus'), 5);
    gate.resolve();
    await Promise.all([first, ...rest]);
    assert.deepEqual(order, [1, 2, 3, 4, 5]);
  });

  test('a newcomer cannot barge in while the lock is handed over', async () => {
    const locks = new PortLocks();
    const order: string[] = [];
    const gate = deferred();
    const a = locks.run('k', () => gate.promise);
    const b = locks.run('k', async () => void order.push('b'));
    gate.resolve();
    await a; // c arrives right after the handover to b
    const c = locks.run('k', async () => void order.push('c'));
    await Promise.all([b, c]);
    assert.deepEqual(order, ['b', 'c']);
  });

  test('a waiter that aborts leaves the queue and rejects with the reason', async () => {
    const locks = new PortLocks();
    const gate = deferred();
    const order: string[] = [];
    const holder = locks.run('k', () => gate.promise);
    const ctl = new AbortController();
    const quitter = locks.run('k', async () => void order.push('quitter'), { signal: ctl.signal });
    const patient = locks.run('k', async () => void order.push('patient'));
    assert.equal(locks.waiting('k'), 2);
    const reason = new Error('gave up');
    ctl.abort(reason);
    await assert.rejects(quitter, (err) => err === reason);
    assert.equal(locks.waiting('k'), 1);
    gate.resolve();
    await Promise.all([holder, patient]);
    assert.deepEqual(order, ['patient']);
    assert.equal(locks.isHeld('k'), false);
  });

  test('an already aborted signal rejects at once, even on a free key', async () => {
    const locks = new PortLocks();
    let ran = false;
    await assert.rejects(
      locks.run('k', () => void (ran = true), { signal: AbortSignal.abort(new Error('no')) }),
      /no/,
    );
    assert.equal(ran, false);
    assert.equal(locks.isHeld('k'), false);
  });

  test('aborting after the lock is held changes nothing', async () => {
    const locks = new PortLocks();
    const ctl = new AbortController();
    const value = await locks.run(
      'k',
      async () => {
        ctl.abort();
        await tick();
        return 42;
      },
      { signal: ctl.signal },
    );
    assert.equal(value, 42);
    assert.equal(locks.isHeld('k'), false);
  });

  test('a holder that throws or rejects releases the lock', async () => {
    const locks = new PortLocks();
    const syncThrow = locks.run('k', () => {
      throw new Error('sync');
    });
    const rejects = locks.run('k', async () => {
      throw new Error('async');
    });
    const after = locks.run('k', () => 'ok');
    await assert.rejects(syncThrow, /sync/);
    await assert.rejects(rejects, /async/);
    assert.equal(await after, 'ok');
    assert.equal(locks.isHeld('k'), false);
  });

  test('property: per key, mutual exclusion and FIFO under random interleavings and aborts', async () => {
    const task = fc.record({ key: fc.constantFrom('a', 'b', 'c'), steps: fc.nat({ max: 3 }), abort: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(task, { minLength: 1, maxLength: 20 }), async (s, tasks) => {
        const locks = new PortLocks();
        const active = new Map<string, number>();
        const entered = new Map<string, number[]>();
        const settled = tasks.map((t, i) => {
          const ctl = new AbortController();
          if (t.abort) void s.schedule(Promise.resolve(), `abort ${i}`).then(() => ctl.abort(new Error(`abort ${i}`)));
          const fn = async () => {
            const n = (active.get(t.key) ?? 0) + 1;
            assert.equal(n, 1, `two holders of ${t.key}`);
            active.set(t.key, n);
            entered.set(t.key, [...(entered.get(t.key) ?? []), i]);
            for (let k = 0; k < t.steps; k++) await s.schedule(Promise.resolve(), `step ${i}.${k}`);
            active.set(t.key, n - 1);
          };
          return locks.run(t.key, fn, { signal: ctl.signal }).then(
            () => true,
            () => false,
          );
        });
        const ran = await s.waitFor(Promise.all(settled));
        await s.waitIdle();
        for (const [key, order] of entered) {
          assert.deepEqual(
            order,
            [...order].sort((x, y) => x - y),
            `FIFO broken on ${key}`,
          );
          assert.equal(locks.isHeld(key), false);
        }
        tasks.forEach((t, i) => {
          const didEnter = (entered.get(t.key) ?? []).includes(i);
          assert.equal(ran[i], didEnter, `task ${i}: settled ${ran[i]} vs entered ${didEnter}`);
          if (!t.abort) assert.ok(didEnter, `task ${i} never got its lock`);
        });
      }),
      { numRuns: 200 },
    );
  });
});
