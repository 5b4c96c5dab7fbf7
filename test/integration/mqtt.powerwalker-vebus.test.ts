/**
 * MQTT with the real PowerWalker PDU and ATS drivers and the real Victron VE.Bus driver, each
 * talking to its built-in SIMULATOR (`simulate: true`: no hardware here), a real Mosquitto and a
 * real MQTT.js client: outlet switching and the ESS set-point over MQTT, what Home Assistant
 * discovers for them, and the PowerWalker compatibility topics with the drivers' own fields.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drivers } from '../../src/devices/index.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { subscribe, type Received, type Subscriber } from '../helpers/mqtt-subscriber.js';
import { startWorker, type RunningWorker } from '../helpers/worker-run.js';

let broker: Mosquitto;
let dir: string;
let run: RunningWorker;
let sub: Subscriber;

const ESS = { min: -1500, max: 1000 };

before(async () => {
  broker = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'wattline-mqtt-pw-'));
  sub = await subscribe(broker.url, ['homeassistant/#', 'wattline/#', 'powerwalker/#']);
  run = await startWorker(
    {
      outbox: { path: 'outbox.sqlite', synchronous: 'normal' },
      mqtt: { url: broker.url, clientId: 'wattline-pw-test', compatibility: { mode: 'powerwalker' } },
      devices: [
        { name: 'pdu', driver: 'powerwalker-pdu', simulate: true, schedule: '* * * * * *', options: { control: { allow: ['on', 'off'], outlets: [1, 2] } } },
        { name: 'ats', driver: 'powerwalker-ats', simulate: true, schedule: '* * * * * *' },
        { name: 'inv', driver: 'victron-vebus', simulate: true, schedule: '* * * * * *', options: { control: { essPower: ESS } } },
      ],
    },
    drivers,
    dir,
  );
  await sub.waitFor((m) => m.topic === 'wattline/pdu/pdu_outlet/outlet/8', 'the first PDU collection', { timeoutMs: 20_000 });
});
after(async () => {
  await run?.stop();
  await sub?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const json = (m: Received) => JSON.parse(m.payload) as Record<string, unknown>;
const config = (component: string, uid: string) => sub.waitFor((m) => m.topic === `homeassistant/${component}/wattline/${uid}/config`, `config ${uid}`).then(json);
/** The outcome of the command just sent on `<base>/result`, received no earlier than `since`. */
const result = (base: string, since: number) => sub.waitFor((m) => m.topic === `${base}/result` && m.atMs >= since, `result on ${base}`).then(json);
/** The first PDU poll after `since` whose outlet `n` matches. */
const outletPoll = (n: number, since: number, match: (f: Record<string, unknown>) => boolean, what: string) =>
  sub.waitFor((m) => m.topic === `wattline/pdu/pdu_outlet/outlet/${n}` && m.atMs >= since && match(json(m)), what, { timeoutMs: 25_000 }).then(json);

