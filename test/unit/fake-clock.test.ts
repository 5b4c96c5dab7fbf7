/** The shared test clock keeps the promises the tests that use it rely on (see its header). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../helpers/fake-clock.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

test('fake clock: time stands still; instant sleeps end at once and are recorded', async () => {
  const clock = new FakeClock(1_700_000_000_123);
  await clock.sleep(5_000);
  await clock.sleep(250, AbortSignal.abort());
  assert.equal(clock.now(), 1_700_000_000_123);
  assert.equal(clock.nowNs(), 1_700_000_000_123_000_000n);
  assert.deepEqual(clock.sleeps, [5_000, 250]);
  assert.equal(clock.after, undefined, 'no after() unless asked (the scheduler then uses sleep)');
});

test('fake clock: sleepAdvances moves the time by each sleep; advance() and t move it too', async () => {
  const clock = new FakeClock(1_000, { sleepAdvances: true });
  await clock.sleep(500);
  assert.equal(clock.now(), 1_500);
  assert.equal(clock.advance(100), 1_600);
  clock.t += 400;
  assert.equal(clock.now(), 2_000);
});

test('fake clock: next-tick sleeps end on a later macrotask, rejected when their signal aborts', async () => {
  const clock = new FakeClock(0, { sleep: 'next-tick' });
  let ended = false;
  const sleeping = clock.sleep(10).then(() => (ended = true));
  await Promise.resolve();
  assert.equal(ended, false, 'not within the same turn');
  await sleeping;
  const ctl = new AbortController();
  const aborted = clock.sleep(10, ctl.signal);
  ctl.abort(new Error('stop'));
  await assert.rejects(aborted, /stop/);
  await assert.rejects(clock.sleep(10, AbortSignal.abort(new Error('already'))), /already/);
});

test('fake clock: on-advance sleeps and after() timers end when the time reaches them; abort and cancel stop them', async () => {
  const clock = new FakeClock(0, { sleep: 'on-advance', after: true });
  const order: string[] = [];
  void clock.sleep(100).then(() => order.push('sleep 100'));
  const ctl = new AbortController();
  const aborted = clock.sleep(50, ctl.signal);
  clock.after!(30, () => order.push('after 30'));
  const cancel = clock.after!(60, () => order.push('after 60'));
  clock.advance(29);
  await turn();
  assert.deepEqual(order, []);
  clock.advance(1);
  await turn();
  assert.deepEqual(order, ['after 30']);
  ctl.abort(new Error('gone'));
  await assert.rejects(aborted, /gone/);
  cancel();
  clock.advance(70);
  await turn();
  assert.deepEqual(order, ['after 30', 'sleep 100']);
});
