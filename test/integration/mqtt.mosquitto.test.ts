/**
 * MQTT output against a real Mosquitto: the built-in simulated P1 meter, HDHK bus and UPS
 * polled every second; a real MQTT.js subscriber reads what Home Assistant would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drivers } from '../../src/devices/index.js';
import { demoDevices } from '../../src/simulators/index.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { subscribe, type Received } from '../helpers/mqtt-subscriber.js';
import { startWorker } from '../helpers/worker-run.js';

let broker: Mosquitto;
let dir: string;

before(async () => {
  broker = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'wattline-mqtt-'));
});
after(async () => {
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const demoOptions = (driver: string) => demoDevices().find((d) => d.driver === driver)?.options;

function config(outbox: string, devices: string[], prefix = 'wattline'): unknown {
  const all: Record<string, unknown> = {
    meter: { name: 'meter', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' },
    board: { name: 'board', driver: 'hdhk', simulate: true, schedule: '* * * * * *', options: demoOptions('hdhk') },
    ups: { name: 'ups', driver: 'nut-ups', simulate: true, schedule: '* * * * * *', options: demoOptions('nut-ups') },
  };
  return { site: 'test', outbox: { path: outbox, synchronous: 'normal' }, mqtt: { url: broker.url, clientId: `wattline-test-${prefix}`, topicPrefix: prefix }, devices: devices.map((d) => all[d]) };
}

const configTopic = (uid: string, component = 'sensor', node = 'wattline') => `homeassistant/${component}/${node}/${uid}/config`;
const json = (m: Received) => JSON.parse(m.payload) as Record<string, unknown>;

test('simulated P1, HDHK and UPS: discovery configs and state messages reach a real subscriber', async () => {
  const sub = await subscribe(broker.url, ['homeassistant/#', 'wattline/#']);
  const run = await startWorker(config('a.sqlite', ['meter', 'board', 'ups']), drivers, dir);
  try {
    const cases: [string, string, Record<string, unknown>][] = [
      ['wattline_meter_p1_energy_import_t1_kwh', 'wattline/meter/p1', { unit_of_measurement: 'kWh', device_class: 'energy', state_class: 'total_increasing' }],
      ['wattline_meter_p1_power_import_w', 'wattline/meter/p1', { unit_of_measurement: 'W', device_class: 'power', state_class: 'measurement' }],
      ['wattline_meter_p1_voltage_l1_v', 'wattline/meter/p1', { unit_of_measurement: 'V', device_class: 'voltage' }],
      ['wattline_meter_p1_mbus_channel_1_reading_m3', 'wattline/meter/p1_mbus/channel/1', { unit_of_measurement: 'm³', device_class: 'gas', state_class: 'total_increasing' }],
      ['wattline_board_hdhk_unit_1_channel_1_current_a', 'wattline/board/hdhk/unit/1/channel/1', { unit_of_measurement: 'A', device_class: 'current', state_class: 'measurement' }],
      ['wattline_ups_ups_battery_charge_pct', 'wattline/ups/ups', { unit_of_measurement: '%', device_class: 'battery', state_class: 'measurement' }],
      ['wattline_ups_ups_input_frequency_hz', 'wattline/ups/ups', { unit_of_measurement: 'Hz', device_class: 'frequency' }],
    ];
    for (const [uid, stateTopic, expected] of cases) {
      const c = json(await sub.waitFor((m) => m.topic === configTopic(uid), `config ${uid}`));
      assert.equal(c.unique_id, uid);
      assert.equal(c.state_topic, stateTopic);
      assert.equal(c.availability_topic, 'wattline/status');
      for (const [k, v] of Object.entries(expected)) assert.equal(c[k], v, `${uid}.${k}`);
    }
    const flag = json(await sub.waitFor((m) => m.topic === configTopic('wattline_ups_ups_on_battery', 'binary_sensor'), 'UPS on_battery binary sensor'));
    assert.match(String(flag.value_template), /value_json\["on_battery"\]/);
    const ups = json(await sub.waitFor((m) => m.topic === configTopic('wattline_ups_ups_battery_charge_pct'), 'ups config'));
    assert.deepEqual((ups.device as { identifiers: string[] }).identifiers, ['wattline_ups']);
    assert.ok((ups.device as { model?: string }).model, 'the UPS model from its info tags');

    // State: the values the worker collected, under the series topic, with the reading's time.
    const state = await sub.waitFor((m) => m.topic === 'wattline/meter/p1' && !m.retain, 'a P1 state message');
    const body = json(state);
    const collected = run.reports.flatMap((r) => r.points).find((p) => p.measurement === 'p1' && new Date(Number(p.time / 1_000_000n)).toISOString() === body.time);
    assert.ok(collected, `a collected p1 point at ${String(body.time)}`);
    assert.equal(body.energy_import_t1_kwh, collected.fields.energy_import_t1_kwh);
    assert.equal(body.voltage_l1_v, collected.fields.voltage_l1_v);
    assert.equal(body.tags, undefined, 'site and device are shared tags, left out');
    const channel = json(await sub.waitFor((m) => m.topic === 'wattline/board/hdhk/unit/1/channel/1', 'an HDHK channel state'));
    assert.equal(typeof channel.current_a, 'number');

    const online = await sub.waitFor((m) => m.topic === 'wattline/status', 'availability');
    assert.equal(online.payload, 'online');

    // Home Assistant restarts: it announces itself and gets every config again (not retained copies).
    const before = Date.now();
    await sub.publish('homeassistant/status', 'online');
    await sub.waitFor((m) => m.topic === configTopic('wattline_meter_p1_energy_import_t1_kwh') && !m.retain, 'republished discovery', { sinceMs: before });
  } finally {
    await run.stop();
    await sub.close();
  }
  // A clean stop says offline on the availability topic (the last will covers crashes).
  const check = await subscribe(broker.url, ['wattline/status']);
  try {
    assert.equal((await check.waitFor((m) => m.topic === 'wattline/status', 'retained availability')).payload, 'offline');
  } finally {
    await check.close();
  }
});

test('a device removed from the config: its retained configs and states are cleared, the others stay', async () => {
  const first = await startWorker(config('b.sqlite', ['meter', 'board'], 'wl2'), drivers, dir);
  const sub = await subscribe(broker.url, ['homeassistant/#', 'wl2/#']);
  try {
    await sub.waitFor((m) => m.topic === configTopic('wl2_board_hdhk_unit_1_channel_1_current_a', 'sensor', 'wl2'), 'board config', { sinceMs: 0 });
    await sub.waitFor((m) => m.topic === configTopic('wl2_meter_p1_power_import_w', 'sensor', 'wl2'), 'meter config');
  } finally {
    await first.stop();
    await sub.close();
  }
  const announced = join(dir, 'b.sqlite.mqtt-announced.json');
  assert.ok(JSON.parse(readFileSync(announced, 'utf8')).devices.board.length > 0, 'board remembered');

  const watcher = await subscribe(broker.url, ['homeassistant/#', 'wl2/board/#']);
  const second = await startWorker(config('b.sqlite', ['meter'], 'wl2'), drivers, dir);
  let cleared: string[];
  try {
    try {
      await watcher.waitFor((m) => m.topic === configTopic('wl2_board_hdhk_unit_1_channel_1_current_a', 'sensor', 'wl2') && m.payload === '', 'the board config cleared');
      await new Promise((r) => setTimeout(r, 500));
      cleared = watcher.messages.filter((m) => m.payload === '').map((m) => m.topic);
    } finally {
      await watcher.close();
    }
    assert.ok(cleared.includes('wl2/board/hdhk/unit/1/channel/1'), 'the retained board state cleared too');
    assert.ok(!cleared.some((t) => t.includes('_meter_')), 'meter entities untouched');
    // A fresh subscriber (Home Assistant after a restart) finds no board entity on the broker.
    const fresh = await subscribe(broker.url, ['homeassistant/#']);
    try {
      await fresh.waitFor((m) => m.topic === configTopic('wl2_meter_p1_power_import_w', 'sensor', 'wl2'), 'meter config still retained');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        fresh.messages.filter((m) => m.topic.includes('wl2_board_')).map((m) => m.topic),
        [],
      );
    } finally {
      await fresh.close();
    }
  } finally {
    await second.stop();
  }
  assert.ok(existsSync(announced));
  assert.equal(JSON.parse(readFileSync(announced, 'utf8')).devices.board, undefined, 'board forgotten once cleared');
});
