/**
 * Issue 22's promise: MQTT discovery configs and state messages stay byte-identical when
 * field metadata moves into the drivers. `points.json` holds one collection of every demo
 * device (recorded from the simulators); the real MqttOutput turns it into messages on a real
 * Mosquitto (discovery on, commands on, PowerWalker compatibility on) and every message —
 * topic, retain flag, exact payload — must equal `messages.json`.
 * Record both again (only when a change of the payloads is intended): WATTLINE_RECORD_SNAPSHOT=1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { mqttSchema } from '../../src/config/mqtt.js';
import { int, uint, IntField, UintField, type FieldValue, type Point } from '../../src/core/point.js';
import { findDriver } from '../../src/devices/index.js';
import { MqttOutput } from '../../src/mqtt/output.js';
import { collectDemoPoints, type DemoReport } from '../helpers/demo-points.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { ROOT } from '../helpers/paths.js';
import { subscribe } from '../helpers/mqtt-subscriber.js';

const FIXTURES = join(ROOT, 'test/fixtures/mqtt-snapshot');
const RECORD = process.env.WATTLINE_RECORD_SNAPSHOT === '1';

type Stored = { device: string; driver: string; options: unknown; points: { measurement: string; tags: Record<string, string>; fields: Record<string, [string, unknown]>; time: string }[] };

function store(r: DemoReport): Stored {
  const enc = (v: FieldValue): [string, unknown] =>
    v instanceof IntField ? ['i', String(v.value)] : v instanceof UintField ? ['u', String(v.value)] : [typeof v, typeof v === 'number' && !Number.isFinite(v) ? String(v) : v];
  return { ...r, points: r.points.map((p) => ({ measurement: p.measurement, tags: p.tags, fields: Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [k, enc(v)])), time: String(p.time) })) };
}

function load(s: Stored): DemoReport {
  const dec = ([t, v]: [string, unknown]): FieldValue => (t === 'i' ? int(BigInt(v as string)) : t === 'u' ? uint(BigInt(v as string)) : t === 'number' && typeof v === 'string' ? Number(v) : (v as FieldValue));
  return { ...s, points: s.points.map((p): Point => ({ measurement: p.measurement, tags: p.tags, fields: Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [k, dec(v)])), time: BigInt(p.time) })) };
}

let broker: Mosquitto;
let dir: string;
before(async () => {
  broker = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'wl-mqtt-snapshot-'));
});
after(async () => {
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('MQTT snapshot: discovery and state messages of every demo device are byte-identical to the recorded ones', async () => {
  if (RECORD) writeFileSync(join(FIXTURES, 'points.json'), JSON.stringify((await collectDemoPoints(dir)).map(store), null, 1) + '\n');
  const reports = (JSON.parse(readFileSync(join(FIXTURES, 'points.json'), 'utf8')) as Stored[]).map(load);
  const expected = RECORD ? [] : (JSON.parse(readFileSync(join(FIXTURES, 'messages.json'), 'utf8')) as [string, boolean, string][]);

  const sub = await subscribe(broker.url, ['#', '$CONNECTED/#']);
  const config = mqttSchema.parse({ url: broker.url, clientId: 'wattline-snapshot', batchWindowMs: 100, compatibility: { mode: 'powerwalker' } });
  const output = new MqttOutput({
    config,
    devices: reports.map((r) => ({ name: r.device, driver: findDriver(r.driver)!, options: r.options, sharedTags: ['site'] })),
    control: () => Promise.reject(new Error('no commands in this test')),
    log: pino({ level: 'silent' }),
    defaultClientId: 'wattline-snapshot',
    announcedPath: null,
    resolvePath: (p) => p,
  });
  try {
    await output.start();
    await sub.waitFor((m) => m.topic === 'wattline/status' && m.payload === 'online', 'online');
    for (const r of reports) output.publishReport({ device: r.device, points: r.points });
    // Until the recorded number of messages came (or, recording, until 3 s pass without one), then a moment for extras.
    const quiet = async (ms: number) => {
      for (let n = -1; n !== sub.messages.length;) {
        n = sub.messages.length;
        await new Promise((r) => setTimeout(r, ms));
      }
    };
    if (RECORD) await quiet(3000);
    else await sub.waitFor(() => sub.messages.length >= expected.length, `${expected.length} messages`, { timeoutMs: 30_000 }).catch(() => undefined);
    await quiet(1000);
  } finally {
    await output.stop();
    await sub.close();
  }
  // Order differs between QoS levels; the set of (topic, retain, payload) must not.
  const got = sub.messages
    .filter((m) => !(m.topic === 'wattline/status' && m.payload === 'offline') && !m.topic.startsWith('$CONNECTED/'))
    .map((m): [string, boolean, string] => [m.topic, m.retain, m.payload])
    .sort((a, b) => (a.join('\u0000') < b.join('\u0000') ? -1 : 1));
  if (RECORD) writeFileSync(join(FIXTURES, 'messages.json'), '[\n' + got.map((m) => JSON.stringify(m)).join(',\n') + '\n]\n');
  assert.ok(got.length > 100, `only ${got.length} messages`);
  for (const r of reports)
    assert.ok(
      got.some(([t]) => t.startsWith(`wattline/${r.device}/`)),
      `${r.device}: no state message`,
    );
  assert.ok(got.some(([t]) => t.startsWith('homeassistant/switch/')) && got.some(([t]) => t.startsWith('homeassistant/number/')), 'switch and number entities');
  if (!RECORD) assert.deepEqual(got, expected);
});
