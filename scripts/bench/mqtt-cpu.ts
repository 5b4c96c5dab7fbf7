/**
 * CPU cost of the MQTT output (issue 8 target: at most +10% of the worker's CPU time).
 *
 * `wattline run` with every simulated device polled every second, delivering to a real influxd
 * (as a deployed worker does: MQTT is its second output) and publishing state and discovery
 * to a real Mosquitto on loopback, against the baseline: the same run without an mqtt section.
 * BENCH_INFLUX=0 measures the same without InfluxDB (points stay in the outbox): the worker's
 * lightest load, so MQTT's largest share. A third kind of worker publishes with
 * `batchWindowMs: 600` (the window before the 2 s default), to show what the window buys.
 *
 * Several workers of each kind run side by side over the same time (the machine's noise hits
 * them alike; BENCH_WORKERS of each): a single process carries luck of its own that lasts (two
 * identical workers measured in 30 s windows differed by ±15%, and by ~5% over six minutes),
 * so each kind's figure is the mean of its workers, and the spread among the baseline workers
 * is printed as the noise floor. What counts is the steady state of a worker that runs for
 * months: a warm-up first (start-up, module loading and the JIT's first compilations left out:
 * code that runs once a second is still being optimized a minute after start), then one long
 * window. All outboxes use `synchronous: normal`: with `full`, the fsyncs' kernel time on a
 * shared disk swings by more than the whole MQTT cost. CPU is the on-CPU time of all the
 * worker's threads (/proc/<pid>/task/<tid>/schedstat, ns, user and kernel); a real subscriber
 * (as Home Assistant would be) counts what the broker delivered, so the run really published.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/mqtt-cpu.js
 *   BENCH_WORKERS=3 BENCH_SECONDS=300 BENCH_WARMUP=60 BENCH_SETS=1 BENCH_INFLUX=1 node dist/scripts/bench/mqtt-cpu.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { createDatabase, startInfluxd } from '../../test/helpers/influxd.js';
import { startMosquitto } from '../../test/helpers/mosquitto.js';
import { subscribe } from '../../test/helpers/mqtt-subscriber.js';
import { ROOT } from '../../test/helpers/paths.js';
import { cpuSeconds, loadAverage, met, printRow, runIfMain, stopChild } from './common.js';

/** Where a worker delivers: a real influxd (a database each), or nowhere (points stay in the outbox). */
type Delivery = { influxUrl: string; database: string } | null;
type Mqtt = { url: string; clientId: string; batchWindowMs?: number } | null;

interface Kind {
  name: string;
  /** The mqtt section of its workers, given the broker and a worker number. */
  mqtt: (url: string, n: number) => Mqtt;
}

const KINDS: readonly Kind[] = [
  { name: 'baseline', mqtt: () => null },
  { name: 'mqtt', mqtt: (url, n) => ({ url, clientId: `wattline-bench-${n}` }) },
  { name: 'mqtt-600ms', mqtt: (url, n) => ({ url, clientId: `wattline-bench-600-${n}`, batchWindowMs: 600 }) },
];

function config(mqtt: Mqtt, delivery: Delivery): unknown {
  const devices = simulatedDeviceEntries('sim', { schedule: '* * * * * *' });
  return {
    // synchronous: normal for all: fsync's kernel time on a shared disk varies by more than MQTT costs.
    outbox: { path: 'outbox.sqlite', synchronous: 'normal' },
    ...(delivery ? { influx: { version: 1, url: delivery.influxUrl, database: delivery.database } } : {}),
    ...(mqtt ? { mqtt } : {}),
    devices,
  };
}

/** A `wattline run` on a config written to a fresh temp folder. */
function startRun(mqtt: Mqtt, delivery: Delivery): { worker: ChildProcess; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-mqtt-'));
  const path = join(dir, 'wattline.yaml');
  writeFileSync(path, stringify(config(mqtt, delivery)));
  const worker = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), '--config', path, '--log-level', 'error', 'run'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { worker, dir };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One set: `perKind` fresh workers of each kind, interleaved; warm-up, then one window. CPU seconds per kind, per worker. */
