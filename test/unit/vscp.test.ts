/**
 * The VSCP output of the P1 meter (issue: vscp-python-p1-power-meter's events): the author's own
 * T211 telegram (test/fixtures/vscp, CRC 6437) through the real dsmr-p1 framer into the VSCP
 * encoder gives, in the compat profile, the events docs/protocols/vscp.md §3.9-3.10 lists, and in
 * the fixed profile §8's types, units and scaling; node-vscp, an independent decoder, reads every
 * event back to the telegram's values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeTelegram } from '../../src/devices/dsmr-p1/codec.js';
import { P1Framer } from '../../src/devices/dsmr-p1/framer.js';
import { vscpSchema, type VscpConfig } from '../../src/vscp/config.js';
import { guidFromMac, parseGuid, pythonFloat, shiftDecimal } from '../../src/vscp/event.js';
import { meterValues, planReadings, VscpEncoder, type VscpMessage } from '../../src/vscp/p1.js';
import { ROOT } from '../helpers/paths.js';

const require = createRequire(import.meta.url);
const vscp = require('node-vscp') as {
  Event: new (o: unknown) => { vscpClass: number; vscpType: number; vscpData: number[]; vscpGuid: string };
  getMeasurementData(e: unknown): { unit: number; sensorindex: number; zone: number; subzone: number; value: number };
  getNodeId(guid: string): number;
  isDumbNode(head: number): boolean;
  getPriority(head: number): number;
};

const FIXTURES = join(ROOT, 'test', 'fixtures', 'vscp');
const telegramBytes = readFileSync(join(FIXTURES, 'hanp1-6437.telegram.txt'));
const golden = JSON.parse(readFileSync(join(FIXTURES, 'hanp1-6437.compat.json'), 'utf8')) as {
  rows: { obis: string; meterText: string; sentText: string; type: number; unit: number; sensorIndex: number; guidTail: string; value: string; data: number[] }[];
};
/** The MAC of the author's Raspberry Pi, from the original's screenshot (§3.4). */
const MAC = 'b8:27:eb:8b:57:15';
const GUID = guidFromMac(MAC) as number[];
const TIMES = { readingMs: Date.UTC(2023, 5, 14, 20, 5, 48), nowMs: Date.UTC(2023, 5, 14, 20, 5, 48, 715) };

/** The telegram as the dsmr-p1 framer hands it over: CRC checked. */
function framedTelegram(): string {
  const events = new P1Framer().feed(telegramBytes);
  assert.equal(events.length, 1);
  const ev = events[0]!;
  assert.equal(ev.kind, 'telegram', JSON.stringify(ev));
  assert.equal((ev as { crc: number }).crc, 0x6437);
  return (ev as { text: string }).text;
}

function publish(config: Partial<VscpConfig>): VscpMessage[] {
  return new VscpEncoder(vscpSchema.parse(config), GUID).messages(meterValues(framedTelegram()), TIMES);
}

test('compat: every reading of the 6437 telegram is the event vscp.md §3.10 lists, in telegram order', () => {
  const messages = publish({ profile: 'compat' });
  assert.equal(messages.length, golden.rows.length);
  golden.rows.forEach((row, i) => {
    const m = messages[i]!;
    assert.equal(m.topic, `vscp/FF:FF:FF:FF:FF:FF:FF:FE:B8:27:EB:8B:57:15:${row.guidTail}/1040/${row.type}`, row.obis);
    assert.equal(m.qos, 0);
    assert.equal(m.retain, false);
    const p = JSON.parse(m.payload) as { vscpData: number[]; vscpType: number; measurement: { unit: number; sensorindex: number } };
    assert.deepEqual(p.vscpData, row.data, row.obis);
    assert.equal(p.vscpType, row.type);
    assert.equal(p.measurement.unit, 1, 'the original hard-codes 1');
    assert.equal(p.measurement.sensorindex, row.sensorIndex);
    // Python's float repr: `0.0`, `2.0`, `1090.59`.
    assert.ok(m.payload.includes(`"measurement": {"value": ${row.value.includes('.') ? row.value : `${row.value}.0`}, `), `${row.obis}: ${m.payload}`);
  });
});

