import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { int, type Point } from '../../src/core/point.js';
import { drivers } from '../../src/devices/index.js';
import { ROOT } from '../helpers/paths.js';
import { STATUS_FLAGS, VARIABLES } from '../../src/devices/nut-ups/tables.js';
import { AnnouncedTopics } from '../../src/mqtt/announced.js';
import { parseCommand, type CommandSpec } from '../../src/mqtt/commands.js';
import { describeField, seriesTags } from '../../src/devices/fields.js';
import { outletState, outletSwitch } from '../../src/devices/powerwalker-pdu/fields.js';
import { atsMessages, parseCompatCommand, pduMessages } from '../../src/mqtt/compat-powerwalker.js';
import { fieldAnnouncements } from '../../src/mqtt/discovery.js';
import { fieldMeta as haMeta } from '../../src/mqtt/fields.js';
import { PublishBatch } from '../../src/mqtt/packets.js';
import { Backoff } from '../../src/core/backoff.js';
import { errorLogger } from '../../src/mqtt/connection.js';
import { pino } from 'pino';
import { MessageQueue } from '../../src/mqtt/queue.js';
import { seriesPath as pathOf, statePayload, writeStatePayload } from '../../src/mqtt/series.js';

const T = 1_700_000_000_000n * 1_000_000n;
const point = (measurement: string, tags: Record<string, string>, fields: Point['fields']): Point => ({ measurement, tags, fields, time: T });
/** The field metadata of the registered driver that emits a measurement (none for made-up ones: the naming convention). */
const metadataOf = (measurement: string) => drivers.find((d) => d.fields?.measurements[measurement])?.fields;
const fieldMeta = (measurement: string, field: string, value: Point['fields'][string], tags: Record<string, string>) => haMeta(describeField(metadataOf(measurement), measurement, field, value, tags), value);
const seriesPath = (p: Point) => pathOf(p, seriesTags(metadataOf(p.measurement), p.measurement));

test('field metadata: unit, device class and state class from the name suffix', () => {
  assert.deepEqual(fieldMeta('p1', 'energy_import_t1_kwh', 1.5, {}), { component: 'sensor', unit: 'kWh', deviceClass: 'energy', stateClass: 'total_increasing' });
  assert.deepEqual(fieldMeta('hdhk', 'current_a', 1.5, {}), { component: 'sensor', unit: 'A', deviceClass: 'current', stateClass: 'measurement' });
  assert.equal(fieldMeta('hdhk', 'apparent_power_va', 1, {}).unit, 'VA'); // _va, not _a
  assert.equal(fieldMeta('p1', 'reactive_energy_import_kvarh', 1, {}).deviceClass, 'reactive_energy'); // _kvarh, not _var/_h
  assert.equal(fieldMeta('p1', 'reactive_power_import_var', 1, {}).unit, 'var');
  assert.equal(fieldMeta('x', 'frequency_hz', 50, {}).deviceClass, 'frequency');
  assert.equal(fieldMeta('x', 'temperature_c', 20, {}).unit, '°C');
  assert.deepEqual(fieldMeta('x', 'load_pct', 20, {}), { component: 'sensor', unit: '%', stateClass: 'measurement' });
  // Ratings are diagnostics without a state class; strings are diagnostics; booleans binary sensors.
  assert.deepEqual(fieldMeta('ups', 'input_voltage_nominal_v', 230, {}), { component: 'sensor', unit: 'V', deviceClass: 'voltage', stateClass: undefined, diagnostic: true });
  assert.equal(fieldMeta('p1', 'equipment_id', 'E0001', {}).diagnostic, true);
  assert.equal(fieldMeta('x', 'on', true, {}).component, 'binary_sensor');
});

