/**
 * VSCP events of a live worker: the simulated P1 meter (`simulate: true`, the project's own
 * simulator playing a recorded DSMR 5 telegram) through the real dsmr-p1 driver, the MQTT output
 * and a real Mosquitto to a real subscriber on `vscp/#`: one event per VSCP reading per telegram,
 * each read back by node-vscp (an independent decoder) to the telegram's own value.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drivers } from '../../src/devices/index.js';
import { count, createDatabase, startInfluxd } from '../helpers/influxd.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { subscribe, type Subscriber } from '../helpers/mqtt-subscriber.js';
import { startWorker, type RunningWorker } from '../helpers/worker-run.js';

const require = createRequire(import.meta.url);
const vscp = require('node-vscp') as {
  Event: new (o: unknown) => { vscpType: number; vscpGuid: string };
  getMeasurementData(e: unknown): { unit: number; sensorindex: number; zone: number; subzone: number; value: number };
  getNodeId(guid: string): number;
};

/**
 * The readings VSCP publishes: OBIS → [type, scale from the meter's unit, unit byte, node id]
 * (docs/protocols/vscp.md §8 for type, unit and scale; §2.2 for the ids).
 */
const FIXED: Record<string, [number, number, number, number]> = {
  '1-0:1.7.0': [14, 1000, 0, 5],
  '1-0:2.7.0': [14, 1000, 0, 6],
  '1-0:21.7.0': [14, 1000, 0, 9],
  '1-0:41.7.0': [14, 1000, 0, 11],
  '1-0:61.7.0': [14, 1000, 0, 13],
  '1-0:22.7.0': [14, 1000, 0, 10],
  '1-0:42.7.0': [14, 1000, 0, 12],
  '1-0:62.7.0': [14, 1000, 0, 14],
  '1-0:32.7.0': [16, 1, 0, 21],
  '1-0:52.7.0': [16, 1, 0, 22],
  '1-0:72.7.0': [16, 1, 0, 23],
  '1-0:31.7.0': [5, 1, 0, 24],
  '1-0:51.7.0': [5, 1, 0, 25],
  '1-0:71.7.0': [5, 1, 0, 26],
  '1-0:1.8.0': [13, 1, 1, 1],
  '1-0:2.8.0': [13, 1, 1, 2],
};

let broker: Mosquitto;
let dir: string;
let run: RunningWorker;
let sub: Subscriber;

