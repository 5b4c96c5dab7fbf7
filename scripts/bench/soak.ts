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

interface Sample {
  s: number;
  rss: number;
  heapUsed: number;
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
    env: { ...process.env, WATTLINE_MEMORY_PROBE: probe, WATTLINE_MEMORY_PROBE_MS: String(sampleMs) },
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

function summarise(shape: Shape, warmupS: number): Record<string, number | string> {
  const all = shape.samples();
  const late = all.filter((x) => x.s >= warmupS);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    shape: shape.name,
    samples: all.length,
    ran_s: Math.round(all.at(-1)?.s ?? 0),
    rss_peak_mb: r(Math.max(0, ...all.map((x) => x.rss)) / MB),
    rss_at_warmup_mb: r((late[0]?.rss ?? Number.NaN) / MB),
    rss_last_mb: r((all.at(-1)?.rss ?? Number.NaN) / MB),
    rss_slope_mb_per_h: r(slopeMbPerHour(late.map((x) => ({ s: x.s, y: x.rss })))),
    heap_slope_mb_per_h: r(slopeMbPerHour(late.map((x) => ({ s: x.s, y: x.heapUsed })))),
    heap_last_mb: r((all.at(-1)?.heapUsed ?? Number.NaN) / MB),
  };
}

/** Points the worker has committed to its outbox (shows that the shape really polled). */
/** Device points committed (nothing is delivered: no InfluxDB); the worker's own `wattline_*` self-metrics are not counted. */
function committed(dir: string): number {
  const db = new Database(join(dir, 'outbox.sqlite'), { readonly: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE line NOT LIKE 'wattline\\_%' ESCAPE '\\'").get() as { n: number }).n;
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
    const results: Record<string, number | string>[] = shapes.map((s) => ({ ...summarise(s, warmupS), points_committed: committed(s.dir) }));
    for (const r of results) {
      const simulated = r.shape === 'simulated';
      const ok = (r.rss_slope_mb_per_h as number) <= 1 && (!simulated || (r.rss_peak_mb as number) <= 80);
      printRow(
        [
          `\`soak\`, ${SHAPES[r.shape as keyof typeof SHAPES]}, ${(Number(r.ran_s) / 60).toFixed(0)} min`,
          `RSS ${r.rss_slope_mb_per_h} MB/h after the ${warmupS / 60}-min warm-up (heap ${r.heap_slope_mb_per_h} MB/h); peak RSS ${r.rss_peak_mb} MB; ${r.points_committed} points`,
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
