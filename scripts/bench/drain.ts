/**
 * Draining a backlog into a real influxd 1.6.7 (README "Benchmarks"): our Flusher +
 * InfluxV1Writer reading a SQLite outbox, against a baseline in the same run: one kept-alive
 * `curl --data-binary` process posting the same 10k-line batches from files (curl `-K` with
 * `next` between transfers, so one connection serves them all). No gzip on either side
 * (loopback).
 *
 * Fairness: every input (batch files, one filled outbox per run of ours) is prepared and
 * synced to disk before anything is timed, so neither side pays for the other's page-cache
 * writeback; each run gets a fresh influxd (its own temp folder), so none pays for the
 * previous run's cache snapshots and compactions; runs go curl, ours, ours, curl, ... so
 * slow drift in the machine falls on both alike.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/drain.js
 *   BENCH_POINTS=100000 BENCH_ROUNDS=1 node dist/scripts/bench/drain.js
 *
 * influxd is started with the test helper (dist/test/helpers/influxd.js, compiled from
 * test/helpers/influxd.ts): one implementation of "influxd in a temp folder on free ports",
 * not a second copy that drifts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { Flusher } from '../../src/influx/flusher.js';
import { InfluxV1Writer } from '../../src/influx/v1-writer.js';
import { openSqliteOutbox } from '../../src/outbox/sqlite-outbox.js';
import { count, createDatabase, startInfluxd, type Influxd } from '../../test/helpers/influxd.js';
import { loadAverage, met, printRow } from './common.js';

const BATCH = 10_000;
const T0_MS = 1_700_000_000_000;

/** ~150-byte lines shaped like the PDU driver's; every point distinct (its own timestamp). */
function line(n: number): string {
  return (
    `pdu_outlet,device=pdu-rack-${n % 3},outlet=${(n % 8) + 1},site=home ` +
    `current_a=${((n % 1600) / 100).toFixed(2)},power_w=${((n * 7.3) % 3600).toFixed(1)},apparent_va=${((n * 7.9) % 3700).toFixed(1)},` +
    `energy_kwh=${(1234.567 + n / 1000).toFixed(3)},state=1i ${T0_MS + n}`
  );
}

function batchLines(b: number, points: number): string[] {
  const lines: string[] = [];
  for (let n = b * BATCH; n < Math.min(points, (b + 1) * BATCH); n++) lines.push(line(n));
  return lines;
}

function seconds(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

/**
 * CPU seconds from /proc/<pid>/stat: utime+stime of the process, or (`children`) the
 * cutime+cstime of its reaped children (how curl's CPU is seen). Clock ticks are 1/100 s.
 */
function cpuSeconds(pid: number | 'self', children = false): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const [a, b] = children ? [13, 14] : [11, 12];
  return (Number(fields[a]) + Number(fields[b])) / 100;
}

interface Run {
  elapsed: number;
  /** CPU seconds of the sending side (curl, or this process). */
  clientCpu: number;
}

async function runCurl(influx: Influxd, db: string, files: string[], dir: string): Promise<Run> {
  const url = `${influx.url}/write?db=${db}&precision=ms`;
  const config = files.map((f) => `url = "${url}"\ndata-binary = "@${f}"\noutput = "/dev/null"\nwrite-out = "%{http_code}\\n"\n`).join('next\n');
  const configFile = join(dir, `curl-${db}.cfg`);
  writeFileSync(configFile, config);
  const cpu0 = cpuSeconds('self', true);
  const start = process.hrtime.bigint();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('curl', ['-s', '-K', configFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (text += s));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`curl exited with ${code}`))));
  });
  const elapsed = seconds(start);
  const clientCpu = cpuSeconds('self', true) - cpu0;
  const codes = out.trim().split('\n');
  if (codes.length !== files.length || codes.some((c) => c !== '204')) throw new Error(`curl: unexpected answers ${[...new Set(codes)].join(',')}`);
  return { elapsed, clientCpu };
}

function fillOutbox(file: string, points: number): void {
  const outbox = openSqliteOutbox(file, { maxRows: points * 2, maxBytes: Number.MAX_SAFE_INTEGER });
  try {
    for (let b = 0; b * BATCH < points; b++) outbox.append(batchLines(b, points), 'ms');
  } finally {
    outbox.close();
  }
}

async function runOurs(influx: Influxd, db: string, points: number, file: string): Promise<Run> {
  const outbox = openSqliteOutbox(file, { maxRows: points * 2, maxBytes: Number.MAX_SAFE_INTEGER });
  try {
    const flusher = new Flusher({
      outbox,
      writer: new InfluxV1Writer({ url: influx.url, database: db, timeoutMs: 60_000, gzip: false }),
      batchSize: BATCH,
      batchBytes: 64 * 1024 * 1024,
      flushIntervalMs: 1000,
      minRetryDelayMs: 1000,
      maxRetryDelayMs: 60_000,
      clock: systemClock,
      log: silentLogger(),
    });
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    const result = await flusher.drain();
    const elapsed = seconds(start);
    const cpu = process.cpuUsage(cpu0);
    await flusher.stop();
    if (!result.complete || result.delivered !== points) throw new Error(`drain: ${JSON.stringify(result)}`);
    return { elapsed, clientCpu: (cpu.user + cpu.system) / 1e6 };
  } finally {
    outbox.close();
  }
}

/**
 * Pinning (default on 2+ CPUs; BENCH_PIN=0 turns it off): influxd on CPU 0, the sender (this
 * process, or curl) on CPU 1, for both sides alike. Unpinned, the sender's CPU is taken from
 * influxd's on a 2-core machine and the figure measures core sharing, not how close the
 * sender comes to the server's own limit, which is what the comparison with curl is for.
 */
