/**
 * HDHK codec and points. Frames from docs/protocols/hdhk.md §2.2 (the recorded request) and §2.4
 * (the synthetic reply built from the vendor screenshot values, CRC verified there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameError } from '../../src/core/errors.js';
import { IntField } from '../../src/core/point.js';
import { encodePoint } from '../../src/core/line-protocol.js';
import { channelRange, decodeChannels, decodeFirmware, decodeInfo, wordsFromBytes } from '../../src/devices/hdhk/codec.js';
import { hdhkOptionsSchema } from '../../src/devices/hdhk/config.js';
import { phaseSums, unitToPoints } from '../../src/devices/hdhk/points.js';
import { CURRENT } from '../../src/devices/hdhk/tables.js';
import { modbusCrc, withModbusCrc } from '../../src/simulators/hdhk.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// docs/protocols/hdhk.md §2.2: the read the original performs, unit 1, FC03, start 8, count 16.
const REQUEST = hex('01 03 00 08 00 10 C5 C4');
// docs/protocols/hdhk.md §2.4: 11.20 A on a-h, 11.24 A on i-p.
const RESPONSE = hex('01 03 20 04 60 04 60 04 60 04 60 04 60 04 60 04 60 04 60 04 64 04 64 04 64 04 64 04 64 04 64 04 64 04 64 48 41');

test('the recorded request is FC03, start 8, count 16 with a good CRC', () => {
  assert.equal(REQUEST[0], 1);
  assert.equal(REQUEST[1], 3);
  assert.equal(REQUEST.readUInt16BE(2), CURRENT.start);
  assert.equal(REQUEST.readUInt16BE(4), CURRENT.count);
  assert.equal(modbusCrc(REQUEST.subarray(0, 6)), REQUEST.readUInt16LE(6));
  assert.deepEqual(withModbusCrc(hex('01 03 00 00 00 38')), hex('01 03 00 00 00 38 44 18'));
});

test('the vendor reply decodes to 11.20 A and 11.24 A', () => {
  assert.equal(modbusCrc(RESPONSE.subarray(0, -2)), RESPONSE.readUInt16LE(RESPONSE.length - 2));
  assert.equal(RESPONSE[2], 32);
  const words = wordsFromBytes(RESPONSE.subarray(3, 3 + 32));
  const r = decodeChannels(words, () => 0.01);
  assert.equal(r.length, 16);
  assert.deepEqual(
    r.slice(0, 8).map((c) => c.currentA),
    new Array(8).fill(11.2),
  );
  assert.deepEqual(
    r.slice(8).map((c) => c.currentA),
    new Array(8).fill(11.24),
  );
  assert.equal(r[0]!.raw, 1120);
  assert.equal(r[15]!.channel, 16);
});

test('CT ratio per channel and frequency scaling', () => {
  const words = new Array(16).fill(1000);
  const freq = new Array(16).fill(500);
  const r = decodeChannels(words, (ch) => (ch === 3 ? 0.0245 : 0.01), freq);
  assert.equal(r[0]!.currentA, 10);
  assert.equal(r[2]!.currentA, 24.5);
  assert.equal(r[0]!.frequencyHz, 50);
});

test('firmware and ranges from registers 0-2', () => {
  assert.equal(decodeFirmware(628), '6.2.8');
  const info = decodeInfo([628, 40, 20]);
  assert.deepEqual(info, { firmware: '6.2.8', rangeAH: 40, rangeIP: 20 });
  assert.equal(channelRange(info, 8), 40);
  assert.equal(channelRange(info, 9), 20);
});

test('wrong register counts and odd byte counts are FrameErrors', () => {
  assert.throws(() => decodeChannels(new Array(15).fill(0), () => 0.01), FrameError);
  assert.throws(() => decodeInfo([1, 2]), FrameError);
  assert.throws(() => wordsFromBytes(Buffer.from([1, 2, 3])), FrameError);
});

test('points: one series per enabled channel, apparent power with a voltage, phase sums', () => {
  const options = hdhkOptionsSchema.parse({
    units: [
      { id: 1, name: 'kitchen', channels: { '1': { circuit: 'oven', phase: 'L1', voltageV: 230 }, '2': { circuit: 'fridge', phase: 'L1' }, '3': { circuit: 'spare', enabled: false } } },
      { id: 2, channels: { '16': { circuit: 'heat pump', phase: 'L2', voltageV: 230 } } },
    ],
  });
  const words = wordsFromBytes(RESPONSE.subarray(3, 35));
  const pc = { device: 'bus1', tags: { site: 'home' } };
  const r1 = { unit: options.units[0]!, info: decodeInfo([628, 40, 40]), channels: decodeChannels(words, () => 0.01), timeMs: 1_700_000_000_000 };
  const r2 = { unit: options.units[1]!, info: undefined, channels: decodeChannels(words, () => 0.01), timeMs: 1_700_000_000_000 };
  const p1 = unitToPoints(r1, pc);
  assert.equal(p1.length, 2);
  assert.deepEqual(p1[0]!.tags, { site: 'home', device: 'bus1', unit: '1', unit_name: 'kitchen', channel: '1', circuit: 'oven', phase: 'L1' });
  assert.equal(p1[0]!.fields.current_a, 11.2);
  assert.equal(p1[0]!.fields.apparent_power_va, 2576);
  assert.equal(p1[0]!.fields.firmware, '6.2.8');
  assert.ok(p1[0]!.fields.range_a instanceof IntField);
  assert.equal(p1[1]!.fields.apparent_power_va, undefined);
  const p2 = unitToPoints(r2, pc);
  assert.deepEqual(
    p2.map((p) => p.fields.current_a),
    [11.24],
  );
  const sums = phaseSums([r1, r2], pc, r1.timeMs);
  assert.deepEqual(
    sums.map((p) => [p.tags.phase, p.fields.current_a, p.fields.apparent_power_va]),
    [
      ['L1', 22.4, 2576],
      ['L2', 11.24, 2585.2],
    ],
  );
  assert.equal(encodePoint(p1[0]!, 'ns'), 'hdhk,channel=1,circuit=oven,device=bus1,phase=L1,site=home,unit=1,unit_name=kitchen apparent_power_va=2576,current_a=11.2,firmware="6.2.8",range_a=40i 1700000000000000000');
});

test('points: a session context hands the same frozen tags every poll (the encoder keeps their text), per unit config', () => {
  const parse = (circuit: string) => hdhkOptionsSchema.parse({ units: [{ id: 1, channels: { '1': { circuit, phase: 'L1' } } }] }).units[0]!;
  const words = wordsFromBytes(RESPONSE.subarray(3, 35));
  const pc = { device: 'bus1', tags: { site: 'home' } };
  const reading = (unit: ReturnType<typeof parse>, timeMs: number) => ({ unit, info: undefined, channels: decodeChannels(words, () => 0.01), timeMs });
  const oven = parse('oven');
  const first = unitToPoints(reading(oven, 1_700_000_000_000), pc)[0]!;
  const second = unitToPoints(reading(oven, 1_700_000_001_000), pc)[0]!;
  assert.equal(second.tags, first.tags);
  assert.ok(Object.isFrozen(first.tags));
  assert.equal(encodePoint(second, 'ms'), 'hdhk,channel=1,circuit=oven,device=bus1,phase=L1,site=home,unit=1 current_a=11.2 1700000001000');
  // Another config (a reload) or another context (another session): their own tags.
  assert.equal(unitToPoints(reading(parse('hob'), 1_700_000_002_000), pc)[0]!.tags.circuit, 'hob');
  assert.equal(unitToPoints(reading(oven, 1_700_000_002_000), { device: 'bus2', tags: {} })[0]!.tags.device, 'bus2');
  assert.equal(phaseSums([reading(oven, 0)], pc, 0)[0]!.tags, phaseSums([reading(oven, 1000)], pc, 1000)[0]!.tags);
});