test('field metadata: per-measurement corrections (battery, UPS flags, event counters, gas/water)', () => {
  assert.equal(fieldMeta('ups', 'battery_charge_pct', 100, {}).deviceClass, 'battery');
  assert.deepEqual(fieldMeta('ups', 'low_battery', int(0), {}), { component: 'binary_sensor', deviceClass: 'battery', stateClass: undefined, unit: undefined });
  assert.equal(fieldMeta('p1', 'power_failures', int(3), {}).stateClass, 'total_increasing');
  assert.equal(fieldMeta('p1_mbus', 'reading_m3', 1, { mbus_type: 'gas' }).deviceClass, 'gas');
  assert.equal(fieldMeta('p1_mbus', 'reading_m3', 1, { mbus_type: 'water' }).deviceClass, 'water');
  assert.equal(fieldMeta('p1_mbus', 'reading_m3', 1, { mbus_type: 'gas' }).stateClass, 'total_increasing');
});

test('every NUT status flag is a binary sensor, every NUT variable with a unit has that unit', () => {
  for (const f of STATUS_FLAGS) assert.equal(fieldMeta('ups', f.field, int(1), {}).component, 'binary_sensor', f.field);
  const units: Record<string, string> = { '%': '%', s: 's', V: 'V', A: 'A', Hz: 'Hz', W: 'W', VA: 'VA', '°C': '°C' };
  for (const v of VARIABLES) {
    if (v.type === 'string') continue;
    assert.equal(fieldMeta('ups', v.field, 1, {}).unit, units[v.unit], v.field);
  }
});

test('series path: measurement plus identifying tags; state payload: time, fields, non-shared tags', () => {
  const p = point('hdhk', { site: 'home', device: 'board', unit: '1', channel: '3', circuit: 'oven', phase: 'L1' }, { current_a: 1.25, range_a: int(40) });
  assert.equal(seriesPath(p), 'hdhk/unit/1/channel/3');
  assert.equal(seriesPath(point('pdu_outlet', { device: 'pdu', outlet: '7' }, { on: true })), 'pdu_outlet/outlet/7');
  assert.equal(seriesPath(point('p1', { device: 'm', phase: 'x' }, { a: 1 })), 'p1'); // p1 has no series tags
  assert.equal(seriesPath(point('x', { device: 'd', channel: 'a/b#' }, { a: 1 })), 'x/channel/a_b_');
  assert.deepEqual(JSON.parse(statePayload(p, new Set(['site']))), {
    time: '2023-11-14T22:13:20.000Z',
    current_a: 1.25,
    range_a: 40,
    tags: { unit: '1', channel: '3', circuit: 'oven', phase: 'L1' },
  });
});

test('state payload: the same text as JSON.stringify of the plain object, for any fields, tags and time (property); in a packet, its UTF-8 bytes', () => {
  const fieldValue = fc.oneof(
    fc.double(),
    fc.constantFrom(-0, Number.NaN, Infinity, -Infinity, 1e21, 5e-324),
    fc.boolean(),
    fc.string({ unit: 'grapheme' }),
    fc.bigInt({ min: -(1n << 64n), max: (1n << 64n) - 1n }).map((b) => int(b)),
  );
  // Not the payload's own keys, nor what a plain object treats specially: `__proto__`, and
  // array-index names ("0", "17"), which an object (so JSON.stringify) puts before `time`.
  const name = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }).filter((n) => !['time', 'tags', '__proto__'].includes(n) && !/^(0|[1-9]\d*)$/.test(n));
  fc.assert(
    fc.property(fc.dictionary(name, fieldValue, { minKeys: 1 }), fc.dictionary(name, fc.string()), fc.bigInt({ min: -8_640_000_000_000_000_000_000n, max: 8_640_000_000_000_000_000_000n }), (fields, tags, time) => {
      const p: Point = { measurement: 'm', tags: { device: 'd', ...tags }, fields, time };
      const plainFields = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === 'object' ? (Number.isSafeInteger(Number(v.value)) ? Number(v.value) : v.value.toString()) : v]));
      const plainTags = Object.fromEntries(Object.entries(p.tags).filter(([k]) => k !== 'device'));
      const expected = JSON.stringify({ time: new Date(Number(time / 1_000_000n)).toISOString(), ...plainFields, ...(Object.keys(plainTags).length ? { tags: plainTags } : {}) });
      assert.equal(statePayload(p, new Set()), expected);
      // Written into a packet: its UTF-8 bytes.
      const batch = new PublishBatch();
      batch.begin('t', false);
      writeStatePayload(batch, p, new Set());
      assert.equal(batch.end(), undefined);
      assert.ok(batch.take().subarray(-Buffer.byteLength(expected)).equals(Buffer.from(expected)));
    }),
    { numRuns: 300 },
  );
});

