/**
 * Runs one fuzz target: seeds first, then mutated inputs from a seeded PRNG (input i of a
 * run with base seed s is reproducible from (s, i)). Checks per input:
 * - nothing but the project's typed errors (WattlineError) escapes;
 * - every point has at least one field, no float field is NaN or ±Infinity, and the line
 *   protocol encoder takes every point (nothing dropped as unencodable);
 * - each input finishes within `maxInputMs` (a hang shows as one input taking seconds);
 * - the heap stays bounded over the run.
 */
import { Worker } from 'node:worker_threads';
import { encodePoints } from '../../src/core/line-protocol.js';
import { IntField, type Point } from '../../src/core/point.js';
import { Rng } from './mutate.js';
import { isTyped, type FuzzTarget } from './targets.js';

export interface FuzzOptions {
  inputs: number;
  seed: number;
  /** First input number (a run restarted after a hang goes on from the next one). */
  start?: number;
  /** Shared with the watching thread: [input being run, Date.now() when it started]. */
  progress?: Float64Array;
  /** An input slower than this is a finding (a hang in the making). */
  maxInputMs: number;
  /** Heap growth over the run beyond this is a finding. */
  maxHeapGrowthMb: number;
}

export interface Finding {
  input: number;
  problem: string;
  /** The input's first bytes, hex (or JSON for structured inputs). */
  sample: string;
}

export interface FuzzReport {
  target: string;
  inputs: number;
  typedErrors: number;
  /** Points left out because the input's own time is outside InfluxDB's range (targets with timesFromInput). */
  timesOutOfRange: number;
  points: number;
  slowestMs: number;
  heapGrowthMb: number;
  findings: Finding[];
}

/** InfluxDB's time range (int64 ns less one at each end), for inputs that bring their own times. */
const TIME_MIN = -(2n ** 63n) + 1n;
const TIME_MAX = 2n ** 63n - 2n;

export function checkPoints(points: readonly Point[]): string | undefined {
  for (const p of points) {
    const fields = Object.entries(p.fields);
    if (fields.length === 0) return `point ${p.measurement} has no fields`;
    for (const [k, v] of fields) {
      if (typeof v === 'number' && !Number.isFinite(v)) return `field ${p.measurement}.${k} = ${v}`;
      if (v instanceof IntField && (v.value > 2n ** 63n - 1n || v.value < -(2n ** 63n))) return `field ${p.measurement}.${k} = ${v.value}i is outside int64`;
    }
  }
  const { dropped } = encodePoints(points, 'ns');
  if (dropped.length > 0) return `line protocol dropped ${dropped.map((d) => `${d.scope} (${d.reason})`).join(', ')}`;
  return undefined;
}

function sample(input: unknown, bytes?: (i: any) => Buffer): string {
  if (bytes) return JSON.stringify(bytes(input).subarray(0, 300).toString('latin1'));
  if (Buffer.isBuffer(input)) return input.subarray(0, 96).toString('hex');
  try {
    return JSON.stringify(input, (_k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('hex').slice(0, 64) : v)).slice(0, 300);
  } catch {
    return String(input).slice(0, 200);
  }
}

