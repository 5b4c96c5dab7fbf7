/**
 * Memory over a long run: `wattline run` in three shapes side by side, each sampled
 * every 10 s by a preloaded probe (memory-probe.ts: RSS and V8 heap):
 *   - simulated: every simulated device polled every second;
 *   - pty: the P1 and HDHK drivers over real socat PTYs, every second: the P1 simulator
 *     (in this process) writing a varied DSMR 5 telegram each second, Debian's pymodbus as the
 *     RTU slave for one HDHK unit of 16 channels (test/helpers/hdhk_slave.py);
 *   - idle: a worker with no devices (what the process itself holds).
 * After the warm-up (BENCH_SOAK_WARMUP_S, default 300 s) the least-squares slope of RSS and of
 * heap in MB per hour; peak RSS over the whole run. Target: <= 1 MB/h each, peak RSS of the
 * simulated shape <= 80 MB. SIGINT/SIGTERM ends the run early and reports what it has.
 * BENCH_SOAK_GC_S=120 (an experiment, not for the README's rows) forces a full GC in each
 * worker that often and adds the live heap's slope: garbage awaiting a major GC or a leak.
 *
 *   npx tsc -p tsconfig.json && BENCH_SOAK_S=3600 node dist/scripts/bench/soak.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { P1Simulator, pathSink } from '../../src/simulators/dsmr-p1.js';
import { DSMR5_NL } from '../../src/simulators/dsmr-p1-recordings.js';
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { hdhkRegisters, startHdhkSlave } from '../../test/helpers/hdhk-slave.js';
import { ROOT } from '../../test/helpers/paths.js';
import { startPtyPair, type PtyPair } from '../../test/helpers/pty.js';
import { hdhkSixteenChannels, loadAverage, met, printRow, runIfMain, stopChild } from './common.js';

const MB = 1024 * 1024;
const PROBE = join(ROOT, 'dist/scripts/bench/memory-probe.js');

const SHAPES = {
  simulated: 'every simulated device every second',
  pty: 'P1 (simulator) and HDHK (pymodbus, 16 channels) over socat PTYs every second',
  idle: 'idle worker (no devices)',
};

/** One line of memory-probe.ts (bytes; the newer fields absent from an older probe's file). */
interface Sample {
  s: number;
  rss: number;
  heapUsed: number;
  heapTotal?: number;
  oldCommitted?: number;
  external?: number;
  rssAnon?: number;
  rssFile?: number;
  /** A full GC was forced just before (BENCH_SOAK_GC_S): heapUsed is what is live. */
  gc?: boolean;
}

interface Shape {
  name: string;
  dir: string;
  worker: ChildProcess;
  samples: () => Sample[];
}

function startWorker(name: string, dir: string, config: unknown, sampleMs: number): Shape {
  const path = join(dir, 'wattline.yaml');
  writeFileSync(path, stringify(config));
  const probe = join(dir, 'memory.jsonl');
  const worker = spawn(process.execPath, ['--import', PROBE, join(ROOT, 'dist/src/cli/main.js'), '--config', path, '--log-level', 'warn', 'run'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, WATTLINE_MEMORY_PROBE: probe, WATTLINE_MEMORY_PROBE_MS: String(sampleMs), WATTLINE_MEMORY_PROBE_GC_S: process.env.BENCH_SOAK_GC_S ?? '0' },
  });
  const samples = (): Sample[] =>
    existsSync(probe)
      ? readFileSync(probe, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Sample)
      : [];
  return { name, dir, worker, samples };
}

/** Least-squares slope of y (bytes) over s (seconds), in MB per hour. */
export function slopeMbPerHour(points: readonly { s: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((a, p) => a + p.s, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.s - mx) * (p.y - my);
    den += (p.s - mx) ** 2;
  }
  return den === 0 ? Number.NaN : ((num / den) * 3600) / MB;
}

