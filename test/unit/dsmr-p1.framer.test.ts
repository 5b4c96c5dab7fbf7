/**
 * The P1 framer with real bytes. Captures: test/fixtures/dsmr-p1/SOURCES.md
 * (T211 7945 from psvanstrom/esphome-p1reader; the others from ndokter/dsmr_parser, MIT).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { P1Framer, type FramedTelegram, type FrameDrop, type FramerEvent } from '../../src/devices/dsmr-p1/framer.js';
import { fixture } from '../helpers/paths.js';

const capture = (name: string) => readFileSync(fixture('dsmr-p1', name, 'telegram.txt'));
const T211 = capture('t211-se-7945'); // 712 bytes, CRC 7945
const V5 = capture('dsmr5-nl'); // CRC 6EEE
const V22 = capture('dsmr22-nl'); // no CRC, 413 bytes
const WARMTELINK = capture('warmtelink-unpadded-crc'); // `!B9F`

const telegrams = (evs: FramerEvent[]) => evs.filter((e): e is FramedTelegram => e.kind === 'telegram');
const drops = (evs: FramerEvent[]) => evs.filter((e): e is FrameDrop => e.kind === 'drop');
const feedAll = (f: P1Framer, chunks: Buffer[]) => chunks.flatMap((c) => f.feed(c));

test('one telegram: its text (CR LF kept), its CRC, its stream offset', () => {
  const f = new P1Framer();
  const evs = f.feed(T211);
  assert.equal(evs.length, 1);
  const t = telegrams(evs)[0];
  assert.equal(t.text, T211.toString('latin1'));
  assert.ok(t.text.includes('\r\n'));
  assert.equal(t.crc, 0x7945);
  assert.equal(t.start, 0);
  assert.deepEqual(f.counters, { telegrams: 1, crcErrors: 0, garbageBytes: 0, oversize: 0, truncated: 0, malformed: 0 });
});

test('two telegrams in one chunk', () => {
  const f = new P1Framer();
  const ts = telegrams(f.feed(Buffer.concat([T211, V5])));
  assert.deepEqual(
    ts.map((t) => [t.crc, t.start]),
    [
      [0x7945, 0],
      [0x6eee, T211.length],
    ],
  );
});

test('one telegram split in two at every byte position, the CRC digits and CR LF included', () => {
  for (let i = 1; i < T211.length; i++) {
    const f = new P1Framer();
    const evs = feedAll(f, [T211.subarray(0, i), T211.subarray(i)]);
    assert.equal(evs.length, 1, `split at ${i}`);
    assert.equal(telegrams(evs)[0].text, T211.toString('latin1'), `split at ${i}`);
  }
});

test('one byte at a time', () => {
  const f = new P1Framer();
  const evs: FramerEvent[] = [];
  for (let i = 0; i < V5.length; i++) evs.push(...f.feed(V5.subarray(i, i + 1)));
  assert.equal(telegrams(evs).length, 1);
  assert.equal(telegrams(evs)[0].crc, 0x6eee);
});

test('leading garbage is skipped and counted (CR/LF between telegrams are not garbage)', () => {
  const f = new P1Framer();
  const noise = Buffer.from('\x00\xffnoise!ABCD\r\n\r\n', 'latin1');
  const ts = telegrams(f.feed(Buffer.concat([noise, T211, Buffer.from('\r\n'), V5])));
  assert.equal(ts.length, 2);
  assert.equal(ts[0].start, noise.length);
  assert.equal(f.counters.garbageBytes, noise.length - 4);
});

test('a bad CRC is dropped and counted, not thrown; the next telegram still comes', () => {
  const bad = Buffer.from(T211);
  bad[bad.indexOf('6678.394')] = 0x37; // 6678 -> 7678: line noise
  const f = new P1Framer();
  const evs = f.feed(Buffer.concat([bad, V5]));
  assert.equal(drops(evs).length, 1);
  const d = drops(evs)[0];
  assert.equal(d.reason, 'crc');
  assert.match(d.detail, /^CRC mismatch: computed [0-9A-F]{4}, telegram says 7945$/);
  assert.equal(d.at, T211.indexOf('!'));
  assert.equal(telegrams(evs)[0].crc, 0x6eee);
  assert.equal(f.counters.crcErrors, 1);
  assert.equal(f.counters.telegrams, 1);
});

test('oversize: a telegram over maxBytes is dropped and counted, the next small one passes', () => {
  const f = new P1Framer(512);
  const evs = f.feed(Buffer.concat([T211, V22]));
  assert.deepEqual(
    drops(evs).map((d) => d.reason),
    ['oversize'],
  );
  assert.equal(telegrams(evs).length, 1);
  assert.equal(telegrams(evs)[0].crc, null);
  assert.equal(f.counters.oversize, 1);
});

test('oversize without any end: skipped (not counted as garbage) up to the next "/"', () => {
  const f = new P1Framer(450); // V22 (413 bytes) fits
  const endless = Buffer.concat([Buffer.from('/XXX5 endless\r\n'), Buffer.alloc(2000, 0x41)]);
  const evs = feedAll(f, [endless.subarray(0, 100), endless.subarray(100), Buffer.alloc(500, 0x42), V22]);
  assert.deepEqual(
    drops(evs).map((d) => d.reason),
    ['oversize'],
  );
  assert.equal(telegrams(evs).length, 1);
  assert.equal(f.counters.garbageBytes, 0);
});

test('truncated: a new "/" before the "!" drops the first (counted) and keeps the second', () => {
  const f = new P1Framer();
  const evs = f.feed(Buffer.concat([T211.subarray(0, 300), V5]));
  assert.equal(drops(evs)[0].reason, 'truncated');
  assert.equal(drops(evs)[0].at, 300);
  assert.equal(telegrams(evs)[0].crc, 0x6eee);
  assert.equal(f.counters.truncated, 1);
});

test('LF line ends: with a CRC it cannot match (the CRC covers the CRs); without one it passes', () => {
  const lf = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  const f = new P1Framer();
  const evs = f.feed(Buffer.concat([lf(T211), lf(V22)]));
  assert.deepEqual(
    evs.map((e) => (e.kind === 'drop' ? e.reason : 'telegram')),
    ['crc', 'telegram'],
  );
  assert.equal(telegrams(evs)[0].crc, null);
});

test('no CRC (DSMR 2.2/3, "!" CR LF) and an unpadded CRC ("!B9F") are accepted', () => {
  const f = new P1Framer();
  const ts = telegrams(f.feed(Buffer.concat([V22, WARMTELINK])));
  assert.deepEqual(
    ts.map((t) => t.crc),
    [null, 0x0b9f],
  );
});

test('a malformed end ("!" then 5 hex digits or other text) is dropped and counted', () => {
  const body = T211.subarray(0, T211.indexOf('!') + 1);
  const f = new P1Framer();
  const evs = f.feed(Buffer.concat([body, Buffer.from('79450\r\n'), body, Buffer.from('79X5\r\n'), V5]));
  assert.deepEqual(
    evs.map((e) => (e.kind === 'drop' ? e.reason : 'telegram')),
    ['malformed', 'malformed', 'telegram'],
  );
  assert.equal(f.counters.malformed, 2);
});

test('flush(): a telegram still open at the end of input is a truncated drop; reset() counts one too', () => {
  const f = new P1Framer();
  assert.deepEqual(f.feed(T211.subarray(0, 500)), []);
  const evs = f.flush();
  assert.equal(drops(evs)[0].reason, 'truncated');
  f.feed(T211.subarray(0, 10));
  f.reset();
  assert.equal(f.counters.truncated, 2);
  assert.equal(telegrams(f.feed(V5)).length, 1);
});

test('stream offsets keep counting across chunks and drops', () => {
  const f = new P1Framer();
  const stream = Buffer.concat([Buffer.from('junk'), T211, T211.subarray(0, 50), V5]);
  const evs = feedAll(f, [stream.subarray(0, 333), stream.subarray(333, 800), stream.subarray(800)]);
  assert.deepEqual(
    evs.map((e) => e.start),
    [4, 4 + T211.length, 4 + T211.length + 50],
  );
});

test('property: any chunking of a stream of telegrams (with noise) gives the same events', () => {
  const pieces = [T211, V5, V22, WARMTELINK, Buffer.from('\x00garbage\r\n', 'latin1'), T211.subarray(0, 200)];
  fc.assert(
    fc.property(fc.array(fc.nat(pieces.length - 1), { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 40 }), (order, sizes) => {
      const stream = Buffer.concat(order.map((i) => pieces[i]));
      const whole = new P1Framer();
      const expected = [...whole.feed(stream), ...whole.flush()];
      const chunked = new P1Framer();
      const got: FramerEvent[] = [];
      for (let pos = 0, k = 0; pos < stream.length; k++) {
        const n = sizes[k % sizes.length];
        got.push(...chunked.feed(stream.subarray(pos, pos + n)));
        pos += n;
      }
      got.push(...chunked.flush());
      assert.deepEqual(got, expected);
      assert.deepEqual(chunked.counters, whole.counters);
    }),
    { numRuns: 300 },
  );
});
