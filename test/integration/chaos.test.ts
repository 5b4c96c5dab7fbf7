/**
 * Issue 23: `npm test` runs three minutes of the chaos run (scripts/chaos.ts, README "Chaos
 * run"): `wattline run` on every simulated device, its outbox on a 32 MiB tmpfs, a real influxd
 * 1.6.7, while a seeded driver SIGKILLs the worker, kills and freezes influxd and fills the
 * disk. Seed 2: the seed that found the stall of bf68bac (a worker SIGKILLed on a full disk),
 * with every kind of fault in its three minutes. The seed fixes which faults come and when;
 * what the run checks does not depend on timing: every committed point found once by query,
 * none duplicated, the worker never exiting by itself and catching up once the faults end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/paths.js';

const SECONDS = 180;
const SEED = 2;

test(`chaos run, ${SECONDS} s, seed ${SEED} (real influxd, tmpfs, SIGKILLs): every committed point found once, none duplicated, no stall`, { timeout: (SECONDS + 400) * 1000 }, async () => {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'scripts', 'chaos.js')], {
    env: { ...process.env, CHAOS_SECONDS: String(SECONDS), CHAOS_SEED: String(SEED) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (out += c));
  // The script undoes every fault and stops what it started in every outcome; SIGINT from here does the same.
  const timer = setTimeout(() => child.kill('SIGINT'), (SECONDS + 380) * 1000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);

  const start = out.indexOf('\n{\n');
  const end = out.indexOf('\n}\n', start);
  assert.ok(start >= 0 && end > start, `no figures printed (exit ${code}):\n${out}`);
  const f = JSON.parse(out.slice(start + 1, end + 2)) as Record<string, unknown>;
  const actions = f.actions as Record<string, number>;
  assert.deepEqual(
    { lost: f.lost, duplicates: f.duplicates, stuck: f.stuckInRefusedOutbox, workerSelfExits: f.workerSelfExits, caughtUp: f.caughtUp, stalled: f.stalled, interrupted: f.interrupted },
    { lost: 0, duplicates: 0, stuck: 0, workerSelfExits: 0, caughtUp: true, stalled: false, interrupted: false },
    out,
  );
  assert.equal(f.found, f.committed, out);
  // The run did what it is for: points committed and delivered through every kind of fault.
  assert.ok((f.committed as number) > 1000, out);
  for (const a of ['kill', 'down', 'freeze', 'full']) assert.ok(actions[a]! >= 1, `no ${a} in the run:\n${out}`);
  assert.deepEqual((f.outboxAfterDrain as Record<string, number>).rows, 0, out);
  assert.equal(code, 0, out);
});
