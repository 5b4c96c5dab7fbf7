/**
 * Smoke runs of the issue-24 benchmarks (scripts/bench/soak.ts, poll-cpu.ts), seconds long:
 * they start, every shape really polls (points committed, samples taken, polls counted for
 * wattline and for collectd), and everything they started is gone afterwards. No figure is
 * asserted: speed and memory belong in the benches' own runs and the README, never in tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

/** Run fn with these environment variables set, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Processes of ours still running whose command line mentions `text`. */
function leftover(text: string): string[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(text));
}

test('soak smoke run (seconds long): all three shapes sampled, simulated and PTY shapes commit points', { timeout: 120_000 }, async () => {
  const { run } = await import('../../scripts/bench/soak.js');
  const result = await withEnv({ BENCH_SOAK_S: '8', BENCH_SOAK_WARMUP_S: '2', BENCH_SOAK_SAMPLE_MS: '1000' }, run);
  const shapes = Object.fromEntries((result.shapes as Record<string, number | string>[]).map((s) => [s.shape, s]));
  assert.deepEqual(Object.keys(shapes).sort(), ['idle', 'pty', 'simulated']);
  for (const s of Object.values(shapes)) assert.ok(Number(s.samples) >= 3, `${s.shape}: ${s.samples} memory samples`);
  assert.ok(Number(shapes.simulated!.points_committed) > 0, 'the simulated devices committed points');
  assert.ok(Number(shapes.pty!.points_committed) > 0, 'P1 and HDHK over the PTYs committed points');
  assert.equal(shapes.idle!.points_committed, 0, 'a worker without devices commits no device points (its self-metrics are not counted)');
  assert.deepEqual(leftover('wattline-bench-soak'), []);
});

test('poll-cpu smoke run (seconds long): wattline at full and normal, collectd and the bare floor each poll the pymodbus slave', { timeout: 120_000 }, async () => {
  const { run } = await import('../../scripts/bench/poll-cpu.js');
  const result = await withEnv({ BENCH_SECONDS: '4', BENCH_WARMUP_S: '3' }, run);
  const rows = result.results as { name: string; polls: number }[];
  assert.deepEqual(
    rows.map((r) => r.name),
    [
      'wattline, synchronous: full',
      'wattline, synchronous: normal',
      'collectd 5.12 modbus + csv',
      'floor (poll-floor.ts: Node + better-sqlite3, the same request and commit, no project code), synchronous: full',
      'floor (poll-floor.ts: Node + better-sqlite3, the same request and commit, no project code), synchronous: normal',
    ],
  );
  for (const r of rows) assert.ok(r.polls >= 1, `${r.name}: ${r.polls} polls in the window`);
  assert.deepEqual(leftover('wattline-bench-poll-cpu'), []);
});
