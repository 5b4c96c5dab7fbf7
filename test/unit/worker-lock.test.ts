/** One worker per outbox (outbox/worker-lock.ts), within one process; across processes: test/integration/worker-lock.test.ts. */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { acquireWorkerLock, workerLockPaths } from '../../src/outbox/worker-lock.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wattline-lock-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("a second holder is refused with the first one's PID; after release the lock is free again", () => {
  const outbox = join(dir, 'data', 'outbox.sqlite');
  const first = acquireWorkerLock(outbox);
  assert.equal(readFileSync(workerLockPaths(outbox).pid, 'utf8'), `${process.pid}\n`);
  assert.throws(
    () => acquireWorkerLock(outbox),
    (err: unknown) =>
      err instanceof ConfigError && err.message === `${outbox}: another wattline worker (PID ${process.pid}) is running on this outbox; one worker per outbox: stop it first, or give this one its own outbox.path`,
  );
  first.release();
  assert.equal(existsSync(workerLockPaths(outbox).pid), false);
  // The lock file stays (deleting it under a waiting worker would split the lock) and is free.
  assert.equal(existsSync(workerLockPaths(outbox).lock), true);
  acquireWorkerLock(outbox).release();
});

test('the lock file is never written: it stays an empty database', () => {
  const outbox = join(dir, 'outbox.sqlite');
  const lock = acquireWorkerLock(outbox);
  lock.release();
  assert.equal(readFileSync(workerLockPaths(outbox).lock).length, 0);
});

test('holding the lock leaves no journal or other file beside it', () => {
  const outbox = join(dir, 'outbox.sqlite');
  const lock = acquireWorkerLock(outbox);
  try {
    assert.deepEqual(readdirSync(dir).sort(), ['outbox.sqlite.lock', 'outbox.sqlite.pid']);
  } finally {
    lock.release();
  }
});
