/**
 * The pure Modbus framing of the lean HDHK client (src/devices/hdhk/framer.ts), against the
 * frames docs/protocols/hdhk.md §2.2–§2.4 verified (the recorded request, the CRC worked example, the
 * synthetic vendor reply, the exception example) and the MBAP header of the Modbus TCP
 * implementation guide v1.0b §3.1.3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc16, crcOk, decodeReadReply, exceptionName, mbapFrameLength, readRequestMbap, readRequestRtu, rtuFrame, rtuReadReplyLength } from '../../src/devices/hdhk/framer.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const RESPONSE = hex('01 03 20 04 60 04 60 04 60 04 60 04 60 04 60 04 60 04 60 04 64 04 64 04 64 04 64 04 64 04 64 04 64 04 64 48 41');

test('RTU request and CRC: the recorded read and the worked example', () => {
  assert.deepEqual(readRequestRtu(1, 8, 16), hex('01 03 00 08 00 10 C5 C4'));
  assert.deepEqual(readRequestRtu(1, 0, 0x38), hex('01 03 00 00 00 38 44 18'));
  assert.equal(crc16(hex('01 03 00 00 00 38')), 0x1844);
  assert.ok(crcOk(RESPONSE));
  assert.ok(crcOk(hex('01 83 02 C0 F1')));
  const bad = Buffer.from(RESPONSE);
  bad[10] ^= 1;
  assert.equal(crcOk(bad), false);
  assert.deepEqual(rtuFrame(hex('01 83 02')), hex('01 83 02 C0 F1'));
  assert.equal(rtuReadReplyLength(16), RESPONSE.length);
});

test('CRC-16/MODBUS: the CRC catalogue check value (init 0xFFFF, reflected 0x8005)', () => {
  assert.equal(crc16(Buffer.from('123456789', 'ascii')), 0x4b37);
});

test('MBAP request: transaction id, protocol 0, length 6, unit, then the PDU without a CRC', () => {
  assert.deepEqual(readRequestMbap(0x1234, 7, 8, 16), hex('12 34 00 00 00 06 07 03 00 08 00 10'));
  // The vendor reply as a Modbus TCP server sends it: length = unit + 34 bytes of PDU.
  const reply = Buffer.concat([hex('12 34 00 00 00 23'), RESPONSE.subarray(0, -2)]);
  assert.equal(mbapFrameLength(reply), reply.length);
  assert.equal(mbapFrameLength(hex('00 01 00 00 00 01 01')), null, 'a length without a function byte');
  assert.equal(mbapFrameLength(hex('00 01 00 00 01 00 01')), null, 'longer than any PDU');
  assert.deepEqual(rtuFrame(reply.subarray(6)), RESPONSE, 'its RTU form (what captures hold) is the recorded frame');
});

test('FC03 replies decode to their words; exceptions to their code; anything else is named', () => {
  const r = decodeReadReply(RESPONSE, 1, RESPONSE.length - 2, 16);
  assert.deepEqual(r, { words: [...new Array(8).fill(1120), ...new Array(8).fill(1124)] });
  assert.deepEqual(decodeReadReply(hex('01 83 02 C0 F1'), 1, 3, 16), { exception: 2 });
  assert.equal(exceptionName(2), 'Illegal data address');
  assert.throws(() => decodeReadReply(RESPONSE, 1, RESPONSE.length - 2, 3), /byte count 32\), expected 6/);
  assert.throws(() => decodeReadReply(hex('01 04 02 00 01'), 1, 5, 1), /function 4, expected 3/);
});
