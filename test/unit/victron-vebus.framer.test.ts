/**
 * The VE.Bus framer and the request/reply link, with recorded frames (docs/protocols/victron-vebus.md §3):
 * split at every byte, two in one chunk, garbage before, a bad checksum dropped and counted,
 * a version frame between request and reply, a late reply never taken for the next request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/core/clock.js';
import { TimeoutError } from '../../src/core/errors.js';
import { infoRequest, ramReadRequest, snapshotRead, versionRequest } from '../../src/devices/victron-vebus/codec.js';
import { VebusFramer, type FramerEvent } from '../../src/devices/victron-vebus/framer.js';
import { VebusLink, expectationFor } from '../../src/devices/victron-vebus/link.js';
import { createSimLink } from '../../src/transports/sim.js';

const hex = (s: string) => Buffer.from(s.replaceAll(' ', ''), 'hex');
const AC = hex('0F 20 01 01 01 09 08 EC 5A 5F FF EC 5A 08 00 C3 08');
const VERSION = hex('07 FF 56 24 DB 11 00 42 52');
const SNAP5 = hex('0D FF 58 99 8E FE 78 00 6E 14 B9 FF B4 00 11');
const LED = hex('08 FF 4C 01 0C 00 00 80 00 20');
const frames = (evs: FramerEvent[]) => evs.flatMap((e) => (e.kind === 'frame' ? [e.frame.raw.toString('hex')] : []));

test('framer: every recorded reply split at every byte comes out whole, once', () => {
  for (const f of [AC, VERSION, SNAP5, LED, hex('03 FF 58 87 1F')]) {
    for (let cut = 0; cut <= f.length; cut++) {
      const framer = new VebusFramer();
      const got = [...framer.feed(f.subarray(0, cut)), ...framer.feed(f.subarray(cut))];
      assert.deepEqual(frames(got), [f.toString('hex')], `cut at ${cut}`);
      assert.equal(framer.counters.garbageBytes, 0);
    }
  }
});

test('framer: a byte at a time, and two frames in one chunk', () => {
  const framer = new VebusFramer();
  const out: FramerEvent[] = [];
  for (const b of Buffer.concat([VERSION, AC])) out.push(...framer.feed(Buffer.from([b])));
  assert.deepEqual(frames(out), [VERSION.toString('hex'), AC.toString('hex')]);
  assert.deepEqual(frames(new VebusFramer().feed(Buffer.concat([SNAP5, LED]))), [SNAP5.toString('hex'), LED.toString('hex')]);
});

test('framer: garbage before a frame is skipped and counted', () => {
  const framer = new VebusFramer();
  const garbage = hex('00 13 FE 07 42 01');
  assert.deepEqual(frames(framer.feed(Buffer.concat([garbage, AC]))), [AC.toString('hex')]);
  assert.equal(framer.counters.garbageBytes, garbage.length);
  assert.equal(framer.counters.frames, 1);
});

test('framer: a bad checksum is dropped and counted once, and the next frame still comes through', () => {
  const framer = new VebusFramer();
  const bad = Buffer.from(SNAP5);
  bad[6] ^= 0x10;
  const out = framer.feed(Buffer.concat([bad, VERSION]));
  assert.deepEqual(frames(out), [VERSION.toString('hex')]);
  assert.equal(out.filter((e) => e.kind === 'drop').length, 1);
  assert.equal(framer.counters.checksumErrors, 1);
  assert.equal(framer.counters.frames, 1);
});

test('framer: the LED bit in len takes two more bytes; reset() forgets a half frame', () => {
  const body = [0x82, 0xff, 0x56, 0x01, 0x00];
  const sum = body.reduce((a, b) => a + b, 0);
  const withLeds = Buffer.from([...body, (256 - (sum & 0xff)) & 0xff]);
  const framer = new VebusFramer();
  const [ev] = framer.feed(withLeds);
  assert.ok(ev?.kind === 'frame');
  assert.deepEqual(ev.frame.leds, { on: 1, blink: 0 });
  framer.feed(AC.subarray(0, 5));
  assert.equal(framer.pending, 5);
  framer.reset();
  assert.equal(framer.counters.garbageBytes, 5);
  assert.deepEqual(frames(framer.feed(VERSION)), [VERSION.toString('hex')]);
});

test('expectations: by command, info kind and W/X/Y/Z letter', () => {
  assert.ok(expectationFor(infoRequest(1))!.matches(new VebusFramer().feed(AC).map((e) => (e.kind === 'frame' ? e.frame : undefined!))[0]!));
  assert.equal(expectationFor(hex('08 FF 46 06 0F 10 04 05 0D 78')), undefined);
  assert.equal(expectationFor(hex('05 3F 07 00 00 00 C2')), undefined);
  const [snap] = new VebusFramer().feed(SNAP5);
  assert.ok(snap?.kind === 'frame');
  assert.ok(expectationFor(snapshotRead(0x58))!.matches(snap.frame));
  assert.ok(!expectationFor(snapshotRead(0x59))!.matches(snap.frame));
  assert.ok(!expectationFor(infoRequest(2))!.matches(new VebusFramer().feed(AC).map((e) => (e.kind === 'frame' ? e.frame : undefined!))[0]!));
});

test('link: a version frame between request and reply is counted as unsolicited, never taken as the reply', async () => {
  const { host, device } = createSimLink('sim:vebus-link');
  await host.open();
  await device.open();
  const captured: string[] = [];
  const link = new VebusLink(host, systemClock, (dir, data) => captured.push(`${dir} ${data.toString('hex')}`));
  link.attach();
  device.on('data', () => {
    // The MK3's idle version frame lands first, then garbage, then the reply.
    void device
      .write(VERSION)
      .then(() => device.write(hex('00 07')))
      .then(() => device.write(AC));
  });
  const reply = await link.request(infoRequest(1), 500, new AbortController().signal);
  assert.deepEqual(reply.raw, AC);
  assert.equal(link.counters.unsolicited_version, 1);
  assert.equal(link.framer.counters.garbageBytes, 2);
  assert.deepEqual(captured, [`tx ${infoRequest(1).toString('hex')}`, `rx ${VERSION.toString('hex')}`, `rx ${AC.toString('hex')}`]);
  link.detach();
});

test('link: a late X reply is not taken for the next (Y) request, which times out with a TimeoutError', async () => {
  const { host, device } = createSimLink('sim:vebus-late');
  await host.open();
  await device.open();
  const link = new VebusLink(host, systemClock, undefined);
  link.attach();
  let n = 0;
  device.on('data', () => {
    // The first request gets no reply in time; its answer arrives during the second.
    if (n++ === 1) void device.write(hex('07 FF 58 85 90 00 61 59 D3'));
  });
  await assert.rejects(link.request(ramReadRequest(0x58, 128, 0), 50, new AbortController().signal), (e: unknown) => e instanceof TimeoutError && /no X 30 reply in 50 ms/.test(e.message));
  await assert.rejects(link.request(ramReadRequest(0x59, 128, 0), 80, new AbortController().signal), TimeoutError);
  assert.equal(link.counters.stray_frames, 1);
  assert.equal(link.counters.timeouts, 2);
  // And a version request is answered by a version frame.
  device.removeAllListeners('data');
  device.on('data', () => void device.write(VERSION));
  assert.deepEqual((await link.request(versionRequest(), 200, new AbortController().signal)).raw, VERSION);
  link.detach();
});

test('property: any sequence of good frames, cut into any chunks, comes out whole and in order', async () => {
  const { default: fc } = await import('fast-check');
  const goodFrame = fc.record({ info: fc.boolean(), data: fc.uint8Array({ minLength: 1, maxLength: 20 }) }).map(({ info, data }) => {
    const body = [data.length + 1, info ? 0x20 : 0xff, ...data];
    const sum = body.reduce((a, b) => a + b, 0);
    return Buffer.from([...body, (256 - (sum & 0xff)) & 0xff]);
  });
  fc.assert(
    fc.property(fc.array(goodFrame, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (fs, cuts) => {
      const all = Buffer.concat(fs);
      const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
      const framer = new VebusFramer();
      const out: FramerEvent[] = [];
      let at = 0;
      for (const p of [...points, all.length]) {
        out.push(...framer.feed(all.subarray(at, p)));
        at = p;
      }
      assert.deepEqual(
        frames(out),
        fs.map((f) => f.toString('hex')),
      );
      assert.equal(framer.counters.garbageBytes + framer.counters.checksumErrors, 0);
    }),
  );
});