const CPUS = availableParallelism();
const PIN_DEFAULT = process.env.BENCH_PIN !== '0' && CPUS >= 2;

function pin(pid: number, cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid} failed (${r.status ?? r.error?.message})`);
}

/** Pinned (the headline figure) and, for comparison, unpinned on shared cores. */
export async function run(points = Number(process.env.BENCH_POINTS ?? 1_000_000), rounds = Number(process.env.BENCH_ROUNDS ?? 2)): Promise<Record<string, unknown>> {
  const pinned = await runMode(points, rounds, PIN_DEFAULT);
  if (!PIN_DEFAULT) return pinned;
  const shared = await runMode(points, rounds, false);
  const result = { ...pinned, ratio_unpinned: shared.ratio, ours_pps_unpinned: shared.ours_pps, curl_pps_unpinned: shared.curl_pps };
  console.log(JSON.stringify(result));
  return result;
}

async function runMode(points: number, rounds: number, PIN: boolean): Promise<Record<string, number | string | boolean>> {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-drain-'));
  let influx: Influxd | null = null;
  const loadAtStart = loadAverage();
  try {
    console.log(
      `drain: ${points.toLocaleString('en')} points (~${line(points >> 1).length} bytes each) in batches of ${BATCH}, influxd 1.6.7 on loopback, ${rounds} round(s) each, no gzip${PIN ? ', influxd pinned to CPU 0 and the sender to CPU 1' : ', unpinned'}`,
    );
    const files: string[] = [];
    for (let b = 0; b * BATCH < points; b++) {
      const file = join(dir, `batch-${String(b).padStart(5, '0')}.lp`);
      writeFileSync(file, batchLines(b, points).join('\n'));
      files.push(file);
    }
    const outboxes = Array.from({ length: rounds }, (_, r) => join(dir, `outbox-${r}.sqlite`));
    for (const file of outboxes) fillOutbox(file, points);
    spawnSync('sync');
    // Children (curl, influxd) inherit this CPU; influxd is moved to CPU 0 once started.
    if (PIN) pin(process.pid, '1');

    const times = { curl: [] as number[], ours: [] as number[] };
    const cpu = { curl: [] as number[], ours: [] as number[], influxd: { curl: [] as number[], ours: [] as number[] } };
    for (let r = 0; r < rounds; r++) {
      // ABBA order: curl, ours, ours, curl, ...
      const order: ('curl' | 'ours')[] = r % 2 === 0 ? ['curl', 'ours'] : ['ours', 'curl'];
      for (const who of order) {
        influx = await startInfluxd();
        if (PIN) pin(influx.pid, '0');
        const db = `bench_${who}`;
        await createDatabase(influx.url, db);
        const serverCpu0 = cpuSeconds(influx.pid);
        const run = who === 'curl' ? await runCurl(influx, db, files, dir) : await runOurs(influx, db, points, outboxes[r]!);
        const serverCpu = cpuSeconds(influx.pid) - serverCpu0;
        const counted = await count(influx.url, db, 'pdu_outlet', 'power_w');
        await influx.stop();
        influx = null;
        if (counted !== points) throw new Error(`${who}: counted ${counted} of ${points} points`);
        times[who].push(run.elapsed);
        cpu[who].push(run.clientCpu);
        cpu.influxd[who].push(serverCpu);
        const label = who === 'curl' ? 'curl --data-binary (one kept-alive process)' : 'Flusher + InfluxV1Writer (SQLite outbox)';
        console.log(
          `  ${label.padEnd(46)} ${Math.round(points / run.elapsed)
            .toLocaleString('en')
            .padStart(9)} points/s  ` + `(${run.elapsed.toFixed(2)} s; CPU: sender ${run.clientCpu.toFixed(2)} s, influxd ${serverCpu.toFixed(2)} s; counted ${counted.toLocaleString('en')})`,
        );
      }
    }
    const pps = (ts: number[]) => Math.round((points * ts.length) / ts.reduce((a, b) => a + b, 0));
    const ours = pps(times.ours);
    const curl = pps(times.curl);
    const ratio = Math.round((ours / curl) * 100) / 100;
    const perPoint = (xs: number[]) => Math.round((((xs.reduce((a, b) => a + b, 0) / xs.length) * 1e6) / points) * 100) / 100;
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    console.log(`  ours / curl: ${ratio} (target ≥ 0.8)`);
    console.log(`  sender CPU per point: ours ${perPoint(cpu.ours)} µs, curl ${perPoint(cpu.curl)} µs; influxd ${perPoint(cpu.influxd.ours)} / ${perPoint(cpu.influxd.curl)} µs; load average ${load} on ${CPUS} CPUs`);
    printRow(
      [
        `\`drain\`${PIN ? '' : ', same, unpinned (both share the 2 cores)'}${PIN ? `: ${points / 1e6}M points from the outbox into influxd 1.6.7, influxd on CPU 0, sender on CPU 1` : ''}`,
        `${Math.round(ours / 1000)}k points/s`,
        `\`curl --data-binary\` posting the same ${BATCH / 1000}k batches, ${Math.round(curl / 1000)}k/s`,
        `${ratio.toFixed(2)}×`,
        PIN ? `≥ 0.8× ${met(ratio >= 0.8)}` : '',
      ],
      loadAtStart,
    );
    const result = {
      bench: 'drain',
      ours_pps: ours,
      curl_pps: curl,
      ratio,
      baseline: 'curl --data-binary',
      points,
      batch: BATCH,
      rounds,
      ours_cpu_us_per_point: perPoint(cpu.ours),
      curl_cpu_us_per_point: perPoint(cpu.curl),
      load_average: Number(load),
      pinned: PIN,
    };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await influx?.stop();
    if (PIN) pin(process.pid, `0-${CPUS - 1}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
