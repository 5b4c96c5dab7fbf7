/** The scheduler's job add/remove API that a config reload uses (Worker.reload). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { Scheduler, type JobSpec } from '../../src/scheduler/index.js';

const job = (name: string, run: JobSpec['run'] = async () => undefined, cron = '0 0 1 1 *'): JobSpec => ({ name, cron, portKey: 'serial:/dev/ttyX', timeoutMs: 1000, run });

test('check() throws what add() would, registers nothing, and accepts a name already registered', () => {
  const s = new Scheduler();
  s.add(job('a'));
  assert.throws(
    () => s.check(job('b', undefined, '*/61 * * * * *')),
    (e: unknown) => e instanceof ConfigError && /job b: invalid cron expression '\*\/61/.test(e.message),
  );
  assert.throws(
    () => s.check(job('b', undefined, '0 0 30 2 *')),
    (e: unknown) => e instanceof ConfigError && /never fires/.test(e.message),
  );
  s.check(job('a', undefined, '* * * * *'));
  assert.deepEqual(
    s.status().map((j) => `${j.name} ${j.cron}`),
    ['a 0 0 1 1 *'],
  );
  assert.throws(() => s.add(job('a')), /duplicate job name/);
});

test('remove() waits for the run in flight (which finishes, not aborted), and frees the name', async () => {
  const s = new Scheduler();
  let release!: () => void;
  let aborted = false;
  s.add(
    job(
      'a',
      (signal) =>
        new Promise<void>((resolve) => {
          release = resolve;
          signal.addEventListener('abort', () => (aborted = true));
        }),
    ),
  );
  const result = s.runOnce(['a']);
  await new Promise((r) => setImmediate(r));
  let removed = false;
  const removal = s.remove('a').then(() => (removed = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(removed, false, 'still running');
  assert.deepEqual(s.status(), []);
  release();
  await removal;
  assert.equal((await result)[0]!.outcome, 'ok');
  assert.equal(aborted, false);
  // The port lock was let go: a new job on the same port runs at once.
  s.add(job('a'));
  assert.equal((await s.runOnce(['a']))[0]!.ok, true);
  await assert.rejects(s.remove('nope'), /no job named 'nope'/);
});
