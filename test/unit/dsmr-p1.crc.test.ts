import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { crc16arc, formatCrc } from '../../src/devices/dsmr-p1/framer-crc.js';
import { simCrc16 } from '../../src/simulators/dsmr-p1.js';
import { fixture } from '../helpers/paths.js';

const ascii = (s: string) => Buffer.from(s, 'latin1');

test('CRC-16/ARC check value: "123456789" -> BB3D (docs/protocols/dsmr-p1.md §5.3)', () => {
  assert.equal(crc16arc(ascii('123456789')), 0xbb3d);
});

test('CRC-16/ARC of "/" alone -> DC41 (the worked example in docs/protocols/dsmr-p1.md §5.3)', () => {
  assert.equal(crc16arc(ascii('/')), 0xdc41);
});

test('CRC of nothing is the initial value 0', () => {
  assert.equal(crc16arc(Buffer.alloc(0)), 0);
});

test('a range and a continued CRC give the same result as one pass', () => {
  const b = ascii('xx123456789yy');
  assert.equal(crc16arc(b, 2, 11), 0xbb3d);
  assert.equal(crc16arc(b, 6, 11, crc16arc(b, 2, 6)), 0xbb3d);
});

test('real telegrams: CRC over "/" .. "!" equals the CRC they carry', () => {
  // Captures: see test/fixtures/dsmr-p1/SOURCES.md.
  for (const [name, crc] of [
    ['t211-se-7945', 0x7945],
    ['t211-se-57b6', 0x57b6],
    ['t211-se-2b41', 0x2b41],
    ['dsmr5-nl', 0x6eee],
    ['fluvius-be-v171', 0x3ad7],
    ['smarty-lu', 0x80f6],
    ['warmtelink-unpadded-crc', 0x0b9f],
  ] as const) {
    const t = readFileSync(fixture('dsmr-p1', name, 'telegram.txt'));
    const bang = t.indexOf('!');
    assert.equal(crc16arc(t, 0, bang + 1), crc, name);
  }
});

test('formatCrc pads to 4 upper-case hex digits', () => {
  assert.equal(formatCrc(0x0b9f), '0B9F');
  assert.equal(formatCrc(0x6eee), '6EEE');
  assert.equal(formatCrc(0), '0000');
});

test("the table matches the bit-by-bit definition (the simulator's own CRC) on random bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => crc16arc(bytes) === simCrc16(bytes)),
    { numRuns: 300 },
  );
});