test('compat: the two worked examples of §3.9, byte for byte (but for the clock fields)', () => {
  const messages = publish({ profile: 'compat' });
  const byTopic = (t: string) => messages.find((m) => m.topic === t)!.payload;
  const stamp = TIMES.nowMs % 2 ** 32;
  assert.equal(
    byTopic('vscp/FF:FF:FF:FF:FF:FF:FF:FE:B8:27:EB:8B:57:15:00:15/1040/16'),
    `{"vscpHead": 32864, "vscpObId": 0, "vscpDateTime": "2023-06-14T20:05:48Z", "vscpTimeStamp": ${stamp}, "vscpClass": 1040, "vscpType": 16, "vscpGuid": "FF:FF:FF:FF:FF:FF:FF:FE:B8:27:EB:8B:57:15:00:15", "vscpData": [21, 0, 0, 0, 50, 51, 55, 46, 53, 0], "vscpNote": "Voltage L1", "measurement": {"value": 237.5, "unit": 1, "sensorindex": 21, "zone": 0, "subzone": 0}}`,
  );
  assert.equal(
    byTopic('vscp/FF:FF:FF:FF:FF:FF:FF:FE:B8:27:EB:8B:57:15:00:01/1040/13'),
    `{"vscpHead": 32864, "vscpObId": 0, "vscpDateTime": "2023-06-14T20:05:48Z", "vscpTimeStamp": ${stamp}, "vscpClass": 1040, "vscpType": 13, "vscpGuid": "FF:FF:FF:FF:FF:FF:FF:FE:B8:27:EB:8B:57:15:00:01", "vscpData": [1, 0, 0, 1, 48, 48, 52, 48, 54, 52, 57, 46, 50, 52, 54, 0], "vscpNote": "Meter reading active energy out", "measurement": {"value": 40649.246, "unit": 1, "sensorindex": 1, "zone": 0, "subzone": 0}}`,
  );
});

const FIXED: Record<string, [number, number, string]> = {
  // OBIS → type, unit byte, value text (§8: the meter's digits, the point moved for kW→W, kvar→VAr)
  '1-0:1.8.0': [13, 1, '40649.246'],
  '1-0:3.8.0': [65, 0, '1090.590'],
  '1-0:4.8.0': [65, 0, '3597.232'],
  '1-0:1.7.0': [14, 0, '1037'],
  '1-0:2.7.0': [14, 0, '0'],
  '1-0:4.7.0': [64, 0, '775'],
  '1-0:44.7.0': [64, 0, '101'],
  '1-0:23.7.0': [64, 0, '217'],
  '1-0:32.7.0': [16, 0, '237.5'],
  '1-0:71.7.0': [5, 0, '3.0'],
};

test("fixed: VSCP's types and units, kW and kvar as W and VAr by moving the meter's decimal point, measurement.unit = data[3]", () => {
  const messages = publish({});
  assert.equal(messages.length, 26);
  const values = meterValues(framedTelegram());
  for (const [obis, [type, unit, text]] of Object.entries(FIXED)) {
    const i = values.findIndex((v) => v.reading.obis === obis);
    const p = JSON.parse(messages[i]!.payload) as { vscpType: number; vscpData: number[]; vscpDateTime: string; measurement: { unit: number; sensorindex: number } };
    assert.equal(p.vscpType, type, obis);
    assert.equal(p.vscpData[3], unit, obis);
    assert.equal(p.measurement.unit, unit, obis);
    assert.equal(p.measurement.sensorindex, 0, "the original code's default");
    assert.equal(Buffer.from(p.vscpData.slice(4, -1)).toString('ascii'), text, obis);
    assert.equal(p.vscpDateTime, '2023-06-14T20:05:48Z', 'the reading time');
  }
});

