/**
 * The short version of `npm run fuzz`: every framer and decoder target with a
 * fixed base seed and FUZZ_SHORT_INPUTS inputs (default 1500) each, seeded with the recorded
 * frames, each target in a worker thread so a hang is a finding rather than a stuck suite.
 * No time limit per input here (a loaded machine is no finding); a hang is an input still
 * running after 60 s. A finding names the target, the input number and its first bytes;
 * replay it with `FUZZ_SEED=20261207 FUZZ_TARGET=<name> npm run fuzz`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runTargetIsolated } from './harness.js';
import { seedDirs } from './seeds.js';
import { buildTargets } from './targets.js';

const INPUTS = Number(process.env.FUZZ_SHORT_INPUTS ?? 1500);
const SEED = 20261207;

const dirs = seedDirs();
let names: string[] = [];
before(async () => {
  const targets = await buildTargets(dirs.dir, dirs.fastDir);
  for (const t of targets) assert.ok(t.seeds.length > 0, `${t.name}: seeded with recordings`);
  names = targets.map((t) => t.name);
});
after(() => dirs.remove());

test('fuzz (short): every framer and decoder holds its properties on mutated recordings', async (t) => {
  assert.ok(names.length >= 14, `only ${names.length} targets built`);
  for (const name of names) {
    await t.test(name, async () => {
      const r = await runTargetIsolated(name, dirs, { inputs: INPUTS, seed: SEED, maxInputMs: Infinity, maxHeapGrowthMb: 512, hangMs: 60_000 });
      assert.equal(r.inputs, INPUTS);
      assert.deepEqual(r.findings, [], `${name}: ${r.findings.length} findings`);
    });
  }
});
