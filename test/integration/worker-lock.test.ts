/**
 * One worker per outbox, with real `wattline run` processes: a second one exits 2 at once
 * naming the first one's PID and opens no port; after SIGKILL a new one starts at once (the
 * kernel drops SQLite's lock with the process, no stale file blocks it). The devices are
 * simulated P1 meters, plus a serial port that does not exist: a worker that got as far as
 * opening ports would say so on stderr.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli } from '../helpers/cli.js';

let dir: string;
let config: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-lock-'));
  config = join(dir, 'wattline.yaml');
  writeFileSync(
    config,
    [
      'log: { level: info, format: json }',
      'outbox: { path: data/outbox.sqlite }',
      'devices:',
      '  - { name: meter, driver: dsmr-p1, simulate: true, schedule: "* * * * * *" }',
      `  - { name: absent, driver: dsmr-p1, port: { path: ${JSON.stringify(join(dir, 'ttyNONE'))} }, schedule: "* * * * * *" }`,
      '',
    ].join('\n'),
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Start `wattline run` and wait for its "worker started" log line. */
async function startWorker(): Promise<ReturnType<typeof startCli>> {
  const worker = startCli(['--config', config, 'run']);
  const deadline = Date.now() + 30_000;
  while (!worker.output().stderr.includes('"worker started"')) {
    if (worker.child.exitCode !== null || Date.now() > deadline) {
      worker.child.kill('SIGKILL');
      throw new Error(`worker did not start: ${worker.output().stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return worker;
}

test('a second run on a held outbox exits 2 with one line naming the PID, before any port; SIGKILL never leaves a stale lock', async () => {
  const first = await startWorker();
  try {
    const second = await runCli(['--config', config, 'run'], { timeoutMs: 20_000 });
    assert.equal(second.code, 2);
    assert.equal(second.stdout, '');
    assert.equal(
      second.stderr,
      `wattline: ${join(dir, 'data', 'outbox.sqlite')}: another wattline worker (PID ${first.child.pid}) is running on this outbox; one worker per outbox: stop it first, or give this one its own outbox.path\n`,
    );
  } finally {
    first.child.kill('SIGKILL');
    await first.exited;
  }
  // The killed worker's PID file is still there; its lock is not.
  assert.equal(readFileSync(join(dir, 'data', 'outbox.sqlite.pid'), 'utf8'), `${first.child.pid}\n`);
  const next = await startWorker();
  try {
    assert.equal(readFileSync(join(dir, 'data', 'outbox.sqlite.pid'), 'utf8'), `${next.child.pid}\n`);
  } finally {
    next.child.kill('SIGTERM');
    assert.equal(await next.exited, 0, next.output().stderr);
  }
  // A clean stop takes its PID file along.
  assert.equal(existsSync(join(dir, 'data', 'outbox.sqlite.pid')), false);
});
