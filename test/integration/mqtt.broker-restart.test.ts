/**
 * MQTT is best effort beside InfluxDB: a real Mosquitto killed in the middle of a run and
 * started again (empty: no persistence) while simulated devices are polled every second and
 * a real influxd receives every point. Collection and delivery must not notice; MQTT
 * reconnects with backoff and publishes availability, discovery and state again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { msToNs, type Point } from '../../src/core/point.js';
import { drivers } from '../../src/devices/index.js';
import { demoDevices } from '../../src/simulators/index.js';
import { count, createDatabase, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { subscribe } from '../helpers/mqtt-subscriber.js';
import { freePort } from '../helpers/ports.js';
import { startWorker, type RunningWorker } from '../helpers/worker-run.js';

let broker: Mosquitto;
let influxd: Influxd;
let dir: string;

before(async () => {
  [broker, influxd] = await Promise.all([startMosquitto(), startInfluxd()]);
  await createDatabase(influxd.url, 'wl');
  dir = mkdtempSync(join(tmpdir(), 'wattline-mqtt-restart-'));
});
after(async () => {
  await Promise.all([broker?.stop(), influxd?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The broker stopped (SIGSTOP: its sockets stay open, nothing is read) while `body` runs, and resumed after it, whatever happens. */
async function whileFrozen<T>(body: () => Promise<T>): Promise<T> {
  process.kill(broker.pid, 'SIGSTOP');
  try {
    return await body();
  } finally {
    process.kill(broker.pid, 'SIGCONT');
  }
}

/** Collections that failed or were skipped, as `device: outcome` lines. */
function failuresOf(run: RunningWorker): string[] {
  const failures: string[] = [];
  run.worker.scheduler.on('jobEnd', (r) => !r.ok && failures.push(`${r.name}: ${r.outcome}`));
  run.worker.scheduler.on('jobSkipped', (r) => failures.push(`${r.name}: skipped`));
  return failures;
}

