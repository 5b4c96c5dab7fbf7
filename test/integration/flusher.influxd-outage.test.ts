/**
 * A real influxd killed while devices are polled, then started again after the flusher's
 * back-off has been set far longer than the outage: the flusher says once that InfluxDB is
 * unreachable, probes /ping while it waits, and resumes delivery as soon as influxd answers
 * (the ORDER of events and the probe's use are asserted, not a wall-clock bound; the issue's
 * 90 s outage against a 60 s back-off cap shows the same as this shorter one against 10 min).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drivers } from '../../src/devices/index.js';
import { count, createDatabase, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { until } from '../helpers/until.js';
import { startWorker, type RunningWorker } from '../helpers/worker-run.js';

let influxd: Influxd;
let dir: string;
let run: RunningWorker | undefined;

before(async () => {
  influxd = await startInfluxd();
  await createDatabase(influxd.url, 'outage');
  dir = mkdtempSync(join(tmpdir(), 'wattline-outage-'));
});
after(async () => {
  await run?.stop();
  await influxd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('influxd down and back: one "unreachable" line, /ping probes, delivery resumes on the probe, not after the 10 min back-off', async () => {
  run = await startWorker(
    {
      outbox: { path: 'outbox.sqlite', synchronous: 'normal' },
      // A back-off of 10 minutes: only the probe can bring delivery back within this test.
      influx: { version: 1, url: influxd.url, database: 'outage', flushIntervalMs: 200, minRetryDelayMs: 600_000, maxRetryDelayMs: 600_000, timeoutMs: 2000 },
      internal: { enabled: false },
      devices: [{ name: 'meter', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' }],
    },
    drivers,
    dir,
  );
  const flusher = run.worker.flusher!;
  await until('first delivery', () => flusher.status().delivered > 0);

  await influxd.stopHard();
  await until('the flusher to notice', () => flusher.status().state === 'backing_off');
  await until('a few probes while down', () => flusher.status().probes >= 2);
  await influxd.restart();
  await until('delivery again', () => run!.logged(/^delivering again after/).length > 0);
  await until('the backlog delivered', () => run!.worker.outbox!.stats().rows <= 2);

  const status = flusher.status();
  assert.equal(status.probeHits, 1, 'the wait ended on a probe');
  assert.equal(status.retries, 1, 'one failed batch: no write was retried before the probe said yes');
  assert.equal(status.state === 'delivering' || status.state === 'idle', true);
  // In order, each once: unreachable, /ping answers, delivering again.
  const story = run.logs.map((l) => String(l.msg)).filter((m) => /unreachable|answers \/ping|delivering again|still failing/.test(m));
  assert.equal(story.length, 3, story.join('\n'));
  assert.match(story[0]!, /^InfluxDB unreachable \(.+\): keeping \d+ points, next try in 600s$/);
  assert.equal(story[1], 'InfluxDB answers /ping again: sending now');
  assert.match(story[2]!, /^delivering again after \d+s, \d+ points pending$/);

  // Every point collected reached InfluxDB: stop collecting, let the outbox run dry, count.
  await run.worker.scheduler.stop();
  await until('the outbox empty', () => run!.worker.outbox!.stats().rows === 0);
  const collected = run.reports.reduce((n, r) => n + r.lines.filter((l) => l.startsWith('p1,') && l.includes('power_import_w=')).length, 0);
  assert.ok(collected > 5);
  assert.equal(await count(influxd.url, 'outage', 'p1', 'power_import_w'), collected);
});
