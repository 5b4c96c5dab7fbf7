/**
 * `npm run fuzz`: every target with FUZZ_INPUTS inputs (default 100,000) each, base seed
 * FUZZ_SEED (default: a new one, printed, so a finding can be replayed with it). Only the
 * targets whose name contains FUZZ_TARGET when that is set. Exit 1 on any finding.
 */
import { buildTargets } from './targets.js';
import { runTarget } from './harness.js';
import { seedDir } from './seeds.js';

const inputs = Number(process.env.FUZZ_INPUTS ?? 100_000);
const seed = Number(process.env.FUZZ_SEED ?? (Date.now() & 0x7fffffff));
const only = process.env.FUZZ_TARGET;

const { dir, remove } = seedDir();
const cleanups: (() => void)[] = [remove];
let findings = 0;
try {
  const targets = (await buildTargets(dir, cleanups)).filter((t) => !only || t.name.includes(only));
  console.log(`fuzz: ${targets.length} targets, ${inputs} inputs each, FUZZ_SEED=${seed}`);
  const started = performance.now();
  for (const t of targets) {
    const t0 = performance.now();
    const r = runTarget(t, { inputs, seed, maxInputMs: 5000, maxHeapGrowthMb: 512 });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `${r.findings.length ? 'FAIL' : 'ok  '} ${t.name}: ${r.inputs} inputs (${t.seeds.length} seeds) in ${secs} s; typed errors ${r.typedErrors}, points ${r.points}${r.timesOutOfRange ? ` (+${r.timesOutOfRange} with the input's time outside InfluxDB's range)` : ''}, slowest ${r.slowestMs.toFixed(1)} ms, heap +${r.heapGrowthMb} MB`,
    );
    for (const f of r.findings) console.log(`     input ${f.input}: ${f.problem}\n       ${f.sample}`);
    findings += r.findings.length;
  }
  console.log(`fuzz: ${findings} findings in ${((performance.now() - started) / 1000).toFixed(0)} s (FUZZ_SEED=${seed})`);
} finally {
  for (const c of cleanups) c();
}
process.exitCode = findings > 0 ? 1 : 0;