test('discovery: one config per field with a stable unique id, the series state topic and the device', () => {
  const ctx = { discoveryPrefix: 'homeassistant', node: 'wattline', availabilityTopic: 'wattline/status' };
  const p = point('p1', { device: 'meter' }, { energy_import_kwh: 10.5, power_import_w: 300 });
  const out = fieldAnnouncements(p, { name: 'meter', driver: 'dsmr-p1', fields: metadataOf('p1'), firmware: '50' }, 'p1', 'wattline/meter/p1', ctx);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.topic, 'homeassistant/sensor/wattline/wattline_meter_p1_energy_import_kwh/config');
  const c = JSON.parse(out[0]!.payload);
  assert.equal(c.unique_id, 'wattline_meter_p1_energy_import_kwh');
  assert.equal(c.default_entity_id, 'sensor.wattline_meter_p1_energy_import_kwh');
  assert.equal(c.object_id, undefined, 'object_id is gone from Home Assistant since 2026.4');
  assert.equal(c.state_topic, 'wattline/meter/p1');
  assert.equal(c.value_template, '{{ value_json["energy_import_kwh"] }}');
  assert.deepEqual([c.unit_of_measurement, c.device_class, c.state_class], ['kWh', 'energy', 'total_increasing']);
  assert.deepEqual(c.device, { identifiers: ['wattline_meter'], name: 'meter', model: 'dsmr-p1', sw_version: '50' });
  assert.equal(c.availability_topic, 'wattline/status');
});

const SPECS: Record<string, readonly CommandSpec[]> = {
  pdu: [outletSwitch('pdu_outlet')],
  inv: [{ component: 'number', path: 'ess-power', verb: 'ess-power', min: -100, max: 100, step: 1 }],
  ups: [],
};
const specsOf = (d: string) => SPECS[d];

test('outlet switch state: where the PI90 status digit says the outlet is heading', () => {
  const st = (status: number, restore = 0) => outletState({ status: int(status), restore_countdown_s: int(restore) });
  assert.deepEqual(
    [0, 1, 4, 5].map((s) => st(s)),
    ['OFF', 'ON', 'ON', 'ON'],
  );
  // A pending shutdown: OFF (the driver's off), unless a restore follows (its on recipe for an off outlet).
  assert.deepEqual([st(2), st(3), st(2, 60), st(3, 1)], ['OFF', 'OFF', 'ON', 'ON']);
  assert.equal(st(6), undefined, 'locked says nothing');
  assert.equal(outletState({ on: true }), 'ON');
  assert.equal(outletState({ current_a: 0.4 }), undefined);
});

