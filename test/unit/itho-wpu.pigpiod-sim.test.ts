/**
 * The itho-wpu session against the project's pigpiod simulator over real TCP on loopback —
 * no real pigpiod runs on these machines, so every test name says "simulated pigpiod". The
 * simulator speaks the socket protocol from its own tables and plays the WPU from the
 * recorded replies; each fault it can act out is tried here.
 */
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceError, TimeoutError, TransportError } from '../../src/core/errors.js';
import { IntField } from '../../src/core/point.js';
import { encodePoints } from '../../src/core/line-protocol.js';
import { IdentityCache } from '../../src/devices/itho-wpu/cache.js';
import { ithoWpuDriver } from '../../src/devices/itho-wpu/index.js';
import type { CaptureRecord } from '../../src/devices/types.js';
import { startPigpiodServer, startPigpiodSimulator, type PigpiodSimulator } from '../../src/simulators/pigpiod.js';
import { wpuReply } from '../../src/simulators/itho-wpu.js';
import { createSimLink } from '../../src/transports/sim.js';
import { TcpTransport } from '../../src/transports/tcp.js';
import { ithoDir, ithoOptions, ithoSession, type IthoDir } from '../helpers/itho.js';
import { FakeClock } from '../helpers/fake-clock.js';

let d: IthoDir;
let sim: PigpiodSimulator & { port: number };

before(() => {
  d = ithoDir();
});
after(() => d.remove());
beforeEach(async () => {
  sim = await startPigpiodServer({});
});
afterEach(() => sim.stop());

const tcp = () => new TcpTransport({ host: '127.0.0.1', port: sim.port });
const signal = () => AbortSignal.timeout(10_000);
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
};
/** Everything a conversation opened is closed again. */
async function assertAllClosed() {
  await until(() => sim.state().connections === 0);
  assert.deepEqual(sim.state(), { i2cHandles: 0, notifyHandles: 0, bscOn: false, connections: 0 });
}

test('simulated pigpiod: one poll reads node id, serial, datatype, datalog and counters, then closes everything', async () => {
  const s = ithoSession(tcp(), ithoOptions(d, { cacheDb: `${d.dir}/c1.sqlite` }));
  await s.start();
  const r = await s.collect(signal());
  await s.close();
  const [log, counters] = r.points;
  assert.equal(log!.measurement, 'itho_wpu');
  assert.deepEqual(log!.tags, { site: 'test', device: 'wpu' });
  assert.equal(Object.keys(log!.fields).length, 92);
  assert.equal(log!.fields.t_out, -10);
  assert.equal(log!.fields.t_boiltop, 44.45);
  assert.equal(log!.fields.p_sens, 1.5);
  assert.ok(log!.fields.state instanceof IntField && log!.fields.state.value === 3n, 'states are integers');
  assert.equal(counters!.measurement, 'itho_wpu_counters');
  assert.deepEqual((counters!.fields.cnt_comp_hours as IntField).value, 12873n);
  assert.deepEqual(
    sim.wpu.requests.map((h) => h.slice(2, 6)),
    ['90e0', '90e1', 'a400', 'a401', '4210'],
  );
  const c = sim.commands;
  assert.deepEqual(c.slice(0, 4), ['NOIB', 'EVM', 'BSCX', 'I2CO']);
  assert.deepEqual(c.slice(-4), ['I2CC', 'BSCX', 'EVM', 'NC']);
  await assertAllClosed();
});

test('simulated pigpiod: node id and datatype come from the cache db on the next run; counters only every Nth poll', async () => {
  const o = ithoOptions(d, { cacheDb: `${d.dir}/c2.sqlite`, countersEvery: 3 });
  const first = ithoSession(tcp(), o);
  await first.collect(signal());
  await first.close();
  sim.wpu.requests.length = 0;
  const second = ithoSession(tcp(), o);
  const kinds: number[] = [];
  for (let i = 0; i < 4; i++) kinds.push((await second.collect(signal())).points.length);
  await second.close();
  // The node id is checked against the cache on the first poll and on each counters poll.
  assert.deepEqual(
    sim.wpu.requests.map((h) => h.slice(2, 6)),
    ['90e0', 'a401', '4210', 'a401', 'a401', '90e0', 'a401', '4210'],
  );
  assert.deepEqual(kinds, [2, 1, 1, 2]);
  assert.equal(second.stats().identity_reads, 0);
});

test('simulated pigpiod: a changed node id (firmware update) refreshes the cached identity', async () => {
  const o = ithoOptions(d, { cacheDb: `${d.dir}/c-fw.sqlite`, countersEvery: 2 });
  const s = ithoSession(tcp(), o);
  await s.collect(signal());
  await s.collect(signal());
  assert.equal(s.stats().refreshes, 0);
  // Product version 58 → 59 (payload byte 4); checksum fixed by the WPU's own reply builder.
  const payload = sim.wpu.nodeidReply.subarray(5, -1);
  payload[4] = 59;
  sim.wpu.nodeidReply = wpuReply(0x90, 0xe0, payload);
  const r = await s.collect(signal());
  await s.close();
  assert.equal(s.stats().refreshes, 1);
  assert.equal(s.stats().identity_reads, 2);
  assert.equal(r.points[0]!.fields.t_out, -10);
  const cache = IdentityCache.open(o.cacheDb);
  assert.equal(cache.get('wpu')!.nodeid[4], 59);
  cache.close();
});