test('broker killed mid-run and restarted: collection and influxd delivery go on, MQTT reconnects and republishes', async () => {
  const run = await startWorker(
    {
      outbox: { path: 'outbox.sqlite', synchronous: 'normal' },
      influx: { version: 1, url: influxd.url, database: 'wl', flushIntervalMs: 200 },
      mqtt: { url: broker.url, clientId: 'wattline-restart-test', reconnectMinMs: 200, reconnectMaxMs: 1000 },
      devices: [
        { name: 'meter', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' },
        { name: 'ups', driver: 'nut-ups', simulate: true, schedule: '* * * * * *', options: demoDevices().find((d) => d.driver === 'nut-ups')!.options },
      ],
    },
    drivers,
    dir,
  );
  const jobs: { name: string; ok: boolean; outcome: string }[] = [];
  run.worker.scheduler.on('jobEnd', (r) => jobs.push({ name: r.name, ok: r.ok, outcome: String(r.outcome) }));
  run.worker.scheduler.on('jobSkipped', (r) => jobs.push({ name: r.name, ok: false, outcome: 'skipped' }));
  const upsPoints = () => run.reports.filter((r) => r.device === 'ups').reduce((n, r) => n + r.points.length, 0);
  try {
    const sub = await subscribe(broker.url, ['homeassistant/#', 'wattline/#']);
    await sub.waitFor((m) => m.topic === 'wattline/ups/ups', 'a UPS state before the outage');
    await sub.close();

    await broker.stopHard();
    const outageStart = Date.now();
    const collectedBefore = run.reports.length;
    await until('the worker to see the broker gone', () => !run.worker.mqtt!.connected);
    await sleep(3500);
    const collectedDuring = run.reports.length - collectedBefore;
    // Two devices every second for 3.5 s: at least 5 collections, none failed or skipped.
    assert.ok(collectedDuring >= 5, `collections during the outage: ${collectedDuring}`);
    assert.deepEqual(
      jobs.filter((j) => !j.ok),
      [],
      'no job failed or was skipped during the outage',
    );
    // Everything collected so far reached influxd (the flusher never waits for MQTT).
    const wanted = upsPoints();
    await until(`influxd to hold ${wanted} ups points`, async () => (await count(influxd.url, 'wl', 'ups', 'battery_charge_pct')) >= wanted, 5000);
    assert.equal(run.worker.mqtt!.connected, false);

    await broker.restart();
    const back = Date.now();
    const sub2 = await subscribe(broker.url, ['homeassistant/#', 'wattline/#']);
    try {
      // The restarted broker is empty; what arrives was published again by the worker.
      assert.equal((await sub2.waitFor((m) => m.topic === 'wattline/status', 'availability after the restart')).payload, 'online');
      const c = JSON.parse((await sub2.waitFor((m) => m.topic === 'homeassistant/sensor/wattline/wattline_ups_ups_battery_charge_pct/config', 'discovery after the restart')).payload);
      assert.equal(c.unit_of_measurement, '%');
      await sub2.waitFor((m) => m.topic === 'wattline/meter/p1', 'P1 state after the restart');
      assert.ok(run.worker.mqtt!.stats().connects >= 2, 'reconnected');
      assert.ok(back - outageStart > 3000);
      const wanted2 = upsPoints();
      await until(`influxd to hold ${wanted2} ups points`, async () => (await count(influxd.url, 'wl', 'ups', 'battery_charge_pct')) >= wanted2, 5000);
      assert.deepEqual(
        jobs.filter((j) => !j.ok),
        [],
        'no job failed or was skipped in the whole run',
      );
    } finally {
      await sub2.close();
    }
  } finally {
    await run.stop();
  }
});

test('broker frozen (SIGSTOP) with QoS 1: collection and influxd delivery go on, messages wait bounded, then flow again', async () => {
  const run = await startWorker(
    {
      outbox: { path: 'frozen.sqlite', synchronous: 'normal' },
      influx: { version: 1, url: influxd.url, database: 'wl', flushIntervalMs: 200 },
      mqtt: { url: broker.url, clientId: 'wattline-frozen-test', topicPrefix: 'frozen', qos: 1, queueSize: 50 },
      devices: [
        { name: 'meter2', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' },
        { name: 'ups2', driver: 'nut-ups', simulate: true, schedule: '* * * * * *', options: demoDevices().find((d) => d.driver === 'nut-ups')!.options },
      ],
    },
    drivers,
    dir,
  );
  const failures = failuresOf(run);
  try {
    await until('the first MQTT publishes', () => run.worker.mqtt!.stats().published > 10);
    const publishedAtResume = await whileFrozen(async () => {
      const before = run.reports.length;
      const upsBefore = await count(influxd.url, 'wl', 'ups', 'battery_charge_pct');
      await sleep(3500);
      assert.ok(run.reports.length - before >= 5, `collections while the broker was frozen: ${run.reports.length - before}`);
      assert.ok((await count(influxd.url, 'wl', 'ups', 'battery_charge_pct')) > upsBefore, 'influxd kept receiving');
      const s = run.worker.mqtt!.stats();
      assert.ok(s.queued <= 50, `queue bounded: ${s.queued}`);
      assert.ok(s.inflight > 0, 'QoS 1 messages wait for the frozen broker PUBACK, collection does not');
      return s.published;
    });
    await until('publishing to resume', () => run.worker.mqtt!.stats().published > publishedAtResume + 20);
    assert.deepEqual(failures, []);
  } finally {
    await run.stop();
  }
});

test('broker frozen (SIGSTOP) with QoS 0: once the socket is full, writing waits for drain; the queue stays bounded; all flows again', async () => {
  const run = await startWorker(
    {
      outbox: { path: 'frozen0.sqlite', synchronous: 'normal' },
      mqtt: { url: broker.url, clientId: 'wattline-frozen0-test', topicPrefix: 'frozen0', qos: 0, queueSize: 50, discovery: { enabled: false } },
      devices: [{ name: 'meter3', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' }],
    },
    drivers,
    dir,
  );
  const failures = failuresOf(run);
  // 60 kB state messages, each its own series: ~24 MB is more than loopback's socket buffers hold.
  // Discovery is off: its QoS 1 configs would fill the in-flight window first (the QoS 1 test's case).
  const big = (i: number): Point => ({ measurement: 'bulk', tags: { device: 'meter3', outlet: String(i) }, fields: { text: 'x'.repeat(60_000) }, time: msToNs(Date.now()) });
  try {
    await until('the first MQTT publishes', () => run.worker.mqtt!.stats().published > 5);
    const published = await whileFrozen(async () => {
      for (let i = 0; i < 400; i++) {
        run.worker.mqtt!.publishReport({ device: 'meter3', points: [big(i)] });
        if (i % 20 === 0) await sleep(10);
      }
      await until('the socket to fill', () => run.worker.mqtt!.stats().waitingForDrain === 1, 10_000);
      const before = run.reports.length;
      const atFull = run.worker.mqtt!.stats().published;
      await sleep(2500);
      const s = run.worker.mqtt!.stats();
      assert.ok(run.reports.length - before >= 2, `collections while the socket was full: ${run.reports.length - before}`);
      assert.equal(s.published, atFull, 'nothing more written while waiting for drain');
      assert.ok(s.queued <= 50, `queue bounded: ${s.queued}`);
      return atFull;
    });
    await until('the socket to drain and publishing to resume', () => run.worker.mqtt!.stats().waitingForDrain === 0 && run.worker.mqtt!.stats().published > published + 10, 20_000);
    assert.deepEqual(failures, []);
  } finally {
    await run.stop();
  }
});

test('no broker at all (nothing listens on the port): collection goes on, stop is prompt', async () => {
  const port = await freePort(); // bound and released: nothing listens there
  const run = await startWorker(
    {
      outbox: { path: 'nobroker.sqlite', synchronous: 'normal' },
      mqtt: { url: `mqtt://127.0.0.1:${port}`, clientId: 'wattline-nobroker-test', reconnectMinMs: 100, reconnectMaxMs: 400 },
      devices: [{ name: 'meter3', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' }],
    },
    drivers,
    dir,
  );
  const failures = failuresOf(run);
  try {
    await sleep(2500);
    assert.ok(run.reports.length >= 2, `collections without a broker: ${run.reports.length}`);
    assert.deepEqual(failures, []);
    assert.equal(run.worker.mqtt!.connected, false);
    assert.equal(run.logged(/mqtt client error/).length, 1, 'the refused connection is logged once, not at every retry');
  } finally {
    const t = Date.now();
    await run.stop();
    assert.ok(Date.now() - t < 3000, `stop took ${Date.now() - t} ms`);
  }
});
