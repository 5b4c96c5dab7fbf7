/**
 * decodeCapture of the existing drivers (docs/capture.md) on hand-built records: the timestamp rule
 * (a poll's points at its first record's time; P1 at the record's time or the meter clock),
 * damaged records named, the rest still decoded. Frames are built here with an own
 * CRC-16/MODBUS, not the driver's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { systemClock } from '../../src/core/clock.js';
import { groupRecords, type ReplayRecord } from '../../src/backfill/replay.js';
import { dsmrP1Driver } from '../../src/devices/dsmr-p1/index.js';
import { hdhkDriver } from '../../src/devices/hdhk/index.js';
import { nutUpsDriver } from '../../src/devices/nut-ups/index.js';
import type { CaptureRecord, Driver } from '../../src/devices/types.js';
import { fixture } from '../helpers/paths.js';

const ctxFor = <O>(driver: Driver<O>, options: unknown) => ({ device: 'dev', options: driver.options.parse(options), tags: { site: 'home' }, clock: systemClock });

test('dsmr-p1: a telegram record at its own time, or at the meter clock; a damaged record is named', () => {
  const text = readFileSync(fixture('dsmr-p1', 'dsmr5-nl', 'telegram.txt'));
  const rec: CaptureRecord = { timeMs: 1_483_381_202_123, direction: 'rx', data: text };
  const arrival = dsmrP1Driver.decodeCapture!([rec], ctxFor(dsmrP1Driver, {}));
  assert.deepEqual(arrival.errors, []);
  assert.ok(arrival.points.length >= 1);
  const p1 = arrival.points.find((p) => p.measurement === 'p1')!;
  assert.equal(p1.time, 1_483_381_202_123n * 1_000_000n); // arrival 123 ms after the meter clock (within its window)
  assert.equal(p1.tags.site, 'home');
  const meter = dsmrP1Driver.decodeCapture!([rec], ctxFor(dsmrP1Driver, { timestamps: 'meter' }));
  assert.equal(meter.points.find((p) => p.measurement === 'p1')!.time, 1_483_381_202_000_000_000n, 'the meter clock of the fixture (expected.lp)');

  const damaged = Buffer.from(text);
  damaged[damaged.indexOf('1-0:1.8.1(') + 12] ^= 0x01; // one digit of a reading
  const bad = dsmrP1Driver.decodeCapture!([{ ...rec, data: damaged }], ctxFor(dsmrP1Driver, {}));
  assert.deepEqual(bad.points, []);
  assert.match(bad.errors.join('\n'), /CRC mismatch/);
});

function crc16modbus(b: number[]): number[] {
  let crc = 0xffff;
  for (const x of b) {
    crc ^= x;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return [crc & 0xff, crc >> 8];
}
const frame = (...bytes: number[]) => Buffer.from([...bytes, ...crc16modbus(bytes)]);
const request = (unit: number, start: number, count: number) => frame(unit, 3, start >> 8, start & 0xff, count >> 8, count & 0xff);
const reply = (unit: number, words: number[]) => frame(unit, 3, words.length * 2, ...words.flatMap((w) => [w >> 8, w & 0xff]));

test('hdhk: one poll at its first record time; info remembered for later polls; a bad CRC names its record', () => {
  const options = {
    units: [
      { id: 1, channels: { '1': { circuit: 'oven', phase: 'L1' } } },
      { id: 2, channels: { '3': { circuit: 'garage', phase: 'L1' } } },
    ],
  };
  const ctx = ctxFor(hdhkDriver, options);
  const currents = (base: number) => Array.from({ length: 16 }, (_, i) => base + i);
  const bad = reply(2, currents(500));
  bad[5] ^= 0xff;
  const poll1: CaptureRecord[] = [
    { timeMs: 1000, direction: 'tx', data: request(1, 0, 3) },
    { timeMs: 1010, direction: 'rx', data: reply(1, [628, 5, 20]) },
    { timeMs: 1030, direction: 'tx', data: request(1, 8, 16) },
    { timeMs: 1040, direction: 'rx', data: reply(1, currents(100)) },
    { timeMs: 1060, direction: 'tx', data: request(2, 8, 16) },
    { timeMs: 1070, direction: 'rx', data: bad },
  ];
  const r1 = hdhkDriver.decodeCapture!(poll1, ctx);
  assert.equal(r1.errors.length, 1);
  assert.match(r1.errors[0]!, /^record 6 \(rx 0203.*\): bad CRC$/);
  const oven = r1.points.find((p) => p.tags.circuit === 'oven')!;
  assert.equal(oven.time, 1000n * 1_000_000n, "the poll's first record");
  assert.equal(oven.fields.current_a, 1); // 100 counts × 0.01 A
  assert.equal(oven.fields.firmware, '6.2.8');
  assert.ok(r1.points.some((p) => p.measurement === 'hdhk_phase' && p.time === 1000n * 1_000_000n));
  assert.ok(!r1.points.some((p) => p.tags.circuit === 'garage'));

  const poll2: CaptureRecord[] = [
    { timeMs: 2000, direction: 'tx', data: request(1, 8, 16) },
    { timeMs: 2010, direction: 'rx', data: reply(1, currents(200)) },
    { timeMs: 2030, direction: 'tx', data: request(2, 8, 16) },
  ];
  const r2 = hdhkDriver.decodeCapture!(poll2, ctx);
  assert.deepEqual(r2.errors, ['unit 2, registers 8-23: no reply in the capture']);
  const oven2 = r2.points.find((p) => p.tags.circuit === 'oven')!;
  assert.equal(oven2.time, 2000n * 1_000_000n);
  assert.equal(oven2.fields.firmware, '6.2.8', 'registers 0-2 of the earlier poll, same decode run');

  const changed = hdhkDriver.decodeCapture!(poll2, ctxFor(hdhkDriver, { units: [{ id: 1, ctRatio: 0.02, channels: { '1': { circuit: 'oven' } } }] }));
  assert.equal(changed.points.find((p) => p.tags.circuit === 'oven')!.fields.current_a, 4, 'the current ctRatio applies to old captures');
});

test('nut-ups: the LIST VAR reply, reassembled from chunks, at the first record time', () => {
  const ctx = ctxFor(nutUpsDriver, { ups: 'demo' });
  const records: CaptureRecord[] = [
    { timeMs: 5000, direction: 'tx', data: Buffer.from('LIST VAR demo\n') },
    { timeMs: 5003, direction: 'rx', data: Buffer.from('BEGIN LIST VAR demo\nVAR demo battery.charge "9') },
    { timeMs: 5004, direction: 'rx', data: Buffer.from('7"\nVAR demo ups.status "OL"\nEND LIST VAR demo\n') },
  ];
  const r = nutUpsDriver.decodeCapture!(records, ctx);
  assert.deepEqual(r.errors, []);
  assert.equal(r.points.length, 1);
  assert.equal(r.points[0]!.time, 5000n * 1_000_000n);
  assert.equal(r.points[0]!.fields.battery_charge_pct, 97);
  const other = nutUpsDriver.decodeCapture!(records, ctxFor(nutUpsDriver, { ups: 'other' }));
  assert.deepEqual(other.points, []);
  assert.match(other.errors[0]!, /no "LIST VAR other" in the poll/);
});

test('grouping: a poll driver gets one cycle per call, a stream driver one record per call', () => {
  const rec = (cycle: number | null, position: number): ReplayRecord => ({ timeMs: position, direction: 'rx', data: Buffer.alloc(1), cycle, position, where: `f:${position}` });
  const records = [rec(7, 1), rec(7, 2), rec(8, 3), rec(8, 4), rec(8, 5), rec(null, 6), rec(null, 7)];
  assert.deepEqual(
    [...groupRecords(hdhkDriver, records)].map((g) => [g.records.map((r) => r.position), g.position, g.where]),
    [
      [[1, 2], 2, 'f:1…2'],
      [[3, 4, 5], 5, 'f:3…5'],
      [[6], 6, 'f:6'],
      [[7], 7, 'f:7'],
    ],
  );
  assert.equal([...groupRecords(dsmrP1Driver, records)].length, 7);
});
