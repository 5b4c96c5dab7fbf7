/**
 * `npm run fuzz`: every target with FUZZ_INPUTS inputs (default 100,000) each, base seed
 * FUZZ_SEED (default: a new one, printed, so a finding can be replayed with it). Only the
 * targets whose name contains FUZZ_TARGET when that is set. Each target runs in a worker
 * thread: an input that hangs (FUZZ_HANG_MS, default 60 s) is a finding, not the end of the
 * run. Exit 1 on any finding.
 */
import { runTargetIsolated } from './harness.js';
import { seedDirs } from './seeds.js';
import { buildTargets } from './targets.js';

const inputs = Number(process.env.FUZZ_INPUTS ?? 100_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() & 0x7fffffff);
const only = process.env.FUZZ_TARGET;
const hangMs = Number(process.env.FUZZ_HANG_MS ?? 60_000);

const dirs = seedDirs();
// Stopped with Ctrl-C or a kill: the temporary folders go too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    dirs.remove();
    process.exit(130);
  });
}
let findings = 0;
try {
  const names = (await buildTargets(dirs.dir, dirs.fastDir)).map((t) => t.name).filter((n) => !only || n.includes(only));
  console.log(`fuzz: ${names.length} targets, ${inputs} inputs each, FUZZ_SEED=${seed}`);
  const started = performance.now();
  for (const name of names) {
    const t0 = performance.now();
    const r = await runTargetIsolated(name, dirs, { inputs, seed, maxInputMs: 10_000, maxHeapGrowthMb: 512, hangMs });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const outOfRange = r.timesOutOfRange ? ` (+${r.timesOutOfRange} with the input's own time outside InfluxDB's range)` : '';
    console.log(
      `${r.findings.length ? 'FAIL' : 'ok  '} ${name}: ${r.inputs} inputs in ${secs} s; typed errors ${r.typedErrors}, points ${r.points}${outOfRange}, slowest ${r.slowestMs.toFixed(1)} ms, heap +${r.heapGrowthMb} MB`,
    );
    for (const f of r.findings) console.log(`     input ${f.input}: ${f.problem}\n       ${f.sample}`);
    findings += r.findings.length;
  }
  console.log(`fuzz: ${findings} findings in ${((performance.now() - started) / 1000).toFixed(0)} s (FUZZ_SEED=${seed})`);
} finally {
  dirs.remove();
}
process.exitCode = findings > 0 ? 1 : 0;
