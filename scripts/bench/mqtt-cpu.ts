/**
 * CPU cost of the MQTT output (issue 8 target: at most +10% of the worker's CPU time):
 * `wattline run` with every simulated device polled every second, without an mqtt section
 * (the baseline) and publishing state and discovery to a real Mosquitto on loopback, both
 * running side by side over the same window, in several rounds. Both outboxes use
 * `synchronous: normal`: with `full`, the fsyncs' kernel time on a shared disk swings by more
 * than the whole MQTT cost. CPU is the on-CPU time of all the
 * worker's threads (/proc/<pid>/task/<tid>/schedstat, ns, user and kernel), counted after a
 * warm-up (start-up and module loading left out); a real
 * subscriber counts what the broker delivered, so the run really published.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/mqtt-cpu.js
 *   BENCH_SECONDS=60 BENCH_ROUNDS=3 node dist/scripts/bench/mqtt-cpu.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { startMosquitto } from '../../test/helpers/mosquitto.js';
import { subscribe } from '../../test/helpers/mqtt-subscriber.js';
import { ROOT } from '../../test/helpers/paths.js';
import { stopChild } from './common.js';

const WARMUP_S = 5;

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

function config(mqttUrl: string | null): unknown {
  const devices = simulatedDeviceEntries('sim', { schedule: '* * * * * *' });
  // synchronous: normal for both: fsync's kernel time on a shared disk varies by more than MQTT costs.
  return { outbox: { path: 'outbox.sqlite', synchronous: 'normal' }, ...(mqttUrl ? { mqtt: { url: mqttUrl, clientId: 'wattline-bench' } } : {}), devices };
}

/** A `wattline run` on a config written to a fresh temp folder. */
function startRun(mqttUrl: string | null): { worker: ChildProcess; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-mqtt-'));
  const path = join(dir, 'wattline.yaml');
  writeFileSync(path, stringify(config(mqttUrl)));
  const worker = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), '--config', path, '--log-level', 'warn', 'run'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { worker, dir };
}

/**
 * Both workers side by side over the same window (the machine's noise hits both alike):
 * CPU seconds each used in `seconds` after the warm-up.
 */
async function measurePair(mqttUrl: string, seconds: number): Promise<{ without: number; withMqtt: number }> {
  const runs = [startRun(null), startRun(mqttUrl)];
  try {
    await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
    for (const { worker } of runs) if (worker.exitCode !== null) throw new Error(`wattline run exited with ${worker.exitCode}`);
    const start = runs.map(({ worker }) => cpuSeconds(worker.pid!));
    await new Promise((r) => setTimeout(r, seconds * 1000));
    for (const { worker } of runs) if (worker.exitCode !== null) throw new Error(`wattline run exited with ${worker.exitCode}`);
    const used = runs.map(({ worker }, i) => cpuSeconds(worker.pid!) - start[i]!);
    return { without: used[0]!, withMqtt: used[1]! };
  } finally {
    for (const { worker, dir } of runs) {
      await stopChild(worker);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

export async function run(seconds = Number(process.env.BENCH_SECONDS ?? 30), rounds = Number(process.env.BENCH_ROUNDS ?? 3)): Promise<Record<string, unknown>> {
  const broker = await startMosquitto();
  const sub = await subscribe(broker.url, ['wattline/#', 'homeassistant/#']);
  try {
    let without = 0;
    let withMqtt = 0;
    let received = 0;
    const perRound: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const before = sub.messages.length;
      const { without: a, withMqtt: b } = await measurePair(broker.url, seconds);
      received += sub.messages.length - before;
      sub.messages.length = 0;
      without += a;
      withMqtt += b;
      perRound.push(Math.round((b / a) * 1000) / 1000);
      console.log(`round ${i + 1}: without ${a.toFixed(3)} s, with ${b.toFixed(3)} s, x${(b / a).toFixed(3)}`);
    }
    const total = seconds * rounds;
    const ratio = withMqtt / without;
    const median = [...perRound].sort((x, y) => x - y)[Math.floor(perRound.length / 2)]!;
    console.log(
      `wattline run, every simulated device every second, ${rounds}×${seconds} s each: CPU without MQTT ${without.toFixed(3)} s (${((without / total) * 100).toFixed(2)}% of a core), ` +
        `with MQTT ${withMqtt.toFixed(3)} s (${((withMqtt / total) * 100).toFixed(2)}%), x${ratio.toFixed(3)} (median round x${median.toFixed(3)}); ${received} messages delivered to a subscriber`,
    );
    return {
      bench: 'mqtt-cpu',
      seconds_per_run: seconds,
      rounds,
      cpu_without_mqtt_s: Math.round(without * 1000) / 1000,
      cpu_with_mqtt_s: Math.round(withMqtt * 1000) / 1000,
      ratio: Math.round(ratio * 1000) / 1000,
      ratio_per_round: perRound,
      ratio_median: median,
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