/** The kernel's high-water mark of a process's RSS (VmHWM), MB; NaN once it has gone. */
function rssHighWaterMb(pid: number | undefined): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** "45 s", "40 min", "6 h", "2 h 20 min": a run's length as the README row says it. */
export function runLength(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const min = Math.round(seconds / 60);
  if (min < 60) return `${min} min`;
  return min % 60 === 0 ? `${min / 60} h` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

function summarise(shape: Shape, warmupS: number): Record<string, number | string> {
  const every = shape.samples();
  // Samples after a forced GC (BENCH_SOAK_GC_S) only give the live heap's slope.
  const all = every.filter((x) => !x.gc);
  const late = all.filter((x) => x.s >= warmupS);
  const liveLate = every.filter((x) => x.gc && x.s >= warmupS);
  const r = (x: number) => Math.round(x * 100) / 100;
  const mb = (x: number | undefined) => r((x ?? Number.NaN) / MB);
  // What the peak is made of: the sample with the highest RSS.
  const peak = all.reduce<Sample | undefined>((a, x) => (a === undefined || x.rss > a.rss ? x : a), undefined);
  return {
    shape: shape.name,
    samples: all.length,
    ran_s: Math.round(all.at(-1)?.s ?? 0),
    rss_peak_mb: r(Math.max(0, ...all.map((x) => x.rss)) / MB),
    rss_high_water_mb: r(rssHighWaterMb(shape.worker.pid)),
    peak_at_s: Math.round(peak?.s ?? Number.NaN),
    peak_file_mb: mb(peak?.rssFile),
    peak_anon_mb: mb(peak?.rssAnon),
    peak_heap_committed_mb: mb(peak?.heapTotal),
    peak_old_committed_mb: mb(peak?.oldCommitted),
    peak_heap_used_mb: mb(peak?.heapUsed),
    peak_external_mb: mb(peak?.external),
    rss_at_warmup_mb: r((late[0]?.rss ?? Number.NaN) / MB),
    rss_last_mb: r((all.at(-1)?.rss ?? Number.NaN) / MB),
    rss_slope_mb_per_h: r(slopeMbPerHour(late.map((x) => ({ s: x.s, y: x.rss })))),
    heap_slope_mb_per_h: r(slopeMbPerHour(late.map((x) => ({ s: x.s, y: x.heapUsed })))),
    heap_last_mb: r((all.at(-1)?.heapUsed ?? Number.NaN) / MB),
    ...(liveLate.length > 0
      ? { live_heap_slope_mb_per_h: r(slopeMbPerHour(liveLate.map((x) => ({ s: x.s, y: x.heapUsed })))), live_heap_first_mb: mb(liveLate[0]!.heapUsed), live_heap_last_mb: mb(liveLate.at(-1)!.heapUsed) }
      : {}),
  };
}

/**
 * Device points the worker has committed to its outbox (nothing is delivered: no InfluxDB;
 * its own `wattline_*` self-metrics are not counted), shows that the shape really polled: how
 * many, how many a second between the first and the last commit, and how long before now the
 * last one was (a shape that stopped polling early shows there, not only in a lower count).
 */
function committed(dir: string): { points: number; perSecond: number; lastAgoS: number } {
  const db = new Database(join(dir, 'outbox.sqlite'), { readonly: true });
  try {
    const row = db.prepare("SELECT COUNT(*) AS n, MIN(committed_ms) AS first, MAX(committed_ms) AS last FROM outbox WHERE line NOT LIKE 'wattline\\_%' ESCAPE '\\'").get() as {
      n: number;
      first: number | null;
      last: number | null;
    };
    const spanS = row.first === null || row.last === null ? 0 : (row.last - row.first) / 1000;
    return {
      points: row.n,
      perSecond: spanS > 0 ? Math.round((row.n / spanS) * 100) / 100 : 0,
      lastAgoS: row.last === null ? Number.NaN : Math.round((Date.now() - row.last) / 1000),
    };
  } finally {
    db.close();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const seconds = Number(process.env.BENCH_SOAK_S ?? 3600);
  const warmupS = Number(process.env.BENCH_SOAK_WARMUP_S ?? 300);
  const sampleMs = Number(process.env.BENCH_SOAK_SAMPLE_MS ?? 10_000);
  const every = '* * * * * *';
  const root = mkdtempSync(join(tmpdir(), 'wattline-bench-soak-'));
  const dirs = { simulated: join(root, 'simulated'), pty: join(root, 'pty'), idle: join(root, 'idle') };
  const shapes: Shape[] = [];
  const pairs: PtyPair[] = [];
  let slave: ChildProcess | undefined;
  let p1: P1Simulator | undefined;
  let stopEarly: () => void = () => undefined;
  const early = new Promise<void>((resolve) => (stopEarly = resolve));
  const onSignal = () => stopEarly();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const load = loadAverage();
  try {
    for (const d of Object.values(dirs)) mkdirSync(d);
    const p1Pair = await startPtyPair(mkdtempSync(join(root, 'p1-pty-')));
    const hdhkPair = await startPtyPair(mkdtempSync(join(root, 'hdhk-pty-')));
    pairs.push(p1Pair, hdhkPair);
    slave = await startHdhkSlave(hdhkPair.a, {
      '1': hdhkRegisters(
        628,
        Array.from({ length: 16 }, (_, i) => 100 * (i + 1)),
      ),
    });
    p1 = new P1Simulator(pathSink(p1Pair.a), { telegrams: [DSMR5_NL], vary: true, intervalMs: 1000 });
    p1.start();
    shapes.push(startWorker('simulated', dirs.simulated, { outbox: { path: 'outbox.sqlite' }, devices: simulatedDeviceEntries('sim', { schedule: every }) }, sampleMs));
    shapes.push(
      startWorker(
        'pty',
        dirs.pty,
        {
          outbox: { path: 'outbox.sqlite' },
          devices: [
            { name: 'p1', driver: 'dsmr-p1', port: { path: p1Pair.b }, schedule: every, options: { mode: 'latest', timestamps: 'collection' } },
            { name: 'board', driver: 'hdhk', port: { path: hdhkPair.b }, schedule: every, options: hdhkSixteenChannels() },
          ],
        },
        sampleMs,
      ),
    );
    shapes.push(startWorker('idle', dirs.idle, { outbox: { path: 'outbox.sqlite' }, devices: [] }, sampleMs));
    console.log(`soak: ${shapes.length} workers for ${seconds} s (warm-up ${warmupS} s, a sample every ${sampleMs / 1000} s), load average ${load}; SIGINT ends early`);
    const end = Date.now() + seconds * 1000;
    let nextReport = Date.now() + 300_000;
    let stopped = false;
    void early.then(() => (stopped = true));
    while (!stopped && Date.now() < end) {
      await Promise.race([new Promise((r) => setTimeout(r, 1000)), early]);
      for (const s of shapes) if (s.worker.exitCode !== null) throw new Error(`soak: the ${s.name} worker exited with ${s.worker.exitCode}`);
      if (Date.now() >= nextReport) {
        nextReport += 300_000;
        for (const s of shapes) console.log(`  ${JSON.stringify(summarise(s, warmupS))}`);
      }
    }
    const results: Record<string, number | string>[] = shapes.map((s) => {
      const c = committed(s.dir);
      return { ...summarise(s, warmupS), points_committed: c.points, points_per_s: c.perSecond, last_commit_ago_s: c.lastAgoS };
    });
    for (const r of results) {
      const simulated = r.shape === 'simulated';
      const ok = (r.rss_slope_mb_per_h as number) <= 1 && (!simulated || (r.rss_peak_mb as number) <= 80);
      printRow(
        [
          `\`soak\`, ${SHAPES[r.shape as keyof typeof SHAPES]}, ${runLength(Number(r.ran_s))}`,
          `RSS ${r.rss_slope_mb_per_h} MB/h after the ${runLength(warmupS)} warm-up (heap ${r.heap_slope_mb_per_h} MB/h); peak RSS ${r.rss_peak_mb} MB (${r.peak_file_mb} MB file pages, ${r.peak_anon_mb} MB anonymous, of which JS heap ${r.peak_heap_committed_mb} MB); ${r.points_committed} points (${r.points_per_s}/s)`,
          '',
          '',
          `≤ 1 MB/h${simulated ? ', peak ≤ 80 MB' : ''} ${met(ok)}`,
        ],
        load,
      );
    }
    return { bench: 'soak', seconds, warmup_s: warmupS, load_start: load, load_end: loadAverage(), shapes: results };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(shapes.map((s) => stopChild(s.worker)));
    await p1?.stop();
    if (slave) await stopChild(slave);
    for (const p of pairs) await p.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, async () => console.log(JSON.stringify(await run())));
