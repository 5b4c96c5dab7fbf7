/**
 * What watching the worker costs (targets: CPU at most 1.02x, peak RSS at most +3 MB).
 *
 * `wattline run` with every simulated device polled every second, delivering to a real influxd,
 * with self-metrics (every 30 s, the default) and the HTTP endpoint on, scraped every 15 s (as a
 * Prometheus would), against the same worker with `internal.enabled: false` and no `http`.
 * Three workers of each kind side by side (side-by-side.ts, the mqtt-cpu method): a warm-up,
 * then one long window; CPU is all threads' on-CPU time, memory the peak resident set (VmHWM).
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/observe-cost.js
 *   BENCH_WORKERS=3 BENCH_SECONDS=300 BENCH_WARMUP=60 node dist/scripts/bench/observe-cost.js
 */
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { createDatabase, startInfluxd } from '../../test/helpers/influxd.js';
import { freePorts } from '../../test/helpers/ports.js';
import { runIfMain } from './common.js';
import { mean, round3, sideBySide, sleep } from './side-by-side.js';

const SCRAPE_EVERY_MS = 15_000;

export async function run(): Promise<Record<string, unknown>> {
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const perKind = env('BENCH_WORKERS', 3);
  const seconds = env('BENCH_SECONDS', 300);
  const warmupS = env('BENCH_WARMUP', 60);
  const influxd = await startInfluxd();
  const ports = await freePorts(perKind);
  const base = async (name: string, n: number) => {
    const database = `${name}_${n}`;
    await createDatabase(influxd.url, database);
    return {
      outbox: { path: 'outbox.sqlite', synchronous: 'normal' },
      influx: { version: 1, url: influxd.url, database },
      devices: simulatedDeviceEntries('sim', { schedule: '* * * * * *' }),
    };
  };
  let scrapes = 0;
  try {
    console.log(`${perKind} workers of each kind (off, on), ${warmupS} s warm-up, then ${seconds} s`);
    const { cpu, peakRss } = await sideBySide(
      [
        { name: 'off', config: async (n) => ({ ...(await base('off', n)), internal: { enabled: false } }) },
        { name: 'on', config: async (n) => ({ ...(await base('on', n)), http: { listen: `127.0.0.1:${ports[n - 1]}` } }) },
      ],
      {
        perKind,
        warmupS,
        seconds,
        during: async (workers, stop) => {
          while (!stop.aborted) {
            await sleep(SCRAPE_EVERY_MS);
            for (const w of workers.filter((x) => x.kind === 'on')) {
              const res = await fetch(`http://127.0.0.1:${ports[w.n - 1]}/metrics`).catch(() => null);
              if (res) {
                await res.text();
                scrapes++;
              }
            }
          }
        },
      },
    );
    const off = mean(cpu.get('off')!);
    const on = mean(cpu.get('on')!);
    const rssOff = mean(peakRss.get('off')!);
    const rssOn = mean(peakRss.get('on')!);
    const noise = Math.max(...cpu.get('off')!) / Math.min(...cpu.get('off')!);
    const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
    console.log(
      `wattline run, every simulated device every second into a real influxd, ${seconds} s after a ${warmupS} s warm-up, ${perKind} workers of each kind side by side: ` +
        `CPU per worker without self-metrics/http ${off.toFixed(3)} s, with ${on.toFixed(3)} s, x${(on / off).toFixed(3)} (noise floor x${noise.toFixed(3)}); ` +
        `peak RSS ${mb(rssOff)} MB against ${mb(rssOn)} MB (${rssOn >= rssOff ? '+' : ''}${mb(rssOn - rssOff)} MB); ${scrapes} scrapes of /metrics`,
    );
    return {
      bench: 'observe-cost',
      workers_per_kind: perKind,
      seconds,
      warmup_s: warmupS,
      cpu_off_s: round3(off),
      cpu_on_s: round3(on),
      ratio: round3(on / off),
      noise_floor: round3(noise),
      peak_rss_off_mb: round3(rssOff / 1048576),
      peak_rss_on_mb: round3(rssOn / 1048576),
      peak_rss_delta_mb: round3((rssOn - rssOff) / 1048576),
      cpu_per_worker_s: Object.fromEntries([...cpu].map(([k, v]) => [k, v.map(round3)])),
      scrapes,
      baseline: 'the same wattline run with internal.enabled: false and no http section (mean of its workers, side by side)',
    };
  } finally {
    await influxd.stop();
  }
}

runIfMain(import.meta.url, async () => console.log(JSON.stringify(await run())));