test('fixed: every value equals what the real dsmr-p1 decoder reads from the same telegram (in W, VAr, kWh, kVArh, V, A)', () => {
  const telegram = decodeTelegram(framedTelegram(), { timezone: 'Europe/Stockholm' });
  const messages = publish({});
  const values = meterValues(framedTelegram());
  values.forEach((v, i) => {
    const decoded = telegram.values.find((x) => x.code === v.reading.obis);
    assert.ok(decoded, `the decoder reads ${v.reading.obis}`);
    const data = (JSON.parse(messages[i]!.payload) as { vscpData: number[] }).vscpData;
    assert.equal(Number(Buffer.from(data.slice(4, -1)).toString('ascii')), decoded.value, v.reading.obis);
  });
});

test('node-vscp, an independent decoder, reads every event back: class, type, unit, sensor index, zone, subzone, node id and value', () => {
  for (const profile of ['compat', 'fixed'] as const) {
    const config = { profile, zone: 3, subzone: 250 };
    const messages = publish(config);
    const plans = planReadings(vscpSchema.parse(config));
    const values = meterValues(framedTelegram());
    messages.forEach((m, i) => {
      const obj = JSON.parse(m.payload) as Record<string, unknown> & { vscpHead: number };
      const ev = new vscp.Event(obj);
      const got = vscp.getMeasurementData(ev);
      const reading = values[i]!.reading;
      const plan = plans.get(reading.name)!;
      assert.equal(ev.vscpClass, 1040);
      assert.equal(ev.vscpType, profile === 'compat' ? reading.compat.type : reading.fixed.type);
      assert.equal(got.unit, profile === 'compat' ? reading.compat.unit : reading.fixed.unit);
      assert.equal(got.sensorindex, plan.sensorIndex);
      assert.equal(got.zone, 3);
      assert.equal(got.subzone, 250);
      assert.equal(vscp.getNodeId(ev.vscpGuid), reading.id);
      assert.ok(vscp.isDumbNode(obj.vscpHead));
      assert.equal(vscp.getPriority(obj.vscpHead), 3);
      const meter = Number(values[i]!.text);
      const scale = profile === 'fixed' ? 10 ** reading.fixed.shift : 1;
      assert.ok(Math.abs(got.value - meter * scale) < 1e-9 * Math.max(1, meter * scale), `${profile} ${reading.obis}: ${got.value} vs ${meter * scale}`);
    });
  }
});

test('plain (the original no_vscp): the note is the topic, the meter value text the payload; switches and per-reading overrides apply', () => {
  const messages = publish({ profile: 'plain', sendVoltage: false, readings: { current_l1: { note: 'meter/current/l1' }, sum_active_energy_in: { send: false } } });
  assert.equal(messages.length, 26 - 3 - 1);
  assert.deepEqual(messages[0], { topic: 'Meter reading active energy out', payload: '00040649.246', qos: 0, retain: false });
  assert.ok(!messages.some((m) => m.topic.startsWith('Voltage')));
  assert.ok(!messages.some((m) => m.topic === 'Meter reading active energy in'));
  assert.deepEqual(
    messages.find((m) => m.topic === 'meter/current/l1'),
    { topic: 'meter/current/l1', payload: '002.0', qos: 0, retain: false },
  );
});

test("a configured GUID and topic template: the last two bytes become each reading's id", () => {
  const c = vscpSchema.parse({ guid: '01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:FF:FF', topic: 'home/{xclass}/{xtype}/{xguid}', readings: { voltage_l1: { id: 0x1234 } } });
  const guid = parseGuid(c.guid!) as number[];
  const messages = new VscpEncoder(c, guid).messages(meterValues(framedTelegram()), TIMES);
  assert.ok(messages.some((m) => m.topic === 'home/1040/16/01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:12:34'));
});

