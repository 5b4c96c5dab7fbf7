/**
 * The VE.Bus codec against every frame recorded in docs/protocols/victron-vebus.md §3 (from martiby/multiplus2's
 * docstrings and the author's Venus OS captures; the 5-value snapshot is the synthetic one of
 * §3.6), with the decoded values given there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressRequest,
  buildFrame,
  checksum,
  decodeAcInfo,
  decodeAddress,
  decodeDcInfo,
  decodeLeds,
  decodeRamRead,
  decodeSnapshot,
  decodeSnapshotRaw,
  decodeVarInfo,
  decodeVersion,
  essPowerRequest,
  frequency,
  infoRequest,
  int16,
  ledRequest,
  parseFrame,
  ramReadRequest,
  snapshotRead,
  snapshotTrigger,
  versionRequest,
  winmonCode,
} from '../../src/devices/victron-vebus/codec.js';
import { DEFAULT_VAR_INFO, LETTER_X, SNAPSHOT_IDS, type Letter } from '../../src/devices/victron-vebus/tables.js';

const hex = (s: string) => Buffer.from(s.replaceAll(' ', ''), 'hex');
const frame = (s: string) => parseFrame(hex(s));

test('checksum: the worked example 02 FF 56 → A9, and every recorded frame sums to 0', () => {
  assert.equal(checksum([0x02, 0xff, 0x56]), 0xa9);
  for (const f of [
    '02 FF 56 A9',
    '07 FF 56 24 DB 11 00 42 52',
    '04 FF 41 01 00 BB',
    '02 FF 4C B3',
    '08 FF 4C 01 0C 00 00 80 00 20',
    '08 FF 46 06 0F 10 04 05 0D 78',
    '03 FF 46 01 B7',
    '03 FF 58 38 6E',
    '05 FF 58 30 80 00 F4',
    '07 FF 58 85 90 00 61 59 D3',
    '07 FF 5A 37 00 83 72 01 73',
    '03 FF 5A 87 1D',
    '03 FF 58 87 1F',
    '0F 20 01 01 01 09 08 EC 5A 5F FF EC 5A 08 00 C3 08',
    '09 FF 58 99 89 FE 05 00 72 01 08',
    '0B FF 58 99 FF FF FF FF 1C 13 00 00 DA',
    '0D FF 58 99 8E FE 78 00 6E 14 B9 FF B4 00 11',
  ]) {
    assert.equal(checksum(hex(f)), 0, f);
    assert.deepEqual(parseFrame(hex(f)).raw, hex(f));
  }
});

test('requests: byte for byte the recorded TX frames (§3.4)', () => {
  assert.deepEqual(versionRequest(), hex('02 FF 56 A9'));
  assert.deepEqual(addressRequest(0), hex('04 FF 41 01 00 BB'));
  assert.deepEqual(ledRequest(), hex('02 FF 4C B3'));
  assert.deepEqual(snapshotTrigger(SNAPSHOT_IDS), hex('08 FF 46 06 0F 10 04 05 0D 78'));
  assert.deepEqual(infoRequest(1), hex('03 FF 46 01 B7'));
  assert.deepEqual(snapshotRead(LETTER_X), hex('03 FF 58 38 6E'));
  assert.deepEqual(ramReadRequest(LETTER_X, 128, 0), hex('05 FF 58 30 80 00 F4'));
});

test('ESS set-point writes for 500, −200 and 0 W to RAM id 131: RAM only (flag 0x02), the negated value (§3.4)', () => {
  assert.deepEqual(essPowerRequest(LETTER_X, 131, 500), hex('07 FF 58 37 02 83 0C FE DC'));
  assert.deepEqual(essPowerRequest(LETTER_X, 131, -200), hex('07 FF 58 37 02 83 C8 00 1E'));
  assert.deepEqual(essPowerRequest(LETTER_X, 131, 0), hex('07 FF 58 37 02 83 00 00 E6'));
  assert.throws(() => essPowerRequest(LETTER_X, 131, 1.5), RangeError);
  assert.throws(() => essPowerRequest(LETTER_X, 131, 40000), RangeError);
});

test('write replies: 0x87 from X (own command) and Z (the Venus OS capture)', () => {
  assert.equal(winmonCode(frame('03 FF 58 87 1F')), 0x87);
  assert.equal(winmonCode(frame('03 FF 5A 87 1D')), 0x87);
  // The Venus OS write itself: Z, flags 0, id 131, value 370.
  const venus = frame('07 FF 5A 37 00 83 72 01 73');
  assert.equal(venus.payload[1], 0x5a);
  assert.equal(venus.payload.readUInt16LE(5), 370);
  assert.deepEqual(buildFrame([0xff, 0x5a as Letter, 0x37, 0x00, 0x83, 0x72, 0x01]), venus.raw);
});

test('version 07 FF 56 24 DB 11 00 42 52 → 1170212, mode B; address reply → 0', () => {
  assert.deepEqual(decodeVersion(frame('07 FF 56 24 DB 11 00 42 52')), { version: 1170212, mode: 'B' });
  assert.equal(decodeAddress(frame('04 FF 41 01 00 BB')), 0);
  assert.throws(() => decodeAddress(frame('02 FF 56 A9')), /not a address reply/);
});

test('LEDs 08 FF 4C 01 0C … → on = mains, blink = bulk + float', () => {
  assert.deepEqual(decodeLeds(frame('08 FF 4C 01 0C 00 00 80 00 20')), { on: 0x01, blink: 0x0c });
});

test('AC info L1: factors 1/1, state 9, 1 phase, mains 232.76 V / −1.61 A (signed), inverter 232.76 V / 0.08 A, period 195', () => {
  const ac = decodeAcInfo(frame('0F 20 01 01 01 09 08 EC 5A 5F FF EC 5A 08 00 C3 08'));
  assert.equal(ac.mainsFactor, 1);
  assert.equal(ac.inverterFactor, 1);
  assert.equal(ac.state, 9);
  assert.equal(ac.phase, 1);
  assert.equal(ac.phases, 1);
  assert.equal(ac.mainsV, 232.76);
  assert.equal(ac.mainsA, -1.61);
  assert.equal(ac.inverterV, 232.76);
  assert.equal(ac.inverterA, 0.08);
  assert.equal(ac.mainsPeriod, 195);
  // 10 / (195 / 977) with the bench unit's period scale [ext].
  assert.equal(ac.mainsHz, 50.1);
});

test('AC info is scaled by the RAM-variable info (0x36), not a fixed /100', () => {
  const infos = { ...DEFAULT_VAR_INFO, 0: { scale: 0.1, signed: false, offset: 0 }, 1: { scale: 0.1, signed: true, offset: 0 } };
  const ac = decodeAcInfo(frame('0F 20 01 01 01 09 08 EC 5A 5F FF EC 5A 08 00 C3 08'), infos);
  assert.equal(ac.mainsV, 2327.6);
  assert.equal(ac.mainsA, -16.1);
  // The factor multiplies the current: byte 2 = 3.
  const f = buildFrame([0x20, 0x03, 0x01, 0x01, 0x09, 0x08, 0xec, 0x5a, 0x5f, 0xff, 0xec, 0x5a, 0x08, 0x00, 0xc3]);
  assert.equal(decodeAcInfo(parseFrame(f)).mainsA, -4.83);
});

test('AC info of L2 and a DC info frame (layout [ext])', () => {
  const l2 = decodeAcInfo(parseFrame(buildFrame([0x20, 1, 1, 1, 8, 0x07, 0xe8, 0x5a, 0x64, 0x00, 0xe8, 0x5a, 0, 0, 0xc3])));
  assert.equal(l2.phase, 2);
  assert.equal(l2.phases, undefined);
  assert.equal(l2.mainsA, 1);
  // UBat 52.30 V, 7.1 A into the inverter, 0 A from the charger, inverter period 135 (+256) / 1953.
  const dc = decodeDcInfo(parseFrame(buildFrame([0x20, 1, 1, 1, 9, 0x0c, 0x6e, 0x14, 71, 0, 0, 0, 0, 0, 135])));
  assert.deepEqual(dc, { batteryV: 52.3, inverterA: 7.1, chargerA: 0, inverterPeriod: 135, inverterHz: 49.95 });
  assert.throws(() => decodeDcInfo(frame('0F 20 01 01 01 09 08 EC 5A 5F FF EC 5A 08 00 C3 08')), /not a DC info frame/);
});

test('snapshot replies with 3, 4 and 5 values (§3.6)', () => {
  assert.deepEqual(decodeSnapshotRaw(frame('09 FF 58 99 89 FE 05 00 72 01 08')).map(int16), [-375, 5, 370]);
  assert.deepEqual(decodeSnapshotRaw(frame('0B FF 58 99 FF FF FF FF 1C 13 00 00 DA')).map(int16), [-1, -1, 4892, 0]);
  const five = decodeSnapshot(frame('0D FF 58 99 8E FE 78 00 6E 14 B9 FF B4 00 11'), SNAPSHOT_IDS);
  // inv_p = −raw15 = 370, out_p 120, bat_u 52.30, bat_i −7.1, soc 90.0 (= 0.9 × 100)
  assert.equal(-five.get(15)!, 370);
  assert.equal(five.get(16), 120);
  assert.equal(five.get(4), 52.3);
  assert.equal(Math.round(five.get(5)! * 10) / 10, -7.1);
  assert.equal(Math.round(five.get(4)! * five.get(5)!), -371);
  assert.equal(Math.round(five.get(13)! * 1000) / 10, 90);
  assert.throws(() => decodeSnapshot(frame('09 FF 58 99 89 FE 05 00 72 01 08'), SNAPSHOT_IDS), /3 values for 5 ids/);
  assert.throws(() => decodeSnapshotRaw(frame('03 FF 58 87 1F')), /expected 0x99/);
});

test('scan replies: 128 = 0x0090 with the mains voltage 228.81 V as the second value; 0x90 = not supported', () => {
  assert.deepEqual(decodeRamRead(frame('07 FF 58 85 90 00 61 59 D3')), [0x0090, 22881]);
  assert.equal(decodeRamRead(parseFrame(buildFrame([0xff, 0x58, 0x90]))), undefined);
  // The recorded scan: 129 = 0x8800, 130 = 0x0054 (ESS, 4 ids follow) → set-point at 131.
  const ess = decodeRamRead(parseFrame(buildFrame([0xff, 0x58, 0x85, 0x54, 0x00, 0x61, 0x59])))!;
  assert.equal(ess[0] & 0xfff0, 0x0050);
  assert.equal(ess[0] & 0x0f, 4);
});

test('RAM-variable info (0x36): reciprocal, signed and offset scales, bit variables, unsupported', () => {
  const info = (scale: number, offset: number) => decodeVarInfo(parseFrame(buildFrame([0xff, 0x58, 0x8e, scale & 0xff, scale >> 8, 0x8f, offset & 0xff, offset >> 8])));
  assert.deepEqual(info(0x7f9c, 0), { scale: 1 / 100, signed: false, offset: 0 });
  assert.deepEqual(info(0x10000 - 0x7ff6, 0), { scale: 1 / 10, signed: true, offset: 0 });
  assert.deepEqual(info(0x785f, 256), { scale: 1 / 1953, signed: false, offset: 256 });
  assert.deepEqual(info(0xffff, 0xfff6), { scale: 1, signed: true, offset: -10 });
  assert.deepEqual(info(0x0005, 0x8000), { scale: 1, signed: false, offset: 0, bit: 4 });
  assert.equal(info(0, 0), undefined);
  assert.equal(decodeVarInfo(parseFrame(buildFrame([0xff, 0x58, 0x90]))), undefined);
  assert.equal(frequency(0, DEFAULT_VAR_INFO[8]!), undefined);
});

test('parseFrame: bad checksum, wrong length, and the LED bit in len (two LED bytes before the checksum)', () => {
  assert.throws(() => frame('02 FF 56 AA'), /bad checksum/);
  assert.throws(() => frame('05 FF 56 A9'), /means 7 bytes, got 4/);
  const body = [0x82, 0xff, 0x56, 0x05, 0x09];
  const sum = body.reduce((a, b) => a + b, 0);
  const f = parseFrame(Buffer.from([...body, (256 - (sum & 0xff)) & 0xff]));
  assert.deepEqual(f.leds, { on: 0x05, blink: 0x09 });
  assert.deepEqual([...f.payload], [0xff, 0x56]);
});