test('simulated pigpiod: a datalog whose length no longer matches the cached datatype list refreshes the cache', async () => {
  const o = ithoOptions(d, { cacheDb: `${d.dir}/c3.sqlite` });
  const first = ithoSession(tcp(), o);
  await first.collect(signal());
  await first.close();
  // The cached list says field 17 is 4 bytes wide: 138 bytes where the WPU sends 136.
  const cache = IdentityCache.open(o.cacheDb);
  const id = cache.get('wpu')!;
  const stale = Buffer.from(id.datatype);
  stale[17] = 0x20;
  cache.put('wpu', { ...id, datatype: stale });
  cache.close();
  sim.wpu.requests.length = 0;
  const second = ithoSession(tcp(), o);
  const r = await second.collect(signal());
  assert.equal(second.stats().refreshes, 1);
  assert.equal(r.points[0]!.fields.t_out, -10);
  await second.close();
  assert.deepEqual(sim.wpu.requests.map((h) => h.slice(2, 6)).slice(0, 6), ['90e0', 'a401', '90e0', '90e1', 'a400', 'a401']);
  const fresh = IdentityCache.open(o.cacheDb);
  assert.equal(fresh.get('wpu')!.datatype[17], 0x10);
  fresh.close();
});

for (const [fault, reason] of [
  ['no-reply', /no reply in 100 ms/],
  ['wrong-source', /source 0x84, not the WPU/],
  ['bad-checksum', /checksum/],
  ['truncated', /truncated: 7[01]? of 142 bytes|reply truncated/],
  ['wrong-class', /class 0xA4 0x00, asked for datalog/],
  ['nack', /I2C write failed/],
] as const) {
  test(`simulated pigpiod, fault ${fault}: one bad reply is retried; a persistent one is a DeviceError saying why, and everything is closed`, async () => {
    const o = ithoOptions(d, { cacheDb: `${d.dir}/f-${fault}.sqlite`, retries: 2 });
    const s = ithoSession(tcp(), o);
    await s.collect(signal()); // identity cached first
    sim.fault(fault, 1);
    const ok = await s.collect(signal());
    assert.equal(ok.points[0]!.fields.t_out, -10);
    assert.ok(s.stats().retries! >= 1);
    sim.fault(fault, Infinity);
    await assert.rejects(s.collect(signal()), (e: unknown) => e instanceof DeviceError && /no valid datalog reply in 3 attempts/.test(e.message) && reason.test(e.message));
    sim.fault(undefined);
    await s.close();
    await assertAllClosed();
  });
}

test('simulated pigpiod, fault lost-connection: a TransportError for that poll; the next poll reconnects', async () => {
  const s = ithoSession(tcp(), ithoOptions(d, { cacheDb: `${d.dir}/lost.sqlite` }));
  await s.collect(signal());
  sim.fault('lost-connection', 1);
  await assert.rejects(s.collect(signal()), (e: unknown) => e instanceof TransportError);
  await until(() => sim.state().connections === 0);
  // pigpiod keeps the I²C handle and the BSC setting of a lost socket ...
  assert.deepEqual(sim.state(), { i2cHandles: 1, notifyHandles: 0, bscOn: true, connections: 0 });
  const r = await s.collect(signal());
  assert.equal(r.points[0]!.fields.t_boildwn, 17);
  await s.close();
  // ... and the next conversation closes the stale handle as well as its own.
  await assertAllClosed();
});

test('simulated pigpiod: pigpiod not listening is a retryable TransportError', async () => {
  const port = sim.port;
  sim.stop();
  await new Promise((r) => setTimeout(r, 20));
  const s = ithoSession(new TcpTransport({ host: '127.0.0.1', port }), ithoOptions(d, { cacheDb: `${d.dir}/down.sqlite` }));
  await assert.rejects(s.collect(signal()), (e: unknown) => e instanceof TransportError && e.retryable);
  await s.close();
});

test('simulated pigpiod: a reply split over two BSC transfers is reassembled', async () => {
  sim.stop();
  sim = await startPigpiodServer({ splitReplies: true });
  const s = ithoSession(tcp(), ithoOptions(d, { cacheDb: `${d.dir}/split.sqlite` }));
  const r = await s.collect(signal());
  assert.equal(r.points[0]!.fields.t_ch_ret, 29.84);
  await s.close();
});