test('commands: outlet switch and number topics become verbs; everything else says why not', () => {
  const on = parseCommand('wl', 'wl/pdu/outlet/3/set', ' on ', specsOf);
  assert.ok(on.ok);
  assert.deepEqual([on.verb, on.args, on.base], ['on', ['3'], 'wl/pdu/outlet/3']);
  const off = parseCommand('wl', 'wl/pdu/outlet/3/set', '0', specsOf);
  assert.ok(off.ok && off.verb === 'off');
  const n = parseCommand('wl', 'wl/inv/ess-power/set', '-500', specsOf);
  assert.ok(n.ok);
  assert.deepEqual([n.verb, n.args, n.base], ['ess-power', ['-500'], 'wl/inv/ess-power']);
  const bad = (topic: string, payload: string) => {
    const r = parseCommand('wl', topic, payload, specsOf);
    assert.ok(!r.ok, topic);
    return r.reason;
  };
  assert.match(bad('wl/pdu/outlet/3/set', 'MAYBE'), /not ON, OFF, 1 or 0/);
  assert.match(bad('wl/pdu/outlet/3/set', '2'), /not ON, OFF, 1 or 0/);
  assert.match(bad('wl/inv/ess-power/set', '5e3x'), /not a number/);
  assert.match(bad('wl/nobody/outlet/3/set', 'ON'), /unknown device "nobody"/);
  assert.match(bad('wl/ups/outlet/3/set', 'ON'), /takes no command/);
  assert.match(bad('wl/pdu/relay/3/set', 'ON'), /takes no command/);
  assert.match(bad('wl/pdu/outlet/set', 'ON'), /expected wl\/pdu\/outlet\/<outlet>\/set/);
  assert.match(bad('wl/inv/ess-power/1/set', '5'), /expected wl\/inv\/ess-power\/set/);
});

test('QoS 0 PUBLISH packets, back to back, as MQTT 3.1.1 §3.3 lays them out (retain bit, remaining length, topic, payload)', () => {
  const batch = new PublishBatch();
  const put = (topic: string, retain: boolean, ...pieces: string[]) => {
    batch.begin(topic, retain);
    for (const p of pieces) batch.text(p);
    return batch.end();
  };
  const long = 'é'.repeat(100); // 200 bytes of UTF-8: a two-byte remaining length
  assert.equal(put('a/b', true, '{"x":', '1}'), undefined);
  assert.equal(put('t', false, long), undefined);
  assert.equal(put('z', true), undefined);
  const huge = 'x'.repeat(20_000); // a three-byte remaining length: the body moves by one
  assert.equal(put('h', false, huge), undefined);
  assert.equal(put('ü/€', false, 'ß'), undefined); // UTF-8 topic: its length in bytes
  assert.equal(batch.count, 5);
  const first = [0x31, 2 + 3 + 7, 0x00, 0x03, ...Buffer.from('a/b'), ...Buffer.from('{"x":1}')];
  const remaining = 2 + 1 + 200; // 203 = 0xcb: low 7 bits 0x4b with the continuation bit, then 1
  const second = [0x30, 0xcb, 0x01, 0x00, 0x01, ...Buffer.from('t'), ...Buffer.from(long)];
  assert.equal(remaining, 0x4b + 128);
  const third = [0x31, 3, 0, 1, 0x7a];
  const r = 2 + 1 + 20_000; // 20003 = 0x4e23: 0xa3, 0x9c, 0x01
  const fourth = [0x30, (r & 0x7f) | 0x80, ((r >> 7) & 0x7f) | 0x80, r >> 14, 0x00, 0x01, 0x68, ...Buffer.from(huge)];
  const fifth = [0x30, 2 + 6 + 2, 0x00, 0x06, ...Buffer.from('ü/€'), ...Buffer.from('ß')];
  const bytes = batch.take();
  assert.deepEqual([...bytes], [...first, ...second, ...third, ...fourth, ...fifth]);
  assert.equal(batch.count, 0);
  assert.equal(batch.take().length, 0);
  // What MQTT cannot carry is taken out again and said; the rest still goes.
  assert.equal(put('', false, 'x'), 'a topic of 0 bytes (MQTT allows 1 to 65535)');
  assert.equal(put('ok', false, 'y'), undefined);
  assert.equal(put('x'.repeat(70_000), false), 'a topic of 70000 bytes (MQTT allows 1 to 65535)');
  assert.equal(batch.count, 1);
  assert.deepEqual([...batch.take()], [0x30, 5, 0, 2, ...Buffer.from('ok'), ...Buffer.from('y')]);
});

