/**
 * The short version of `npm run fuzz` (issue 16): every framer and decoder target with a
 * fixed base seed and FUZZ_SHORT_INPUTS inputs (default 1500) each, seeded with the recorded
 * frames. A finding names the target, the input number and its first bytes; replay it with
 * `FUZZ_SEED=20261207 FUZZ_TARGET=<name> npm run fuzz`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargets, type FuzzTarget } from './targets.js';
import { runTarget } from './harness.js';
import { seedDir } from './seeds.js';

const INPUTS = Number(process.env.FUZZ_SHORT_INPUTS ?? 1500);
const SEED = 20261207;

const { dir, remove } = seedDir();
const cleanups: (() => void)[] = [remove];
let targets: FuzzTarget<unknown>[] = [];
before(async () => {
  targets = await buildTargets(dir, cleanups);
});
after(() => cleanups.forEach((c) => c()));

test('fuzz (short): every framer and decoder holds its properties on mutated recordings', async (t) => {
  assert.ok(targets.length >= 14, `only ${targets.length} targets built`);
  for (const target of targets) {
    await t.test(target.name, () => {
      assert.ok(target.seeds.length > 0, 'seeded with recordings');
      const r = runTarget(target, { inputs: INPUTS, seed: SEED, maxInputMs: 5000, maxHeapGrowthMb: 512 });
      assert.equal(r.inputs, INPUTS);
      assert.deepEqual(r.findings, [], `${target.name}: ${r.findings.length} findings`);
    });
  }
});
