/**
 * The cap on incoming MQTT packets (issue 23), byte by byte against MQTT 3.1.1's layout
 * (§2.2 fixed header and remaining length, §3.3 PUBLISH): packets under the cap pass
 * unchanged however the socket cuts them; a PUBLISH over it becomes the same message with a
 * marker payload, its bytes never kept; any other packet over it is refused. The real
 * MQTT.js/Mosquitto path is test/integration/mqtt.oversize.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { droppedPayloadBytes, IncomingPacketCap } from '../../src/mqtt/packet-cap.js';

/** §2.2.3 remaining length. */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function publish(topic: string, payload: Buffer, o: { qos?: 0 | 1; id?: number; retain?: boolean; dup?: boolean } = {}): Buffer {
  const t = Buffer.from(topic, 'utf8');
  const id = o.qos ? [o.id! >> 8, o.id! & 0xff] : [];
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, Buffer.from(id), payload]);
  const first = 0x30 | (o.dup ? 8 : 0) | ((o.qos ?? 0) << 1) | (o.retain ? 1 : 0);
  return Buffer.concat([Buffer.from([first, ...varint(body.length)]), body]);
}

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const SUBACK = Buffer.from([0x90, 0x03, 0x00, 0x01, 0x01]);
const PINGRESP = Buffer.from([0xd0, 0x00]);

/** Feed `bytes` cut into pieces of `size` (the socket's chunks), gather what passes. */
function through(cap: IncomingPacketCap, bytes: Buffer, size: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...cap.feed(bytes.subarray(i, i + size)));
  return Buffer.concat(out);
}

test('packets under the cap pass byte for byte, cut anywhere', () => {
  const stream = Buffer.concat([
    CONNACK,
    SUBACK,
    publish('wattline/pdu/outlet/1/set', Buffer.from('ON'), { qos: 1, id: 7 }),
    PINGRESP,
    publish('homeassistant/status', Buffer.from('online')),
    publish('t', Buffer.alloc(90, 0x41)),
  ]);
  for (const size of [1, 2, 3, 5, 7, 64, stream.length]) assert.deepEqual(through(new IncomingPacketCap(100), stream, size), stream, `chunks of ${size}`);
  // Exactly at the cap (remaining length 100) still passes.
  const atCap = publish('t', Buffer.alloc(97, 0x42));
  assert.equal(atCap.length, 102);
  assert.deepEqual(through(new IncomingPacketCap(100), atCap, 13), atCap);
});

test('a PUBLISH over the cap becomes the same message (flags, topic, packet id) with a marker payload; the next packet follows intact', () => {
  const big = publish('wattline/pdu/outlet/1/set', Buffer.alloc(5000, 0x78), { qos: 1, id: 0x1234, retain: true, dup: true });
  const stream = Buffer.concat([big, PINGRESP]);
  for (const size of [1, 3, 29, 1000, stream.length]) {
    const out = through(new IncomingPacketCap(100), stream, size);
    assert.equal(out[0], big[0], 'same type and flags (DUP, QoS 1, RETAIN)');
    const remaining = out[1]!;
    assert.ok(remaining < 128, 'one-byte remaining length');
    const packet = out.subarray(2, 2 + remaining);
    assert.equal(packet.readUInt16BE(0), 'wattline/pdu/outlet/1/set'.length);
    assert.equal(packet.toString('utf8', 2, 2 + 25), 'wattline/pdu/outlet/1/set');
    assert.equal(packet.readUInt16BE(27), 0x1234, 'the packet id, so the message is acknowledged');
    assert.equal(droppedPayloadBytes(packet.subarray(29)), 5000);
    assert.deepEqual(out.subarray(2 + remaining), PINGRESP, `chunks of ${size}`);
  }
  // QoS 0: no packet id.
  const q0 = through(new IncomingPacketCap(100), publish('a', Buffer.alloc(300)), 7);
  assert.equal(q0[0], 0x30);
  assert.equal(droppedPayloadBytes(q0.subarray(2 + 3)), 300);
});

test('what passes of a 20 MB PUBLISH is a few dozen bytes: its payload is never kept', () => {
  const cap = new IncomingPacketCap();
  const payload = Buffer.alloc(64 * 1024, 0x61);
  const size = 20 * 1024 * 1024;
  const header = publish('wattline/x/outlet/1/set', Buffer.alloc(0), { qos: 1, id: 1 });
  // The same header with the big remaining length.
  const body = header.subarray(2);
  let passed = cap.feed(Buffer.concat([Buffer.from([header[0]!, ...varint(body.length + size)]), body])).reduce((n, b) => n + b.length, 0);
  for (let sent = 0; sent < size; sent += payload.length) passed += cap.feed(payload).reduce((n, b) => n + b.length, 0);
  assert.ok(passed < 120, `${passed} bytes passed`);
  assert.deepEqual(cap.feed(PINGRESP), [PINGRESP]);
});

test('any other packet over the cap, or a length of five bytes, is refused', () => {
  assert.throws(() => new IncomingPacketCap(100).feed(Buffer.from([0x90, ...varint(200)])), /a packet of 200 bytes from the broker \(type 9\), over the 100-byte cap/);
  assert.throws(() => new IncomingPacketCap().feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])), /malformed packet length/);
  // A topic longer than the packet it is in.
  assert.throws(() => new IncomingPacketCap(100).feed(Buffer.from([0x30, ...varint(150), 0x01, 0x00])), /malformed PUBLISH/);
});

test('droppedPayloadBytes: only the marker, not an ordinary payload', () => {
  assert.equal(droppedPayloadBytes(Buffer.from('ON')), null);
  assert.equal(droppedPayloadBytes(Buffer.alloc(0)), null);
  assert.equal(droppedPayloadBytes(Buffer.from('\u0000wattline: payload dropped unread, bytes: x')), null);
  assert.equal(droppedPayloadBytes(Buffer.alloc(100 * 1024)), null);
});