test('a telegram without the readings, or with values that are not numbers, publishes only what it can read', () => {
  const c = vscpSchema.parse({ profile: 'compat' });
  const text = '/XMX5\r\n\r\n1-0:1.8.0(*kWh)\r\n1-0:32.7.0(abc*V)\r\n1-0:31.7.0(001.5*A)\r\n!0000\r\n';
  const messages = new VscpEncoder(c, GUID).messages(meterValues(text), TIMES);
  assert.deepEqual(
    messages.map((m) => m.topic.split('/').pop()),
    ['5'],
  );
});

test('bad VSCP settings: one message each, naming the place', () => {
  const cases: [unknown, string, string][] = [
    [{ guid: 'FF:FF:FF' }, 'guid', '16 bytes'],
    [{ guid: 'FF:FF:FF:FF:FF:FF:FF:FE:B8:27:EB:8B:57:15:00:ZZ' }, 'guid', 'two hex digits'],
    [{ topic: 'vscp/{guid}/{xclass}' }, 'topic', 'unknown placeholder {guid}'],
    [{ readings: { voltage_l1: { sensorIndex: 8 } } }, 'readings.voltage_l1.sensorIndex', '0-7'],
    [{ zone: 256 }, 'zone', ''],
    [{ subzone: -1 }, 'subzone', ''],
    [{ readings: { current_l2: { id: 65_536 } } }, 'readings.current_l2.id', ''],
    [{ readings: { voltage_l4: { id: 1 } } }, 'readings', 'voltage_l4'],
    [{ profile: 'plain', readings: { voltage_l1: { note: 'a/#' } } }, 'readings.voltage_l1.note', 'no # or +'],
  ];
  for (const [input, path, words] of cases) {
    const r = vscpSchema.safeParse(input);
    assert.equal(r.success, false, JSON.stringify(input));
    const issue = r.error!.issues[0]!;
    assert.equal(issue.path.join('.'), path, JSON.stringify(input));
    assert.ok(issue.message.includes(words), `${issue.message} should say ${words}`);
  }
  assert.equal(vscpSchema.safeParse({ profile: 'compat', readings: { voltage_l1: { sensorIndex: 21 } } }).success, true, 'compat keeps the original 0-255');
});

test("shiftDecimal moves the meter's own digits; pythonFloat writes what Python's repr writes", () => {
  assert.equal(shiftDecimal('0001.037', 3), '1037');
  assert.equal(shiftDecimal('0000.000', 3), '0');
  assert.equal(shiftDecimal('-0001.5', 3), '-1500');
  assert.equal(shiftDecimal('12', 3), '12000');
  assert.equal(shiftDecimal('0000.4245', 3), '424.5');
  assert.equal(shiftDecimal('002.0', 0), '2.0');
  assert.equal(shiftDecimal('.5', 0), '0.5');
  assert.equal(shiftDecimal('1.2.3', 0), undefined);
  assert.equal(shiftDecimal('', 0), undefined);
  for (const [x, py] of [
    [2, '2.0'],
    [0, '0.0'],
    [1090.59, '1090.59'],
    [1e-5, '1e-05'],
    [1.5e16, '1.5e+16'],
    [123456789012345680, '1.2345678901234568e+17'],
    [0.0001, '0.0001'],
    [-3, '-3.0'],
  ] as const) {
    assert.equal(pythonFloat(x), py);
  }
  // Property: moving the point by k places is the decimal value times 10^k, whatever the padding.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 3 }), (digits, decimals, pad, k) => {
      const body = String(digits).padStart(decimals + 1, '0');
      const text = '0'.repeat(pad) + (decimals ? `${body.slice(0, -decimals)}.${body.slice(-decimals)}` : body);
      const shifted = shiftDecimal(text, k)!;
      return Math.abs(Number(shifted) - digits * 10 ** (k - decimals)) <= 1e-9 * Math.max(1, Number(shifted)) && !/^0\d/.test(shifted);
    }),
    { numRuns: 500 },
  );
});