test('state payload written into a PUBLISH packet: the same bytes as the payload string, encoded', () => {
  const p = point('hdhk', { site: 'home', device: 'board', unit: '1', channel: '3', circuit: 'четыре €', phase: 'L1' }, { current_a: 1.25, range_a: int(40), note: 'naïve "q"' });
  const batch = new PublishBatch();
  batch.begin('wl/board/hdhk', false);
  writeStatePayload(batch, p, new Set(['site']));
  assert.equal(batch.end(), undefined);
  const text = statePayload(p, new Set(['site']));
  const payloadBytes = Buffer.from(text);
  assert.deepEqual(batch.take().subarray(-payloadBytes.length), payloadBytes);
  assert.equal(JSON.parse(text).tags.circuit, 'четыре €');
});

test('queue: latest message per topic, bounded, oldest dropped and counted', () => {
  const q = new MessageQueue(2);
  const m = (topic: string, payload: string) => ({ topic, payload, retain: false, qos: 0 as const });
  q.push(m('a', '1'));
  q.push(m('a', '2'));
  assert.equal(q.size, 1);
  assert.equal(q.superseded, 1);
  q.push(m('b', '1'));
  q.push(m('c', '1'));
  assert.equal(q.dropped, 1);
  assert.deepEqual([q.shift()?.topic, q.shift()?.topic, q.shift()], ['b', 'c', undefined]);
});