test('simulated PowerWalker PDU/ATS: Home Assistant discovers switches for the allowed outlets only, and sensible units and classes', async () => {
  for (const n of [1, 2]) {
    const c = await config('switch', `wattline_pdu_outlet_${n}_switch`);
    assert.equal(c.command_topic, `wattline/pdu/outlet/${n}/set`);
    assert.equal(c.state_topic, `wattline/pdu/outlet/${n}/state`);
  }
  // Every outlet has been collected (outlet 8 was awaited) and announced its sensors by now.
  await config('sensor', 'wattline_pdu_pdu_outlet_outlet_8_energy_kwh');
  assert.deepEqual(
    sub.messages
      .filter((m) => /\/switch\//.test(m.topic))
      .map((m) => m.topic)
      .sort(),
    [1, 2].map((n) => `homeassistant/switch/wattline/wattline_pdu_outlet_${n}_switch/config`),
  );
  assert.equal(sub.last('wattline/pdu/outlet/5/state')?.payload, 'ON', 'every outlet reports its state, switchable or not');

  const expect: [string, string, Record<string, unknown>][] = [
    ['sensor', 'wattline_pdu_pdu_input_kwh', { unit_of_measurement: 'kWh', device_class: 'energy', state_class: 'total_increasing' }],
    ['sensor', 'wattline_pdu_pdu_outlet_outlet_3_energy_kwh', { unit_of_measurement: 'kWh', device_class: 'energy', state_class: 'total_increasing', state_topic: 'wattline/pdu/pdu_outlet/outlet/3' }],
    ['sensor', 'wattline_pdu_pdu_outlet_outlet_3_power_w', { unit_of_measurement: 'W', device_class: 'power', state_class: 'measurement' }],
    ['sensor', 'wattline_pdu_pdu_outlet_outlet_3_apparent_power_va', { unit_of_measurement: 'VA', device_class: 'apparent_power' }],
    ['sensor', 'wattline_pdu_pdu_input_v', { unit_of_measurement: 'V', device_class: 'voltage' }],
    ['sensor', 'wattline_pdu_pdu_outlet_outlet_3_restore_countdown_s', { unit_of_measurement: 's', device_class: 'duration' }],
    ['binary_sensor', 'wattline_pdu_pdu_alarm_low_input_v', { device_class: 'problem' }],
    ['binary_sensor', 'wattline_pdu_pdu_alarm_aux1_power_fail', { device_class: 'problem' }],
    ['sensor', 'wattline_pdu_pdu_info_nominal_input_v', { unit_of_measurement: 'V', entity_category: 'diagnostic', state_class: undefined }],
    ['sensor', 'wattline_ats_ats_load_pct', { unit_of_measurement: '%', state_class: 'measurement' }],
    ['sensor', 'wattline_ats_ats_output_a', { unit_of_measurement: 'A', device_class: 'current' }],
    ['binary_sensor', 'wattline_ats_ats_syncron_bad', { device_class: 'problem' }],
    ['binary_sensor', 'wattline_ats_ats_on_fault_mode', { device_class: 'problem' }],
    ['sensor', 'wattline_ats_ats_source_source_2_voltage_v', { unit_of_measurement: 'V', device_class: 'voltage', state_topic: 'wattline/ats/ats_source/source/2' }],
    ['binary_sensor', 'wattline_ats_ats_source_source_1_voltage_bad', { device_class: 'problem' }],
    ['binary_sensor', 'wattline_ats_ats_source_source_1_active', { device_class: 'power' }],
  ];
  for (const [component, uid, fields] of expect) {
    const c = await config(component, uid);
    for (const [k, v] of Object.entries(fields)) assert.equal(c[k], v, `${uid}.${k}`);
  }
  assert.equal((await config('sensor', 'wattline_pdu_pdu_outlet_outlet_3_status')).state_class, undefined, 'a status digit is not a measurement');
  // The device block: the PDU's model and firmware from its pdu_info point.
  const block = (
    await sub.waitFor((m) => m.topic.startsWith('homeassistant/') && m.topic.includes('wattline_pdu_') && (json(m).device as { sw_version?: string }).sw_version !== undefined, 'a PDU config with firmware').then(json)
  ).device as Record<string, unknown>;
  assert.equal(block.manufacturer, 'PowerWalker');
  assert.match(String(block.sw_version), /0\.15/);
  assert.match(String(block.model), /^PDU/);
});

test('simulated PowerWalker PDU: an outlet command over MQTT switches it, the state follows; a disallowed outlet is refused and stays on', async () => {
  let t = Date.now();
  await sub.publish('wattline/pdu/outlet/2/set', 'OFF');
  const off = await result('wattline/pdu/outlet/2', t);
  assert.equal(off.ok, true, JSON.stringify(off));
  // Polls collected before the command are published before its result and state: from the command's state on, the switch never shows ON.
  const commandState = await sub.waitFor((m) => m.topic === 'wattline/pdu/outlet/2/state' && m.payload === 'OFF' && m.atMs >= t, 'the command result as state');
  const since = (m: Received) => sub.messages.indexOf(m);
  // The PDU warns for 6 s ("shutdown imminent", status 3) before the outlet goes off (status 0).
  await outletPoll(2, t, (f) => f.status === 3, 'outlet 2 shutting down');
  const gone = await outletPoll(2, t, (f) => f.status === 0, 'outlet 2 off');
  assert.equal(gone.power_w, 0);
  const flaps = sub.messages.slice(since(commandState)).filter((m) => m.topic === 'wattline/pdu/outlet/2/state' && m.payload !== 'OFF');
  assert.deepEqual(flaps, [], 'the switch stays OFF from the command on, while the PDU counts down');

  t = Date.now();
  await sub.publish('wattline/pdu/outlet/2/set', 'on');
  assert.equal((await result('wattline/pdu/outlet/2', t)).ok, true);
  const onState = await sub.waitFor((m) => m.topic === 'wattline/pdu/outlet/2/state' && m.payload === 'ON' && m.atMs >= t, 'the ON command as state');
  const back = await outletPoll(2, t, (f) => f.status === 1, 'outlet 2 back on');
  assert.ok(Number(back.current_a) > 0);
  assert.deepEqual(
    sub.messages
      .slice(since(onState))
      .filter((m) => m.topic === 'wattline/pdu/outlet/2/state')
      .map((m) => m.payload)
      .filter((p) => p !== 'ON'),
    [],
    'the switch stays ON from the command on, through the restore',
  );

  t = Date.now();
  await sub.publish('wattline/pdu/outlet/3/set', 'OFF');
  const refused = await result('wattline/pdu/outlet/3', t);
  assert.deepEqual([refused.ok, refused.refused], [false, true]);
  assert.match(String(refused.error), /not allowed/);
  // Had it been sent, the next polls would show status 3 (shutdown imminent) for 6 s.
  const after = Date.now();
  await outletPoll(3, after + 1500, () => true, 'a poll of outlet 3 after the refusal');
  const polls = sub.messages.filter((m) => m.topic === 'wattline/pdu/pdu_outlet/outlet/3' && m.atMs >= after).map((m) => json(m).status);
  assert.ok(polls.length >= 1);
  assert.deepEqual([...new Set(polls)], [1]);
  assert.equal(sub.last('wattline/pdu/outlet/3/state')?.payload, 'ON');
});

const compat = (topic: string, since = 0) => sub.waitFor((m) => m.topic === `powerwalker/${topic}` && m.atMs >= since, `compat ${topic}`).then((m) => m.payload);
const noNulls = (payload: string, what: string) => assert.doesNotMatch(payload, /null/, `${what}: every key filled from a driver field: ${payload}`);

test("PowerWalker compatibility with the simulated PDU and ATS: the original's topics, filled from the drivers' fields", async () => {
  const status = await compat('pdu/status');
  noNulls(status, 'pdu/status');
  assert.match(status, /^\{"in_hz": \d+\.\d, "in_v": \d+\.\d, "temp_c": \d+\.\d, "low_in_voltage": 0, "high_in_voltage": 0, "low_in_current": 0, "high_in_current": 0, "pwr_fail_aux1": 0, "pwr_fail_aux2": 0\}$/);
  const inV = JSON.parse(status).in_v as number;
  assert.ok(
    sub.messages.some((m) => m.topic === 'wattline/pdu/pdu' && json(m).input_v === inV),
    'in_v is a voltage the PDU reported',
  );
  const power = await compat('pdu/power/in');
  assert.match(power, /^\{"w": \d+, "va": \d+, "a": \d+\.\d+\}$/);
  for (let n = 1; n <= 8; n++) {
    noNulls(await compat(`pdu/power/out${n}`), `out${n}`);
    const o = await compat(`pdu/outlet/out${n}`);
    assert.match(o, /^\{"status": \d, "state": "[A-Za-z ]+", "restore_sec": \d+, "shutdown_sec": \d+\}$/, o);
  }
  assert.match(await compat('pdu/outlet/out5'), /^\{"status": 1, "state": "On", "restore_sec": 0, "shutdown_sec": 0\}$/);

  for (const src of ['src1', 'src2']) {
    const s = await compat(`ats/supply/${src}`);
    assert.match(s, /^\{"v": \d+\.\d+, "hz": \d+\.\d+, "active": [01], "preferred": [01], "bad": 0\}$/, s);
  }
  assert.deepEqual([JSON.parse(await compat('ats/supply/src1')).active, JSON.parse(await compat('ats/supply/src1')).preferred], [1, 1]);
  assert.deepEqual([JSON.parse(await compat('ats/supply/src2')).active, JSON.parse(await compat('ats/supply/src2')).preferred], [0, 0]);
  const atsStatus = await compat('ats/status');
  noNulls(atsStatus, 'ats/status');
  assert.match(atsStatus, /^\{"temp_c": \d+\.\d+, "out_a": \d+\.\d+, "out_pct": \d+\.\d+, "sync_angle": -?\d+\.\d+, "aux_pwr1_fail": 0, /);
  const alert = JSON.parse(await sub.waitFor((m) => m.topic === 'powerwalker/alert' && 'ats' in JSON.parse(m.payload) && 'pdu' in JSON.parse(m.payload), 'alert with PDU and ATS').then((m) => m.payload));
  assert.equal(alert.pdu, 0);
  assert.equal(alert.ats, 0);
  assert.equal(alert.ats_src1, 0);
  assert.equal(alert.pdu_out1, 0);
});

test('PowerWalker compatibility command with the simulated PDU: out1/set 0 switches outlet 1 off; out3 (not allowed) is refused', async () => {
  let t = Date.now();
  await sub.publish('powerwalker/pdu/outlet/out1/set', '0');
  assert.equal((await result('wattline/pdu/outlet/1', t)).ok, true);
  await sub.waitFor((m) => m.topic === 'powerwalker/pdu/outlet/out1' && m.atMs >= t && m.payload.startsWith('{"status": 3, "state": "Shutdown imminent"'), 'compat: outlet 1 shutting down', { timeoutMs: 10_000 });
  const off = await sub.waitFor((m) => m.topic === 'powerwalker/pdu/outlet/out1' && m.atMs >= t && m.payload.startsWith('{"status": 0, "state": "Off"'), 'compat: outlet 1 off', { timeoutMs: 20_000 });
  // The power message that follows it (the same poll's: outlets come before power). Not by
  // arrival time: one socket write can carry two polls, read within the same millisecond.
  const before = new Set(sub.messages.slice(0, sub.messages.indexOf(off) + 1));
  const power = await sub.waitFor((m) => m.topic === 'powerwalker/pdu/power/out1' && !before.has(m), 'compat: outlet 1 power after it went off');
  assert.match(power.payload, /^\{"w": 0, "va": 0, "a": 0\.0\}$/);

  t = Date.now();
  await sub.publish('powerwalker/pdu/outlet/out3/set', '0');
  assert.equal((await result('wattline/pdu/outlet/3', t)).refused, true);
  const later = Date.now() + 1500;
  assert.match(await compat('pdu/outlet/out3', later), /^\{"status": 1, "state": "On"/);
});

test('simulated Victron Multiplus: the ESS set-point is a number entity with the configured range; a command reaches the device, an out-of-range one is refused', async () => {
  const c = await config('number', 'wattline_inv_ess-power_number');
  assert.deepEqual([c.min, c.max, c.unit_of_measurement, c.command_topic, c.state_topic], [ESS.min, ESS.max, 'W', 'wattline/inv/ess-power/set', 'wattline/inv/ess-power/state']);

  let t = Date.now();
  await sub.publish('wattline/inv/ess-power/set', '-700');
  const ok = await result('wattline/inv/ess-power', t);
  assert.equal(ok.ok, true, JSON.stringify(ok));
  const done = Date.now();
  // Read back by the next poll: the vebus point and the number's state.
  await sub.waitFor((m) => m.topic === 'wattline/inv/vebus' && m.atMs >= done && json(m).ess_setpoint_w === -700, 'ess_setpoint_w -700 from a poll');
  await sub.waitFor((m) => m.topic === 'wattline/inv/ess-power/state' && m.atMs >= done && m.payload === '-700', 'the number state from a poll');

  t = Date.now();
  await sub.publish('wattline/inv/ess-power/set', '1200');
  const refused = await result('wattline/inv/ess-power', t);
  assert.deepEqual([refused.ok, refused.refused], [false, true]);
  assert.match(String(refused.error), /outside the allowed range -1500/);
  const later = Date.now() + 1500;
  const next = await sub.waitFor((m) => m.topic === 'wattline/inv/vebus' && m.atMs >= later && json(m).ess_setpoint_w !== undefined, 'a later poll');
  assert.equal(json(next).ess_setpoint_w, -700, 'the refused value never reached the device');
});

test('every reading is published: each collection of the simulated ATS, PDU and Multiplus reaches the subscriber, none superseded by the next', async () => {
  // A device's messages leave in collection order, so every collection up to the newest one
  // published must have arrived (none superseded). No wall-clock cutoff: a loaded machine can keep
  // a batch on its way for longer than any fixed allowance.
  for (const [device, topic] of [
    ['ats', 'wattline/ats/ats'],
    ['pdu', 'wattline/pdu/pdu'],
    ['inv', 'wattline/inv/vebus'],
  ] as const) {
    const published = new Set(sub.messages.filter((m) => m.topic === topic).map((m) => Date.parse(String(json(m).time))));
    const newest = Math.max(...published);
    const collected = run.reports
      .filter((r) => r.device === device)
      .flatMap((r) => r.points.filter((p) => `wattline/${device}/${p.measurement}` === topic && p.tags.phase === undefined))
      .map((p) => Number(p.time / 1_000_000n))
      .filter((ms) => ms <= newest);
    assert.ok(collected.length >= 10, `${device}: ${collected.length} collections`);
    assert.deepEqual(
      collected.filter((ms) => !published.has(ms)),
      [],
      `${device}: collections not published`,
    );
  }
});
