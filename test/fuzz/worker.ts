/**
 * One fuzz target's run in a worker thread (harness.ts runTargetIsolated): builds the targets
 * (seeds recorded afresh), runs the one asked for from `options.start`, posts the report.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTarget, type FuzzOptions } from './harness.js';
import { buildTargets } from './targets.js';

const { target, dirs, options, progress } = workerData as { target: string; dirs: { dir: string; fastDir: string }; options: FuzzOptions; progress: Float64Array };
const t = (await buildTargets(dirs.dir, dirs.fastDir)).find((x) => x.name === target);
if (!t) throw new Error(`no fuzz target ${target}`);
parentPort!.postMessage(runTarget(t, { ...options, progress }));