async function measureSet(mqttUrl: string, influxUrl: string | null, perKind: number, warmupS: number, seconds: number): Promise<Map<string, number[]>> {
  const runs: { kind: string; worker: ChildProcess; dir: string }[] = [];
  const alive = () => {
    for (const { worker } of runs) if (worker.exitCode !== null) throw new Error(`wattline run exited with ${worker.exitCode}`);
  };
  try {
    for (let n = 1; n <= perKind; n++) {
      for (const kind of KINDS) {
        let delivery: Delivery = null;
        if (influxUrl) {
          const database = `${kind.name.replace(/\W/g, '_')}_${n}`;
          await createDatabase(influxUrl, database);
          delivery = { influxUrl, database };
        }
        runs.push({ kind: kind.name, ...startRun(kind.mqtt(mqttUrl, n), delivery) });
      }
    }
    await sleep(warmupS * 1000);
    alive();
    const before = runs.map(({ worker }) => cpuSeconds(worker.pid!));
    await sleep(seconds * 1000);
    alive();
    const out = new Map<string, number[]>(KINDS.map((k) => [k.name, []]));
    runs.forEach(({ kind, worker }, i) => out.get(kind)!.push(cpuSeconds(worker.pid!) - before[i]!));
    return out;
  } finally {
    for (const { worker, dir } of runs) {
      await stopChild(worker);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const load = loadAverage();
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const perKind = env('BENCH_WORKERS', 3);
  const sets = env('BENCH_SETS', 1);
  const seconds = env('BENCH_SECONDS', 300);
  const warmupS = env('BENCH_WARMUP', 60);
  // BENCH_INFLUX=0: no InfluxDB, points stay in the outbox (the worker's lightest possible load).
  const withInflux = process.env.BENCH_INFLUX !== '0';
  const influxd = withInflux ? await startInfluxd() : null;
  const broker = await startMosquitto();
  const sub = await subscribe(broker.url, ['wattline/#', 'homeassistant/#']);
  // Counted, not kept: a few hundred thousand messages would otherwise sit in the subscriber.
  let received = 0;
  const counter = setInterval(() => {
    received += sub.messages.length;
    sub.messages.length = 0;
  }, 1000);
  try {
    const cpu = new Map<string, number[]>(KINDS.map((k) => [k.name, []]));
    for (let s = 0; s < sets; s++) {
      console.log(`set ${s + 1} of ${sets}: ${perKind} fresh workers of each kind (${KINDS.map((k) => k.name).join(', ')}), ${warmupS} s warm-up, then ${seconds} s`);
      for (const [kind, values] of await measureSet(broker.url, influxd?.url ?? null, perKind, warmupS, seconds)) {
        cpu.get(kind)!.push(...values);
        console.log(`  ${kind.padEnd(10)} ${values.map((v) => `${((v / seconds) * 1000).toFixed(2)}`).join(', ')} ms of CPU a second`);
      }
    }
    received += sub.messages.length;
    const total = seconds * sets;
    const base = mean(cpu.get('baseline')!) * sets;
    const withMqtt = mean(cpu.get('mqtt')!) * sets;
    const with600 = mean(cpu.get('mqtt-600ms')!) * sets;
    const baselines = cpu.get('baseline')!;
    const noise = Math.max(...baselines) / Math.min(...baselines);
    console.log(
      `wattline run, every simulated device every second, ${withInflux ? 'delivering to a real influxd' : 'no InfluxDB (outbox only)'}, ${sets} × ${seconds} s after a ${warmupS} s warm-up, ${perKind} workers of each kind side by side: ` +
        `CPU per worker without MQTT ${base.toFixed(3)} s (${((base / total) * 100).toFixed(2)}% of a core), with MQTT ${withMqtt.toFixed(3)} s (${((withMqtt / total) * 100).toFixed(2)}%), x${(withMqtt / base).toFixed(3)}; ` +
        `with batchWindowMs 600 x${(with600 / base).toFixed(3)}; noise floor, largest against smallest baseline worker: x${noise.toFixed(3)}; ${received} messages delivered to a subscriber`,
    );
    const ratio = withMqtt / base;
    printRow(
      [
        `\`mqtt-cpu\`${withInflux ? '' : ', `BENCH_INFLUX=0`'}: every simulated device every second to a real Mosquitto (read by a real subscriber), ${withInflux ? 'delivering to a real influxd' : 'no InfluxDB (points stay in the outbox)'}; worker CPU over ${total} s after a ${warmupS} s warm-up, ${perKind} workers of each kind side by side`,
        `${withMqtt.toFixed(3)} s (${((withMqtt / total) * 100).toFixed(2)}% of a core)`,
        `the same run without \`mqtt\` (mean of ${perKind} such workers), ${base.toFixed(3)} s (${((base / total) * 100).toFixed(2)}%)`,
        `${ratio.toFixed(3)}×; with \`batchWindowMs: 600\` ${(with600 / base).toFixed(3)}×; noise floor ${noise.toFixed(3)}×`,
        `≤ 1.1× ${met(ratio <= 1.1)} (issue 8)`,
      ],
      load,
    );
    return {
      bench: 'mqtt-cpu',
      delivery: withInflux ? 'influxd 1.x' : 'outbox only',
      sets,
      workers_per_kind: perKind,
      seconds,
      warmup_s: warmupS,
      cpu_without_mqtt_s: round3(base),
      cpu_with_mqtt_s: round3(withMqtt),
      ratio: round3(withMqtt / base),
      ratio_batch_window_600ms: round3(with600 / base),
      cpu_per_worker_s: Object.fromEntries([...cpu].map(([k, v]) => [k, v.map(round3)])),
      noise_floor: round3(noise),
      messages_delivered: received,
      baseline: 'the same wattline run without an mqtt section (mean of its workers, side by side with the MQTT ones)',
    };
  } finally {
    clearInterval(counter);
    await sub.close();
    await broker.stop();
    await influxd?.stop();
  }
}

runIfMain(import.meta.url, async () => console.log(JSON.stringify(await run())));
