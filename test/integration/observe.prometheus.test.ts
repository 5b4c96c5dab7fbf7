/**
 * `wattline run` with `http.listen` on a loopback port, scraped by a real Prometheus: a PromQL
 * query for the outbox depth gives the number `wattline status --json` reports from the
 * running worker (and the outbox file holds). Without the worker, `status` says so (exit 1)
 * and shows what the outbox file knows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openSqliteOutbox } from '../../src/outbox/sqlite-outbox.js';
import { runCli, startCli } from '../helpers/cli.js';
import { freePorts } from '../helpers/ports.js';
import { until } from '../helpers/until.js';
import { promQuery, startPrometheus, type Prometheus } from '../helpers/prometheus.js';

let dir: string;
let prometheus: Prometheus | undefined;
let worker: ReturnType<typeof startCli> | undefined;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-prom-'));
});
after(async () => {
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }
  await prometheus?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('Prometheus scrapes /metrics: its outbox depth equals `wattline status --json`; without the worker status says so', async () => {
  const [port, deadPort] = (await freePorts(2)) as [number, number];
  const config = join(dir, 'wattline.yaml');
  // JSON is YAML. No self-metrics, no InfluxDB answering: the outbox depth stays what we put there.
  writeFileSync(
    config,
    JSON.stringify({
      outbox: { path: 'outbox.sqlite' },
      internal: { enabled: false },
      // Nobody listens there: nothing is delivered, and status and buffer must say why.
      influx: { version: 1, url: `http://127.0.0.1:${deadPort}`, database: 'none', minRetryDelayMs: 60_000 },
      http: { listen: `127.0.0.1:${port}` },
      devices: [{ name: 'meter', driver: 'dsmr-p1', simulate: true, schedule: '0 0 0 1 1 *' }],
    }),
  );
  const outbox = openSqliteOutbox(join(dir, 'outbox.sqlite'), { maxRows: 1000, maxBytes: 1e6 });
  outbox.append(
    Array.from({ length: 37 }, (_, i) => `m v=${i} ${1_700_000_000_000 + i}`),
    'ms',
  );
  outbox.close();

  worker = startCli(['-c', config, '--log-format', 'json', 'run']);
  await until('the worker listening', async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/health`)).status === 200 ? true : undefined;
    } catch {
      return undefined;
    }
  });
  prometheus = await startPrometheus([`127.0.0.1:${port}`]);
  const depth = await until('a scrape', async () => (await promQuery(prometheus!.url, 'wattline_outbox_pending_rows{job="wattline"}'))[0]?.value);
  const up = await promQuery(prometheus.url, 'up{job="wattline"}');
  assert.equal(up[0]?.value, 1);

  const status = await runCli(['-c', config, 'status', '--json']);
  assert.equal(status.code, 0, status.stderr);
  const json = JSON.parse(status.stdout) as { running: boolean; outbox: { pendingRows: number }; devices: { name: string }[]; version: string; configFile: string };
  assert.equal(json.running, true);
  assert.equal(json.outbox.pendingRows, 37);
  assert.equal(depth, json.outbox.pendingRows, 'Prometheus and status tell the same depth');
  assert.deepEqual(
    json.devices.map((d) => d.name),
    ['meter'],
  );
  assert.equal(json.configFile, config);

  const text = await runCli(['-c', config, 'status']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^worker: {3}running \(pid \d+\), up \d+s, version \d+\.\d+\.\d+/m);
  assert.match(text.stdout, /^outbox: {3}37 points pending \(\d+ bytes, oldest \S+ old\), 0 dropped, 0 dead letters$/m);
  assert.match(text.stdout, /^ {2}meter \(dsmr-p1\): not collected yet, next in /m);
  const influxLine = new RegExp(
    `^influx: {3}backing_off, 0/s over the last minute, next try in \\S+, last error \\d+s ago: .*ECONNREFUSED 127\\.0\\.0\\.1:${deadPort}.*  \\(influx v1 http://127\\.0\\.0\\.1:${deadPort} db=none gzip\\)$`,
    'm',
  );
  assert.match(text.stdout, influxLine);
  const buffer = await runCli(['-c', config, 'buffer']);
  assert.equal(buffer.code, 0, buffer.stderr);
  assert.match(buffer.stdout, /^pending: {6}37 points/m);
  assert.match(buffer.stdout, influxLine, 'buffer says why nothing leaves');

  // config check: the port held by this wattline is fine; held by another program, exit 2 in one line.
  const check = await runCli(['-c', config, 'config', 'check']);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, new RegExp(`^http: GET /metrics and /health on 127\\.0\\.0\\.1:${port} \\(a running wattline listens there now\\)$`, 'm'));
  const other = createServer();
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  try {
    const busy = join(dir, 'busy.yaml');
    writeFileSync(busy, JSON.stringify({ outbox: { path: 'busy.sqlite' }, http: { listen: `127.0.0.1:${(other.address() as AddressInfo).port}` } }));
    const refused = await runCli(['-c', busy, 'config', 'check']);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr, `wattline: http.listen 127.0.0.1:${(other.address() as AddressInfo).port}: address already in use (another program listens there)\n`);
    const run = await runCli(['-c', busy, 'run']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^wattline: http\.listen 127\.0\.0\.1:\d+: address already in use/m);
  } finally {
    other.close();
  }

  worker.child.kill('SIGTERM');
  assert.equal(await worker.exited, 0, worker.output().stderr);
  const stopped = await runCli(['-c', config, 'status']);
  assert.equal(stopped.code, 1);
  assert.match(stopped.stdout, /^worker: {3}not running \(nobody answers on .+outbox\.sqlite\.sock\)$/m);
  assert.match(stopped.stdout, /^outbox: {3}37 points pending/m);
});