before(async () => {
  broker = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'wattline-vscp-'));
  sub = await subscribe(broker.url, ['vscp/#']);
  run = await startWorker(
    {
      outbox: { path: 'outbox.sqlite', synchronous: 'normal' },
      mqtt: { url: broker.url, clientId: 'wattline-vscp-test', batchWindowMs: 200, discovery: { enabled: false }, vscp: { guid: 'FF:FF:FF:FF:FF:FF:FF:FE:02:00:00:00:00:01:00:00', zone: 7, subzone: 9 } },
      devices: [{ name: 'meter', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' }],
    },
    drivers,
    dir,
  );
  // A few telegrams' worth.
  await sub.waitFor(() => run.reports.filter((r) => r.raw?.length).length >= 4, 'four collections with telegrams', { timeoutMs: 20_000 });
  await sub.waitFor((m) => m.topic.startsWith('vscp/'), 'a VSCP event', { timeoutMs: 20_000 });
});
after(async () => {
  await run?.stop();
  await sub?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What one telegram holds of the VSCP readings, read here with a plain regex (not the encoder). */
function expected(telegram: string): { obis: string; value: number }[] {
  const out: { obis: string; value: number }[] = [];
  for (const m of telegram.matchAll(/^(1-0:\d+\.\d+\.\d+)\(([\d.]+)\*[^)]*\)\r?$/gm)) {
    const f = FIXED[m[1]!];
    if (f) out.push({ obis: m[1]!, value: Number(m[2]) * f[1] });
  }
  return out;
}

test("simulated P1 meter: every telegram becomes one VSCP event per reading it carries, in order, and node-vscp reads each back to the telegram's value", () => {
  const telegrams = run.reports.flatMap((r) => r.raw ?? []);
  assert.ok(telegrams.length >= 4);
  for (const t of telegrams) assert.ok(expected(t.text).length >= 10, 'the DSMR 5 telegram carries power, voltage and current per phase');
  // Events leave in telegram order, so what arrived is the start of what the telegrams hold (the
  // newest may still wait in the batch window); no reading is skipped or sent twice.
  const want = telegrams.flatMap((t) => expected(t.text).map((w) => ({ ...w, second: Math.floor(t.timeMs / 1000) * 1000 })));
  const got = sub.messages.filter((m) => m.topic.startsWith('vscp/'));
  assert.ok(got.length >= 30 && got.length <= want.length, `${got.length} events for ${want.length} readings`);
  got.forEach((m, i) => {
    const w = want[i]!;
    const payload = JSON.parse(m.payload) as { vscpDateTime: string };
    const ev = new vscp.Event(payload);
    const data = vscp.getMeasurementData(ev);
    assert.equal(ev.vscpType, FIXED[w.obis]![0], w.obis);
    assert.match(m.topic, new RegExp(`^vscp/FF:FF:FF:FF:FF:FF:FF:FE:02:00:00:00:00:01:[0-9A-F]{2}:[0-9A-F]{2}/1040/${FIXED[w.obis]![0]}$`));
    assert.ok(Math.abs(data.value - w.value) < 1e-9 * Math.max(1, w.value), `${w.obis}: ${data.value} vs ${w.value}`);
    assert.equal(data.zone, 7);
    assert.equal(data.subzone, 9);
    assert.equal(data.unit, FIXED[w.obis]![2], `${w.obis} unit`);
    assert.equal(data.sensorindex, 0, "the original code's default sensor index");
    assert.equal(Date.parse(payload.vscpDateTime), w.second, 'the time the telegram was read');
    assert.equal(vscp.getNodeId(ev.vscpGuid), FIXED[w.obis]![3], `${w.obis} node id`);
    assert.equal(m.retain, false);
  });
});

test('the broker killed mid-run and started again: every P1 point still reaches a real influxd, and VSCP events flow again', async () => {
  const influxd = await startInfluxd();
  const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  let second: RunningWorker | undefined;
  try {
    await createDatabase(influxd.url, 'wl');
    second = await startWorker(
      {
        outbox: { path: 'kill.sqlite', synchronous: 'normal' },
        influx: { version: 1, url: influxd.url, database: 'wl', flushIntervalMs: 200 },
        mqtt: {
          url: broker.url,
          clientId: 'wattline-vscp-kill',
          batchWindowMs: 200,
          reconnectMinMs: 200,
          reconnectMaxMs: 1000,
          discovery: { enabled: false },
          vscp: { guid: 'FF:FF:FF:FF:FF:FF:FF:FE:02:00:00:00:00:02:00:00' },
        },
        devices: [{ name: 'meter2', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' }],
      },
      drivers,
      dir,
    );
    const w = second;
    const p1Points = () => w.reports.reduce((n, r) => n + r.points.filter((p) => p.measurement === 'p1').length, 0);
    await sub.waitFor((m) => m.topic.startsWith('vscp/FF:FF:FF:FF:FF:FF:FF:FE:02:00:00:00:00:02:'), 'a VSCP event of the second worker');
    await broker.stopHard();
    await until('the worker to see the broker gone', () => !w.worker.mqtt!.connected);
    const before = p1Points();
    await until('three more collections without a broker', () => p1Points() >= before + 3);
    await broker.restart();
    const sub2 = await subscribe(broker.url, ['vscp/#']);
    try {
      await sub2.waitFor((m) => m.topic.startsWith('vscp/FF:FF:FF:FF:FF:FF:FF:FE:02:00:00:00:00:02:'), 'VSCP events after the restart');
    } finally {
      await sub2.close();
    }
    const wanted = p1Points();
    // Every P1 point collected, before, during and after the outage, reaches influxd.
    await until(`influxd to hold ${wanted} p1 points`, async () => (await count(influxd.url, 'wl', 'p1', 'voltage_l1_v')) >= wanted);
  } finally {
    await second?.stop();
    await influxd.stop();
  }
});
