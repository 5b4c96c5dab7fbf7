/**
 * CPU cost of the MQTT output (issue 8 target: at most +10% of the worker's CPU time).
 *
 * `wattline run` with every simulated device polled every second, delivering to a real influxd
 * (as a deployed worker does: MQTT is its second output) and publishing state and discovery
 * to a real Mosquitto on loopback, against the baseline: the same run without an mqtt section.
 * BENCH_INFLUX=0 measures the same without InfluxDB (points stay in the outbox): the worker's
 * lightest load, so MQTT's largest share.
 *
 * Three workers run side by side over the same windows (the machine's noise hits them alike):
 * the MQTT one and two baselines, whose ratio to each other is the noise floor, printed beside
 * the result. What counts is the steady state of a worker that runs for months: each set of
 * processes gets a warm-up (start-up, module loading and the JIT's first compilations left
 * out: code that runs once a second is still being optimized a minute after start; `perf`
 * showed TurboFan at a quarter of an idle worker's CPU 20-80 s in), then several windows are
 * measured; then the processes are replaced (BENCH_SETS times) so one process's luck does not
 * decide. All outboxes use `synchronous: normal`: with `full`, the fsyncs' kernel time on a
 * shared disk swings by more than the whole MQTT cost. CPU is the on-CPU time of all the
 * worker's threads (/proc/<pid>/task/<tid>/schedstat, ns, user and kernel); a real subscriber
 * counts what the broker delivered, so the run really published.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/mqtt-cpu.js
 *   BENCH_SETS=2 BENCH_WINDOWS=4 BENCH_SECONDS=30 BENCH_WARMUP=60 BENCH_INFLUX=1 node dist/scripts/bench/mqtt-cpu.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { createDatabase, startInfluxd } from '../../test/helpers/influxd.js';
import { startMosquitto } from '../../test/helpers/mosquitto.js';
import { subscribe } from '../../test/helpers/mqtt-subscriber.js';
import { ROOT } from '../../test/helpers/paths.js';
import { median, runIfMain, stopChild } from './common.js';

/** CPU time of every thread of a process, in s: /proc/<pid>/task/<tid>/schedstat (ns on a CPU, user and kernel). */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e9;
}

/** Where the workers deliver: a real influxd (a database each), or nowhere (points stay in the outbox). */
type Delivery = { influxUrl: string; database: string } | null;

function config(mqttUrl: string | null, delivery: Delivery): unknown {
  const devices = simulatedDeviceEntries('sim', { schedule: '* * * * * *' });
  return {
    // synchronous: normal for all: fsync's kernel time on a shared disk varies by more than MQTT costs.
    outbox: { path: 'outbox.sqlite', synchronous: 'normal' },
    ...(delivery ? { influx: { version: 1, url: delivery.influxUrl, database: delivery.database } } : {}),
    ...(mqttUrl ? { mqtt: { url: mqttUrl, clientId: 'wattline-bench' } } : {}),
    devices,
  };
}

/** A `wattline run` on a config written to a fresh temp folder. */
function startRun(mqttUrl: string | null, delivery: Delivery): { worker: ChildProcess; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-mqtt-'));
  const path = join(dir, 'wattline.yaml');
  writeFileSync(path, stringify(config(mqttUrl, delivery)));
  const worker = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), '--config', path, '--log-level', 'warn', 'run'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { worker, dir };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round3 = (x: number) => Math.round(x * 1000) / 1000;

interface Window {
  /** CPU seconds of the baseline, the second baseline (noise floor) and the MQTT worker. */
  base: number;
  base2: number;
  mqtt: number;
}