export function runTarget<S>(target: FuzzTarget<S>, options: FuzzOptions): FuzzReport {
  const report: FuzzReport = { target: target.name, inputs: 0, typedErrors: 0, timesOutOfRange: 0, points: 0, slowestMs: 0, heapGrowthMb: 0, findings: [] };
  const heapStart = process.memoryUsage().heapUsed;
  let heapPeak = heapStart;
  const seeds = target.seeds;
  const progress = options.progress;
  for (let i = options.start ?? 0; i < options.inputs; i++) {
    if (progress) {
      progress[0] = i;
      progress[1] = Date.now();
    }
    const rng = new Rng((options.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    const input = i < seeds.length ? seeds[i]! : target.mutate(rng.pick(seeds), rng.pick(seeds), rng);
    const t0 = performance.now();
    let problem: string | undefined;
    try {
      let points = target.run(input, rng);
      if (target.timesFromInput) {
        const n = points.length;
        points = points.filter((p) => p.time >= TIME_MIN && p.time <= TIME_MAX);
        report.timesOutOfRange += n - points.length;
      }
      report.points += points.length;
      problem = checkPoints(points);
    } catch (err) {
      if (isTyped(err)) report.typedErrors++;
      else problem = `untyped ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`.slice(0, 300);
    }
    const ms = performance.now() - t0;
    if (ms > report.slowestMs) report.slowestMs = ms;
    if (ms > options.maxInputMs) problem ??= `took ${Math.round(ms)} ms (limit ${options.maxInputMs})`;
    if (problem && report.findings.length < 20) report.findings.push({ input: i, problem, sample: sample(input, target.bytes?.bind(target)) });
    report.inputs++;
    if ((i & 1023) === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  report.heapGrowthMb = Math.round((heapPeak - heapStart) / 1e5) / 10;
  if (report.heapGrowthMb > options.maxHeapGrowthMb) report.findings.push({ input: -1, problem: `heap grew ${report.heapGrowthMb} MB (limit ${options.maxHeapGrowthMb})`, sample: '' });
  return report;
}

/** A finding recorded by the watching thread: the input that never finished, or a crash of the thread (out of memory). */
export interface IsolatedOptions extends Omit<FuzzOptions, 'start' | 'progress'> {
  /** An input still running after this long is a hang: its thread is stopped and the run goes on after it. */
  hangMs: number;
}

const emptyReport = (target: string): FuzzReport => ({ target, inputs: 0, typedErrors: 0, timesOutOfRange: 0, points: 0, slowestMs: 0, heapGrowthMb: 0, findings: [] });

/**
 * runTarget in a worker thread (test/fuzz/worker.ts), watched from this one: a decoder that
 * loops for ever cannot stop the harness. The hung input is a finding, and a fresh worker
 * goes on from the next input. The worker's heap is capped (a runaway allocation is a finding).
 */
export async function runTargetIsolated(target: string, dirs: { dir: string; fastDir: string }, options: IsolatedOptions): Promise<FuzzReport> {
  const total = emptyReport(target);
  let start = 0;
  while (start < options.inputs) {
    const progress = new Float64Array(new SharedArrayBuffer(16));
    progress[0] = start;
    const worker = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: { target, dirs: { dir: dirs.dir, fastDir: dirs.fastDir }, options: { ...options, start }, progress },
      resourceLimits: { maxOldGenerationSizeMb: 2048 },
    });
    const outcome = await new Promise<{ report?: FuzzReport; stopped?: string }>((resolve) => {
      const timer = setInterval(() => {
        if (progress[1] > 0 && Date.now() - progress[1] > options.hangMs) {
          resolve({ stopped: `still running after ${options.hangMs} ms: a hang` });
          void worker.terminate();
        }
      }, 200);
      worker.once('message', (report: FuzzReport) => resolve({ report }));
      worker.once('error', (err) => resolve({ stopped: `the worker died: ${err.message}` }));
      worker.once('exit', (code) => resolve({ stopped: `the worker exited with ${code}` }));
      worker.once('exit', () => clearInterval(timer));
    });
    if (outcome.report) {
      const r = outcome.report;
      total.inputs += r.inputs;
      total.typedErrors += r.typedErrors;
      total.timesOutOfRange += r.timesOutOfRange;
      total.points += r.points;
      total.slowestMs = Math.max(total.slowestMs, r.slowestMs);
      total.heapGrowthMb = Math.max(total.heapGrowthMb, r.heapGrowthMb);
      total.findings.push(...r.findings);
      await worker.terminate();
      break;
    }
    // A worker that never got to its first input (the seeds failed) would fail the same way again.
    if (progress[1] === 0) throw new Error(`fuzz target ${target}: the worker stopped before its first input (${outcome.stopped})`);
    const at = progress[0]!;
    total.findings.push({ input: at, problem: outcome.stopped!, sample: `replay: FUZZ_SEED=${options.seed} FUZZ_TARGET='${target}', input ${at}` });
    total.inputs += at + 1 - start;
    start = at + 1;
  }
  return total;
}
