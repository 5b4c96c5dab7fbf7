/**
 * CPU cost of the MQTT output (targets: at most +10% of the worker's CPU time).
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
 * BENCH_MODE=vscp measures the VSCP part instead (target: at most +5%): a worker with the simulated
 * P1 meter only (a telegram every second), MQTT on, against the same with `mqtt.vscp` on.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/mqtt-cpu.js
 *   BENCH_WORKERS=3 BENCH_SECONDS=300 BENCH_WARMUP=60 BENCH_SETS=1 BENCH_INFLUX=1 node dist/scripts/bench/mqtt-cpu.js
 *   BENCH_MODE=vscp node dist/scripts/bench/mqtt-cpu.js
 */
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { createDatabase, startInfluxd } from '../../test/helpers/influxd.js';
import { startMosquitto } from '../../test/helpers/mosquitto.js';
import { subscribe } from '../../test/helpers/mqtt-subscriber.js';
import { loadAverage, met, printRow, runIfMain } from './common.js';
import { mean, round3, sideBySide } from './side-by-side.js';

/** Where a worker delivers: a real influxd (a database each), or nowhere (points stay in the outbox). */
type Delivery = { influxUrl: string; database: string } | null;
type Mqtt = { url: string; clientId: string; batchWindowMs?: number; vscp?: Record<string, unknown> } | null;

interface Kind {
  name: string;
  /** The mqtt section of its workers, given the broker and a worker number. */
  mqtt: (url: string, n: number) => Mqtt;
}

const VSCP = process.env.BENCH_MODE === 'vscp';
const KINDS: readonly Kind[] = VSCP
  ? [
      { name: 'baseline', mqtt: (url, n) => ({ url, clientId: `wattline-bench-${n}` }) },
      { name: 'mqtt', mqtt: (url, n) => ({ url, clientId: `wattline-bench-vscp-${n}`, vscp: { guid: `FF:FF:FF:FF:FF:FF:FF:FE:02:00:00:00:00:${String(n).padStart(2, '0')}:00:00` } }) },
    ]
  : [
      { name: 'baseline', mqtt: () => null },
      { name: 'mqtt', mqtt: (url, n) => ({ url, clientId: `wattline-bench-${n}` }) },
      { name: 'mqtt-600ms', mqtt: (url, n) => ({ url, clientId: `wattline-bench-600-${n}`, batchWindowMs: 600 }) },
    ];

function config(mqtt: Mqtt, delivery: Delivery): unknown {
  const all = simulatedDeviceEntries('sim', { schedule: '* * * * * *' });
  const devices = VSCP ? all.filter((d) => d.driver === 'dsmr-p1') : all;
  return {
    // synchronous: normal for all: fsync's kernel time on a shared disk varies by more than MQTT costs.
    outbox: { path: 'outbox.sqlite', synchronous: 'normal' },
    ...(delivery ? { influx: { version: 1, url: delivery.influxUrl, database: delivery.database } } : {}),
    ...(mqtt ? { mqtt } : {}),
    devices,
  };
}

/** One set: `perKind` fresh workers of each kind, interleaved; warm-up, then one window. CPU seconds per kind, per worker. */
async function measureSet(mqttUrl: string, influxUrl: string | null, perKind: number, warmupS: number, seconds: number): Promise<Map<string, number[]>> {
  const kinds = KINDS.map((kind) => ({
    name: kind.name,
    config: async (n: number) => {
      let delivery: Delivery = null;
      if (influxUrl) {
        const database = `${kind.name.replace(/\W/g, '_')}_${n}`;
        await createDatabase(influxUrl, database);
        delivery = { influxUrl, database };
      }
      return config(kind.mqtt(mqttUrl, n), delivery);
    },
  }));
  return (await sideBySide(kinds, { perKind, warmupS, seconds })).cpu;
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
  const sub = await subscribe(broker.url, ['wattline/#', 'homeassistant/#', 'vscp/#']);
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
    const with600 = VSCP ? NaN : mean(cpu.get('mqtt-600ms')!) * sets;
    const baselines = cpu.get('baseline')!;
    const noise = Math.max(...baselines) / Math.min(...baselines);
    if (VSCP) {
      console.log(
        `wattline run, the simulated P1 meter (a telegram a second), MQTT on, ${withInflux ? 'delivering to a real influxd' : 'no InfluxDB (outbox only)'}, ${sets} × ${seconds} s after a ${warmupS} s warm-up, ${perKind} workers of each kind side by side: ` +
          `CPU per worker without VSCP ${base.toFixed(3)} s, with mqtt.vscp ${withMqtt.toFixed(3)} s, x${(withMqtt / base).toFixed(3)}; noise floor x${noise.toFixed(3)}; ${received} messages delivered to a subscriber`,
      );
      const ratio = withMqtt / base;
      printRow(
        [
          `\`mqtt-cpu\` with \`BENCH_MODE=vscp\`: the simulated P1 meter (a telegram a second), MQTT on, ${withInflux ? 'delivering to a real influxd' : 'no InfluxDB'}; worker CPU over ${total} s after a ${warmupS} s warm-up, ${perKind} workers of each kind side by side`,
          `${withMqtt.toFixed(3)} s with \`mqtt.vscp\``,
          `the same run without \`vscp\` (mean of ${perKind} such workers), ${base.toFixed(3)} s`,
          `${ratio.toFixed(3)}×; noise floor ${noise.toFixed(3)}×`,
          `≤ 1.05× ${met(ratio <= 1.05)} (issue 21)`,
        ],
        load,
      );
      return {
        bench: 'vscp-cpu',
        delivery: withInflux ? 'influxd 1.x' : 'outbox only',
        sets,
        workers_per_kind: perKind,
        seconds,
        warmup_s: warmupS,
        cpu_without_vscp_s: round3(base),
        cpu_with_vscp_s: round3(withMqtt),
        ratio: round3(withMqtt / base),
        noise_floor: round3(noise),
        messages_delivered: received,
        baseline: 'the same wattline run with MQTT on and no vscp section',
      };
    }
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