test('simulated pigpiod sending no BSC events: the read at each reply deadline still gets the replies', async () => {
  sim.stop();
  sim = await startPigpiodServer({ noEvents: true });
  const s = ithoSession(tcp(), ithoOptions(d, { cacheDb: `${d.dir}/noevents.sqlite`, replyTimeoutMs: 30 }));
  const r = await s.collect(signal());
  assert.equal(r.points[0]!.fields.t_suct, 11.26);
  assert.equal(s.stats().missed_events, 5);
  assert.equal(s.stats().retries, 0);
  await s.close();
});

test('simulated pigpiod on a sim link (the demo path): two connections through newConnection()', async () => {
  const link = createSimLink('sim:wpu');
  await link.device.open();
  const simLink = startPigpiodSimulator(link.device, {});
  const s = ithoSession(link.host, ithoOptions(d, { cacheDb: `${d.dir}/simlink.sqlite` }));
  const r = await s.collect(signal());
  assert.equal(r.points[0]!.fields.t_source_s, 8.48);
  await s.close();
  await until(() => simLink.state().connections === 0);
  assert.deepEqual(simLink.state(), { i2cHandles: 0, notifyHandles: 0, bscOn: false, connections: 0 });
  simLink.stop();
});

test("simulated pigpiod: decodeCapture turns one poll's captured frames into the same points with the same timestamp", async () => {
  const captures: CaptureRecord[] = [];
  const o = ithoOptions(d, { cacheDb: `${d.dir}/cap.sqlite` });
  const s = ithoSession(tcp(), o, 'wpu', captures);
  const live1 = await s.collect(signal());
  const n1 = captures.length;
  const live2 = await s.collect(signal()); // from the cache: only the datalog in its records
  await s.close();
  assert.equal(captures.filter((c) => c.direction === 'tx').length, 6);
  const ctx = { device: 'wpu', options: o, tags: { site: 'test' }, clock: new FakeClock(0) };
  const again1 = ithoWpuDriver.decodeCapture!(captures.slice(0, n1), ctx);
  const again2 = ithoWpuDriver.decodeCapture!(captures.slice(n1), ctx);
  assert.deepEqual(again1.errors, []);
  assert.deepEqual(encodePoints(again1.points, 'ms').lines, encodePoints(live1.points, 'ms').lines);
  assert.deepEqual(encodePoints(again2.points, 'ms').lines, encodePoints(live2.points, 'ms').lines);
  assert.equal(again1.points[0]!.time, BigInt(captures[0]!.timeMs) * 1_000_000n);
  const spoiled = captures.slice(n1).map((c) => (c.direction === 'rx' ? { ...c, data: Buffer.concat([c.data.subarray(0, -1), Buffer.from([c.data.at(-1)! ^ 1])]) } : c));
  const bad = ithoWpuDriver.decodeCapture!(spoiled, ctx);
  assert.equal(bad.points.length, 0);
  assert.match(bad.errors.join('\n'), /datalog reply: reply checksum/);
});

test('simulated pigpiod: a write that gets no reply is a TimeoutError and is sent exactly once', async () => {
  const o = ithoOptions(d, { cacheDb: `${d.dir}/w.sqlite`, control: { allow: ['setting-set'] } });
  const s = ithoSession(tcp(), o);
  const req = ithoWpuDriver.control!.prepare('setting-set', ['139', '50'], o, 'wpu');
  // The read of the setting before the write gets its reply; the write (the 2nd request of this kind) none.
  await s.collect(signal());
  sim.wpu.requests.length = 0;
  const orig = sim.wpu.handle.bind(sim.wpu);
  sim.wpu.handle = (f) => (f[3] === 0x06 ? (sim.wpu.requests.push(Buffer.from(f).toString('hex')), undefined) : orig(f));
  await assert.rejects(s.control!(req, signal()), (e: unknown) => e instanceof TimeoutError && /sent once and NOT repeated/.test(e.message));
  assert.equal(sim.wpu.requests.filter((h) => h.slice(6, 8) === '06').length, 1);
  assert.equal(sim.wpu.settings.get(139)!.raw, 48);
  await s.close();
  await assertAllClosed();
});

test('simulated pigpiod: a WPU reporting an unknown type code is an error naming the code and the field; a width-only code is skipped and counted', async () => {
  sim.wpu.codes[3] = 0x33;
  const s = ithoSession(tcp(), ithoOptions(d, { cacheDb: `${d.dir}/unknown.sqlite` }));
  await assert.rejects(s.collect(signal()), /unknown type code 0x33 for field t_evap \(position 3\)/);
  await s.close();
  sim.wpu.codes[3] = 0x92;
  sim.wpu.codes[20] = 0x0f; // same width as the 0x00 it replaces
  const s2 = ithoSession(tcp(), ithoOptions(d, { cacheDb: `${d.dir}/opaque.sqlite` }));
  const r = await s2.collect(signal());
  await s2.close();
  assert.equal(r.points[0]!.fields.state, undefined);
  assert.equal(Object.keys(r.points[0]!.fields).length, 91);
  assert.deepEqual(r.dropped, [{ reason: 'state: type code 0x0F has a known width but no known format; skipped', count: 1 }]);
});
