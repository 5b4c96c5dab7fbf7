/**
 * CPU cost of the MQTT output (issue 8 target: at most +10% of the worker's CPU time):
 * `wattline run` with every simulated device polled every second, once without an mqtt
 * section (the baseline) and once publishing state and discovery to a real Mosquitto on
 * loopback, in alternating rounds of the same length. CPU is utime+stime from
 * /proc/<pid>/stat, counted after a warm-up (start-up and module loading left out); a real
 * subscriber counts what the broker delivered, so the run really published.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/mqtt-cpu.js
 *   BENCH_SECONDS=60 BENCH_ROUNDS=3 node dist/scripts/bench/mqtt-cpu.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { demoDevices } from '../../src/simulators/index.js';
import { startMosquitto } from '../../test/helpers/mosquitto.js';
import { subscribe } from '../../test/helpers/mqtt-subscriber.js';
import { ROOT } from '../../test/helpers/paths.js';

const WARMUP_S = 5;
const TICKS_PER_S = 100; // USER_HZ on Linux

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function config(mqttUrl: string | null): unknown {
  const devices = demoDevices().map((d) => ({ name: `sim-${d.driver}`, driver: d.driver, simulate: true, schedule: '* * * * * *', ...(d.options ? { options: d.options } : {}) }));
  return { outbox: { path: 'outbox.sqlite' }, ...(mqttUrl ? { mqtt: { url: mqttUrl, clientId: 'wattline-bench' } } : {}), devices };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** CPU seconds the worker used in `seconds` after the warm-up. */
async function measure(mqttUrl: string | null, seconds: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-mqtt-'));
  const path = join(dir, 'wattline.yaml');
  writeFileSync(path, stringify(config(mqttUrl)));
  const worker = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), '--config', path, '--log-level', 'warn', 'run'], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
    if (worker.exitCode !== null) throw new Error(`wattline run exited with ${worker.exitCode}`);
    const start = cpuTicks(worker.pid!);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    if (worker.exitCode !== null) throw new Error(`wattline run exited with ${worker.exitCode}`);
    return (cpuTicks(worker.pid!) - start) / TICKS_PER_S;
  } finally {
    await stop(worker);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(seconds = Number(process.env.BENCH_SECONDS ?? 30), rounds = Number(process.env.BENCH_ROUNDS ?? 2)): Promise<Record<string, unknown>> {
  const broker = await startMosquitto();
  const sub = await subscribe(broker.url, ['wattline/#', 'homeassistant/#']);
  try {
    let without = 0;
    let withMqtt = 0;
    let received = 0;
    for (let i = 0; i < rounds; i++) {
      without += await measure(null, seconds);
      const before = sub.messages.length;
      withMqtt += await measure(broker.url, seconds);
      received += sub.messages.length - before;
      sub.messages.length = 0;
    }
    const total = seconds * rounds;
    const ratio = withMqtt / without;
    console.log(
      `wattline run, every simulated device every second, ${rounds}×${seconds} s each: CPU without MQTT ${without.toFixed(2)} s (${((without / total) * 100).toFixed(2)}% of a core), ` +
        `with MQTT ${withMqtt.toFixed(2)} s (${((withMqtt / total) * 100).toFixed(2)}%), x${ratio.toFixed(3)}; ${received} messages delivered to a subscriber`,
    );
    return {
      bench: 'mqtt-cpu',
      seconds_per_run: seconds,
      rounds,
      cpu_without_mqtt_s: Math.round(without * 100) / 100,
      cpu_with_mqtt_s: Math.round(withMqtt * 100) / 100,
      ratio: Math.round(ratio * 1000) / 1000,
      messages_delivered: received,
      baseline: 'the same wattline run without an mqtt section',
    };
  } finally {
    await sub.close();
    await broker.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run()));
}
