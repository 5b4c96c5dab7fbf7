/**
 * The paced sim link (src/simulators/paced-link.ts) that the hdhk-bus bench polls over:
 * character and gap arithmetic, and that frames arrive intact, in order, asynchronously,
 * to the other end only. No timing assertions (speed belongs in scripts/bench, never in a test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitsPerChar, charTimeMs, createPacedSimLink, interFrameGapMs } from '../../src/simulators/paced-link.js';

test('bits per character, character time and the 3.5-character gap', () => {
  assert.equal(bitsPerChar({ baudRate: 9600 }), 10); // 8N1
  assert.equal(bitsPerChar({ baudRate: 9600, parity: 'even' }), 11); // 8E1
  assert.equal(bitsPerChar({ baudRate: 9600, stopBits: 2 }), 11); // 8N2
  assert.equal(bitsPerChar({ baudRate: 9600, dataBits: 7, parity: 'odd', stopBits: 2 }), 11);
  assert.ok(Math.abs(charTimeMs({ baudRate: 9600 }) - 10 / 9.6) < 1e-9);
  assert.ok(Math.abs(interFrameGapMs({ baudRate: 9600 }) - 3.5 * (10 / 9.6)) < 1e-9);
  assert.equal(interFrameGapMs({ baudRate: 115_200 }), 1.75);
});

test('frames arrive whole, in order, later, at the other end only', async () => {
  const link = createPacedSimLink('sim:paced');
  link.host.keepWrites();
  await link.host.open();
  await link.device.open();
  const atDevice: Buffer[] = [];
  const atHost: Buffer[] = [];
  link.device.on('data', (c: Buffer) => atDevice.push(c));
  link.host.on('data', (c: Buffer) => atHost.push(c));
  const replied = new Promise<void>((resolve) => link.host.once('data', () => resolve()));
  await link.host.write(Buffer.from([1, 3, 0, 8, 0, 16, 0xaa, 0xbb]));
  await link.host.write(Buffer.from([2, 3]));
  assert.equal(atDevice.length, 0, 'nothing arrives synchronously');
  await link.device.write(Buffer.from([9, 9, 9]));
  await replied;
  assert.deepEqual(atDevice, [Buffer.from([1, 3, 0, 8, 0, 16, 0xaa, 0xbb]), Buffer.from([2, 3])]);
  assert.deepEqual(atHost, [Buffer.from([9, 9, 9])]);
  assert.deepEqual(link.traffic(), { frames: 3, bytes: 13 });
  assert.equal(link.host.written.length, 2);
  await link.host.close();
  await assert.rejects(link.host.write(Buffer.from([1])), /closed link/);
});