/** One set of three fresh workers: warm-up, then `windows` windows of `seconds` each. */
async function measureSet(mqttUrl: string, influxUrl: string | null, warmupS: number, windows: number, seconds: number): Promise<Window[]> {
  const delivery = async (name: string): Promise<Delivery> => {
    if (!influxUrl) return null;
    await createDatabase(influxUrl, name);
    return { influxUrl, database: name };
  };
  const runs = [startRun(null, await delivery('base')), startRun(null, await delivery('base2')), startRun(mqttUrl, await delivery('mqtt'))];
  const alive = () => {
    for (const { worker } of runs) if (worker.exitCode !== null) throw new Error(`wattline run exited with ${worker.exitCode}`);
  };
  try {
    await sleep(warmupS * 1000);
    alive();
    let last = runs.map(({ worker }) => cpuSeconds(worker.pid!));
    const out: Window[] = [];
    for (let i = 0; i < windows; i++) {
      await sleep(seconds * 1000);
      alive();
      const now = runs.map(({ worker }) => cpuSeconds(worker.pid!));
      const [base, base2, mqtt] = now.map((v, j) => v - last[j]!) as [number, number, number];
      last = now;
      out.push({ base, base2, mqtt });
      console.log(`  window ${out.length}: baseline ${base.toFixed(3)} s, second baseline ${base2.toFixed(3)} s, with MQTT ${mqtt.toFixed(3)} s, x${(mqtt / ((base + base2) / 2)).toFixed(3)} (noise floor x${(base2 / base).toFixed(3)})`);
    }
    return out;
  } finally {
    for (const { worker, dir } of runs) {
      await stopChild(worker);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const sets = env('BENCH_SETS', 2);
  const windows = env('BENCH_WINDOWS', 4);
  const seconds = env('BENCH_SECONDS', 30);
  const warmupS = env('BENCH_WARMUP', 60);
  // BENCH_INFLUX=0: no InfluxDB, points stay in the outbox (the worker's lightest possible load).
  const withInflux = process.env.BENCH_INFLUX !== '0';
  const influxd = withInflux ? await startInfluxd() : null;
  const broker = await startMosquitto();
  const sub = await subscribe(broker.url, ['wattline/#', 'homeassistant/#']);
  try {
    const all: Window[] = [];
    let received = 0;
    for (let p = 0; p < sets; p++) {
      console.log(`set ${p + 1} of ${sets}: three fresh workers, ${warmupS} s warm-up`);
      const before = sub.messages.length;
      all.push(...(await measureSet(broker.url, influxd?.url ?? null, warmupS, windows, seconds)));
      received += sub.messages.length - before;
      sub.messages.length = 0;
    }
    // The baseline is the mean of the two baselines; each alone against the other is the noise floor.
    const sum = (k: keyof Window) => all.reduce((a, w) => a + w[k], 0);
    const base = (sum('base') + sum('base2')) / 2;
    const ratio = sum('mqtt') / base;
    const perWindow = all.map((w) => round3(w.mqtt / ((w.base + w.base2) / 2)));
    const noise = all.map((w) => round3(w.base2 / w.base));
    const total = seconds * all.length;
    console.log(
      `wattline run, every simulated device every second, ${withInflux ? 'delivering to a real influxd' : 'no InfluxDB (outbox only)'}, ${all.length} windows of ${seconds} s after a ${warmupS} s warm-up: ` +
        `CPU without MQTT ${base.toFixed(3)} s (${((base / total) * 100).toFixed(2)}% of a core), with MQTT ${sum('mqtt').toFixed(3)} s (${((sum('mqtt') / total) * 100).toFixed(2)}%), ` +
        `x${ratio.toFixed(3)} (windows ${Math.min(...perWindow)}–${Math.max(...perWindow)}, median ${median(perWindow).toFixed(3)}); ` +
        `noise floor, baseline against baseline: x${(sum('base2') / sum('base')).toFixed(3)} (windows ${Math.min(...noise)}–${Math.max(...noise)}); ${received} messages delivered to a subscriber`,
    );
    return {
      bench: 'mqtt-cpu',
      delivery: withInflux ? 'influxd 1.x' : 'outbox only',
      sets,
      windows_per_set: windows,
      seconds_per_window: seconds,
      warmup_s: warmupS,
      cpu_without_mqtt_s: round3(base),
      cpu_with_mqtt_s: round3(sum('mqtt')),
      ratio: round3(ratio),
      ratio_per_window: perWindow,
      ratio_median: round3(median(perWindow)),
      noise_floor: round3(sum('base2') / sum('base')),
      noise_floor_per_window: noise,
      messages_delivered: received,
      baseline: 'the same wattline run without an mqtt section (mean of two such workers)',
    };
  } finally {
    await sub.close();
    await broker.stop();
    await influxd?.stop();
  }
}

runIfMain(import.meta.url, async () => console.log(JSON.stringify(await run())));
