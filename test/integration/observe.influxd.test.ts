/**
 * The worker seen from outside, with a real influxd: self-metrics written through the outbox
 * like any point (tagged host and site, counters monotonic), GET /metrics and /health on a
 * loopback port, and a device that keeps failing logged once, then summarised, not every tick.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { drivers } from '../../src/devices/index.js';
import { createDatabase, query, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePorts } from '../helpers/ports.js';
import { ROOT } from '../helpers/paths.js';
import { until } from '../helpers/until.js';
import { startWorker, type RunningWorker } from '../helpers/worker-run.js';

let influxd: Influxd;
let dir: string;
let run: RunningWorker | undefined;
let httpPort: number;
let deadPort: number;

before(async () => {
  influxd = await startInfluxd();
  await createDatabase(influxd.url, 'self');
  dir = mkdtempSync(join(tmpdir(), 'wattline-observe-'));
  [httpPort, deadPort] = (await freePorts(2)) as [number, number];
});
after(async () => {
  await run?.stop();
  await influxd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Every value of `field` of `measurement` for the series whose tag `tag` is `value`, in time order. */
async function values(measurement: string, field: string, where = ''): Promise<unknown[]> {
  const series = await query(influxd.url, 'self', `SELECT "${field}" FROM "${measurement}" WHERE host = 'rig-a' AND site = 'lab'${where} ORDER BY time`);
  return (series[0]?.values ?? []).map((v) => v[1]);
}

test('self-metrics reach InfluxDB through the outbox; /metrics and /health answer; a failing device is logged once, then summarised', async () => {
  run = await startWorker(
    {
      site: 'lab',
      host: 'rig-a',
      log: { reminderS: 2 },
      outbox: { path: 'outbox.sqlite', synchronous: 'normal' },
      influx: { version: 1, url: influxd.url, database: 'self', flushIntervalMs: 200 },
      internal: { schedule: '* * * * * *' },
      http: { listen: `127.0.0.1:${httpPort}` },
      devices: [
        { name: 'meter', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' },
        // Nothing listens on deadPort: every collection fails the same way.
        { name: 'ups', driver: 'nut-ups', schedule: '* * * * * *', timeoutMs: 800, options: { ups: 'dummy', host: '127.0.0.1', port: deadPort } },
      ],
    },
    drivers,
    dir,
  );
  await until('four self-metric rounds in InfluxDB', async () => (await values('wattline_process', 'uptime_s')).length >= 4);
  await until('the ups reminder', () => run!.logged(/^ups still failing/).length >= 1);

  const okCounts = (await values('wattline_device', 'collections_ok', " AND device = 'meter'")) as number[];
  assert.ok(okCounts.length >= 4 && okCounts.at(-1)! > 0);
  for (let i = 1; i < okCounts.length; i++) assert.ok(okCounts[i]! >= okCounts[i - 1]!, `monotonic: ${okCounts}`);
  const failed = (await values('wattline_device', 'collections_failed', " AND device = 'ups'")) as number[];
  assert.ok(failed.at(-1)! >= 2);
  const transport = (await values('wattline_device', 'errors_transport', " AND device = 'ups'")) as number[];
  assert.equal(transport.at(-1), failed.at(-1), 'a refused TCP connection is a transport error');
  assert.equal((await values('wattline_device', 'failing', " AND device = 'ups'")).at(-1), 1);
  assert.ok(((await values('wattline_outbox', 'pending_rows')) as number[]).every((n) => Number.isInteger(n) && n >= 0));
  assert.ok((await values('wattline_output', 'state', " AND output = 'influx'")).every((s) => s === 'delivering' || s === 'idle'));
  assert.ok(((await values('wattline_output', 'written', " AND output = 'influx'")) as number[]).at(-1)! > 0);
  assert.deepEqual([...new Set(await values('wattline_process', 'version'))], [version]);
  const started = await values('wattline_process', 'started');
  assert.equal(new Set(started).size, 1, 'one process, one start time');

  // The ups failed every second, yet was logged once, then summarised with its count.
  assert.equal(run.logs.filter((l) => l.device === 'ups' && l.msg === 'collection failed').length, 1);
  const reminder = run.logged(/^ups still failing/)[0]!;
  assert.ok((reminder.failures as number) >= 2);

  // GET /metrics: Prometheus text with HELP and TYPE, counters _total.
  const metrics = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const text = await metrics.text();
  assert.match(text, /^# HELP wattline_device_collections_total /m);
  assert.match(text, /^# TYPE wattline_device_collections_total counter$/m);
  assert.match(text, /^wattline_device_collections_total\{device="meter",driver="dsmr-p1",result="ok"\} [1-9]\d*$/m);
  assert.match(text, /^wattline_device_errors_total\{device="ups",driver="nut-ups",class="transport"\} [1-9]\d*$/m);
  assert.match(text, /^# TYPE wattline_outbox_pending_rows gauge$/m);
  assert.match(text, /^wattline_output_state\{output="influx",state="backing_off"\} 0$/m);
  assert.match(text, new RegExp(`^wattline_build_info\\{version="${version.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
  assert.doesNotMatch(text, /password|token/i);

  // /health: one device of two fails, nothing refused, nothing old pending: healthy.
  const health = await fetch(`http://127.0.0.1:${httpPort}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { healthy: true, failed: [] });
  // Only GET.
  const post = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET');
  assert.equal((await fetch(`http://127.0.0.1:${httpPort}/nothing`)).status, 404);

  // The same port for a second worker: a config error naming the setting, before anything runs.
  const second = mkdtempSync(join(tmpdir(), 'wattline-observe-2-'));
  try {
    await assert.rejects(
      startWorker({ outbox: { path: 'o.sqlite' }, http: { listen: `127.0.0.1:${httpPort}` }, devices: [] }, drivers, second),
      (err: unknown) => err instanceof ConfigError && /^http\.listen 127\.0\.0\.1:\d+: address already in use/.test(err.message),
    );
  } finally {
    rmSync(second, { recursive: true, force: true });
  }
});