test('announced topics survive a restart in their file; stale devices are listed until forgotten', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-announced-'));
  try {
    const path = join(dir, 'a.json');
    const a = new AnnouncedTopics(path);
    assert.equal(a.load(), undefined);
    assert.equal(a.add('old', 'ha/sensor/x/config'), true);
    assert.equal(a.add('old', 'ha/sensor/x/config'), false);
    a.add('kept', 'ha/sensor/y/config');
    a.save();
    const b = new AnnouncedTopics(path);
    b.load();
    assert.deepEqual(b.stale(new Set(['kept'])), [{ device: 'old', topics: ['ha/sensor/x/config'] }]);
    b.forget('old');
    b.save();
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).devices, { kept: ['ha/sensor/y/config'] });
    writeFileSync(path, '{not json');
    assert.match(new AnnouncedTopics(path).load()!, /not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// PowerWalker compatibility. Inputs: the PDU sample replies of docs/protocols/powerwalker.md §1.7 (QGS, QPW,
// QPVA); expected payloads written out by hand from the original mqtt.py's dicts as Python's
// json.dumps prints them.
test('compat: PowerWalker mqtt.py topics and payloads for a PDU collection', () => {
  const currents = [0.4, 0.5, 0.3, 0.1, 0.2, 0.2, 0.3, 0.0];
  const w = [62, 108, 74, 37, 39, 33, 57, 0];
  const va = [108, 123, 83, 47, 43, 65, 70, 0];
  const points: Point[] = [
    point(
      'pdu',
      { device: 'pdu' },
      {
        input_v: 225.5,
        input_hz: 49.8,
        input_a: 2.1,
        temperature_c: 36,
        input_w: int(441),
        input_va: int(478),
        alarm_low_input_v: int(0),
        alarm_high_input_v: int(1),
        alarm_low_input_a: int(0),
        alarm_high_input_a: int(0),
        alarm_aux1_power_fail: int(0),
        alarm_aux2_power_fail: int(0),
      },
    ),
    ...currents.map((a, i) =>
      point(
        'pdu_outlet',
        { device: 'pdu', outlet: String(i + 1) },
        { current_a: a, power_w: int(w[i]!), apparent_power_va: int(va[i]!), status: int(i === 4 ? 5 : 1), shutdown_countdown_s: int(0), restore_countdown_s: int(i === 1 ? 60 : 0) },
      ),
    ),
  ];
  const alerts = new Map<string, number>();
  const msgs = new Map(pduMessages('powerwalker', points, alerts).map((m) => [m.topic, m.payload]));
  assert.equal(msgs.get('powerwalker/pdu/power/in'), '{"w": 441, "va": 478, "a": 2.1}');
  assert.equal(msgs.get('powerwalker/pdu/power/out1'), '{"w": 62, "va": 108, "a": 0.4}');
  assert.equal(msgs.get('powerwalker/pdu/power/out8'), '{"w": 0, "va": 0, "a": 0.0}');
  assert.equal(msgs.get('powerwalker/pdu/outlet/out2'), '{"status": 1, "state": "On", "restore_sec": 60, "shutdown_sec": 0}');
  assert.equal(msgs.get('powerwalker/pdu/outlet/out5'), '{"status": 5, "state": "Overload alarm", "restore_sec": 0, "shutdown_sec": 0}');
  assert.equal(
    msgs.get('powerwalker/pdu/status'),
    '{"in_hz": 49.8, "in_v": 225.5, "temp_c": 36.0, "low_in_voltage": 0, "high_in_voltage": 1, "low_in_current": 0, "high_in_current": 0, "pwr_fail_aux1": 0, "pwr_fail_aux2": 0}',
  );
  const alert = JSON.parse(msgs.get('powerwalker/alert')!);
  assert.equal(alert.pdu, 1);
  assert.equal(alert.pdu_out5, 1);
  assert.equal(alert.pdu_out1, 0);
  assert.equal(msgs.size, 1 + 8 + 1 + 8 + 1);
});

test('compat: ATS supply and status topics (QATS/QAS sample of docs/protocols/powerwalker.md §1.7: on source 1)', () => {
  const ats = point(
    'ats',
    { device: 'ats' },
    {
      load_pct: 14,
      output_a: 2.2,
      sync_angle_deg: 1,
      temperature_c: 35,
      active_source: int(1),
      preferred_source: int(1),
      aux_pwr1_fail: int(0),
      aux_pwr2_fail: int(0),
      on_fault_mode: int(0),
      overload_alarm: int(0),
      overload_fault: int(0),
      short_fault: int(0),
      syncron_bad: int(0),
    },
  );
  const src = (n: number, bits: Record<string, number>) =>
    point(
      'ats_source',
      { device: 'ats', source: String(n) },
      { voltage_v: 227.3, frequency_hz: 50, voltage_bad: int(0), freq_bad: int(0), wave_bad: int(0), ...Object.fromEntries(Object.entries(bits).map(([k, v]) => [k, int(v)])) },
    );
  const msgs = new Map(atsMessages('pw', [ats, src(2, { active: 0, preferred: 0, wave_bad: 1 }), src(1, { active: 1, preferred: 1 })], new Map()).map((m) => [m.topic, m.payload]));
  assert.equal(msgs.get('pw/ats/supply/src1'), '{"v": 227.3, "hz": 50.0, "active": 1, "preferred": 1, "bad": 0}');
  assert.equal(msgs.get('pw/ats/supply/src2'), '{"v": 227.3, "hz": 50.0, "active": 0, "preferred": 0, "bad": 1}');
  assert.equal(
    msgs.get('pw/ats/status'),
    '{"temp_c": 35.0, "out_a": 2.2, "out_pct": 14.0, "sync_angle": 1.0, "aux_pwr1_fail": 0, "aux_pwr2_fail": 0, "on_fault_mode": 0, "overload_alarm": 0, "overload_fault": 0, "short_fault": 0, "syncron_bad": 0}',
  );
  assert.deepEqual(JSON.parse(msgs.get('pw/alert')!), { ats_src1: 0, ats_src2: 1, ats: 0 });
});

test("compat: the original's outlet command topic and payloads", () => {
  assert.deepEqual(parseCompatCommand('pw', 'pw/pdu/outlet/out6/set', '1'), { verb: 'on', outlet: '6' });
  assert.deepEqual(parseCompatCommand('pw', 'pw/pdu/outlet/out6/set', '0'), { verb: 'off', outlet: '6' });
  assert.deepEqual(parseCompatCommand('pw', 'pw/pdu/outlet/out6/set', 'OFF'), { verb: 'off', outlet: '6' });
  assert.match((parseCompatCommand('pw', 'pw/pdu/outlet/out9/set', '1') as { error: string }).error, /not 1–8/);
  assert.match((parseCompatCommand('pw', 'pw/pdu/outlet/out6/set', 'yes') as { error: string }).error, /not an integer/);
  assert.equal(parseCompatCommand('pw', 'pw/pdu/outlet/out6', '1'), undefined);
});

function loadYaml(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-mqtt-config-'));
  try {
    writeFileSync(join(dir, 'wattline.yaml'), yaml);
    return loadConfig({ drivers, path: join(dir, 'wattline.yaml'), env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('config: the mqtt section with defaults and credentials from the environment', () => {
  const { config } = loadYaml('mqtt:\n  url: mqtts://broker:8883\n  username: ${MQTT_USER}\n  password: ${MQTT_PASSWORD}\n  tls: { ca: ca.pem }\n', { MQTT_USER: 'wl', MQTT_PASSWORD: 's3cret' });
  const m = config.mqtt!;
  assert.deepEqual([m.username, m.password, m.topicPrefix, m.qos, m.retain, m.discovery.prefix, m.compatibility.mode, m.tls?.rejectUnauthorized], ['wl', 's3cret', 'wattline', 0, true, 'homeassistant', 'off', true]);
});

test('config: bad mqtt settings are one line naming the key', () => {
  const fails = (yaml: string, re: RegExp) =>
    assert.throws(
      () => loadYaml(yaml),
      (err: unknown) => err instanceof ConfigError && re.test(err.message) && err.message.split('\n').length === 1,
      yaml,
    );
  fails('mqtt:\n  url: http://broker:1883\n', /mqtt\.url/);
  fails('mqtt:\n  url: mqtt://broker\n  tls: { ca: ca.pem }\n', /mqtt\.tls: tls settings need an mqtts:\/\/ url/);
  fails('mqtt:\n  url: mqtt://broker\n  qos: 3\n', /mqtt\.qos/);
  fails('mqtt:\n  url: mqtt://broker\n  topicPrefix: "a/#"\n', /mqtt\.topicPrefix/);
  fails('mqtt:\n  url: mqtt://broker\n  retian: true\n', /mqtt: unknown key "retian"/);
  fails('mqtt:\n  url: mqtt://broker\n  compatibility: { mode: on }\n', /mqtt\.compatibility\.mode/);
});

test('the commented mqtt block of wattline.example.yaml is valid once uncommented', () => {
  const lines = readFileSync(join(ROOT, 'wattline.example.yaml'), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith('# mqtt:'));
  assert.ok(start >= 0, 'the example has an mqtt block');
  const block: string[] = [];
  for (let i = start; i < lines.length && lines[i]!.startsWith('#'); i++) block.push(lines[i]!.slice(2));
  const { config } = loadYaml(block.join('\n') + '\n', {});
  assert.equal(config.mqtt?.url, 'mqtt://127.0.0.1:1883');
  assert.equal(config.mqtt?.discovery.prefix, 'homeassistant');
});

test('reconnect backoff: from the minimum, doubling to the maximum, back to the minimum after a connection', () => {
  const b = new Backoff(500, 3000);
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [500, 1000, 2000, 3000, 3000]);
  b.reset();
  assert.equal(b.next(), 500);
});

test('client error log: each distinct problem once while it repeats, again after a connection', () => {
  const lines: { msg: string; err: string }[] = [];
  const log = pino({ base: undefined }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const onError = errorLogger(log, 'mqtt client error');
  onError(new Error('connect ECONNREFUSED 127.0.0.1:1'));
  onError(new Error('connect ECONNREFUSED 127.0.0.1:1'));
  onError(new Error('Connection refused: Not authorized'));
  onError(new Error('Connection refused: Not authorized'));
  onError.reset();
  onError(new Error('Connection refused: Not authorized'));
  assert.deepEqual(
    lines.map((l) => [l.msg, l.err]),
    [
      ['mqtt client error', 'connect ECONNREFUSED 127.0.0.1:1'],
      ['mqtt client error', 'Connection refused: Not authorized'],
      ['mqtt client error', 'Connection refused: Not authorized'],
    ],
  );
});
