/**
 * The PDU and ATS sessions over the in-memory sim link against the project's own
 * simulators (src/simulators/powerwalker-*.ts, built from the protocol tables, not from the
 * codec): points, info once per connection, the QPI refusal, every fault acted out by the
 * simulator ending as a typed error and recovery, capture re-decoding giving the same lines.
 * Reply deadlines are real timers, kept short; nothing asserts on time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceError, TimeoutError, TransportError } from '../../src/core/errors.js';
import { encodePoints } from '../../src/core/line-protocol.js';
import { silentLogger } from '../../src/core/log.js';
import type { Point } from '../../src/core/point.js';
import { powerwalkerAtsDriver } from '../../src/devices/powerwalker-ats/index.js';
import { PowerwalkerError, powerwalkerPduDriver } from '../../src/devices/powerwalker-pdu/index.js';
import type { CaptureRecord, DeviceSession } from '../../src/devices/types.js';
import { startAtsSimulator, type AtsSimulator } from '../../src/simulators/powerwalker-ats.js';
import { startPduSimulator, type PduSimulator } from '../../src/simulators/powerwalker-pdu.js';
import { createSimLink, type SimEndpoint } from '../../src/transports/sim.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = 1_700_000_000_000;
const signal = () => new AbortController().signal;
const clock = new FakeClock(T0);

interface Rig<S> {
  session: DeviceSession;
  sim: S;
  host: SimEndpoint;
  device: SimEndpoint;
  records: CaptureRecord[];
}

async function pduRig(options: Record<string, unknown> = {}, now?: () => number): Promise<Rig<PduSimulator>> {
  const { host, device } = createSimLink('sim:pdu');
  await device.open();
  const sim = startPduSimulator(device, now ? { now } : {});
  const records: CaptureRecord[] = [];
  const session = powerwalkerPduDriver.createSession({
    device: 'pdu1',
    options: powerwalkerPduDriver.options.parse({ requestTimeoutMs: 150, ...options }),
    tags: { site: 'lab' },
    transport: host,
    clock,
    log: silentLogger(),
    capture: (direction, data, timeMs) => records.push({ direction, data: Buffer.from(data), timeMs }),
  });
  await session.start();
  return { session, sim, host, device, records };
}

async function atsRig(): Promise<Rig<AtsSimulator>> {
  const { host, device } = createSimLink('sim:ats');
  await device.open();
  const sim = startAtsSimulator(device);
  const records: CaptureRecord[] = [];
  const session = powerwalkerAtsDriver.createSession({
    device: 'ats1',
    options: powerwalkerAtsDriver.options.parse({ requestTimeoutMs: 150 }),
    tags: {},
    transport: host,
    clock,
    log: silentLogger(),
    capture: (direction, data, timeMs) => records.push({ direction, data: Buffer.from(data), timeMs }),
  });
  await session.start();
  return { session, sim, host, device, records };
}

const outlet = (points: Point[], n: number) => points.find((p) => p.measurement === 'pdu_outlet' && p.tags.outlet === String(n))!;
const lines = (points: Point[]) => encodePoints(points, 'ms').lines;

test('PDU poll: input, eight outlets, info on the first poll of a connection only', async () => {
  const r = await pduRig();
  const first = await r.session.collect(signal());
  const pdu = first.points.find((p) => p.measurement === 'pdu')!;
  assert.equal(pdu.fields.input_v, 225.5);
  assert.equal(pdu.tags.site, 'lab');
  assert.equal(first.points.filter((p) => p.measurement === 'pdu_outlet').length, 8);
  const o2 = outlet(first.points, 2);
  assert.deepEqual([o2.fields.current_a, o2.fields.energy_kwh], [0.5, 103.4]);
  assert.equal(lines([o2])[0], 'pdu_outlet,device=pdu1,outlet=2,site=lab apparent_power_va=113i,current_a=0.5,energy_kwh=103.4,power_w=104i,restore_countdown_s=0i,shutdown_countdown_s=0i,status=1i 1700000000000');
  const info = first.points.find((p) => p.measurement === 'pdu_info')!;
  assert.deepEqual([info.fields.protocol, info.fields.firmware, info.fields.model], ['PI90', '00.15', '############PDU']);
  assert.ok(first.points.every((p) => p.time === BigInt(T0) * 1_000_000n));
  assert.deepEqual(r.sim.requests, ['QPI', 'QMD', 'QVFW', 'QGS', 'QPW', 'QPVA', 'QEC', 'QSR']);

  const second = await r.session.collect(signal());
  assert.equal(
    second.points.find((p) => p.measurement === 'pdu_info'),
    undefined,
  );
  assert.deepEqual(r.sim.requests.slice(8), ['QGS', 'QPW', 'QPVA', 'QEC', 'QSR']);
  await r.session.close();
});

test('decodeCapture: the records of each poll give the same lines as the live poll', async () => {
  const r = await pduRig();
  for (let i = 0; i < 2; i++) {
    r.records.length = 0;
    const live = await r.session.collect(signal());
    assert.equal(r.records[0]!.timeMs, T0);
    const again = powerwalkerPduDriver.decodeCapture!(r.records, { device: 'pdu1', options: powerwalkerPduDriver.options.parse({}), tags: { site: 'lab' }, clock });
    assert.deepEqual(again.errors, []);
    assert.deepEqual(lines(again.points), lines(live.points));
  }
  const broken = powerwalkerPduDriver.decodeCapture!(
    [
      { direction: 'tx', data: Buffer.from('QGS\r'), timeMs: 5 },
      { direction: 'rx', data: Buffer.from('garbage\r'), timeMs: 6 },
      { direction: 'tx', data: Buffer.from('QPW\r'), timeMs: 7 },
    ],
    { device: 'pdu1', options: powerwalkerPduDriver.options.parse({}), tags: {}, clock },
  );
  assert.equal(broken.points.length, 0);
  assert.match(broken.errors[0]!, /record 1: QGS: reply does not start with "\("/);
  assert.match(broken.errors[1]!, /record 2: QPW: no reply/);
  await r.session.close();
});

test('ATS poll: per source and output, status bits; capture re-decoded the same', async () => {
  const r = await atsRig();
  const res = await r.session.collect(signal());
  const ats = res.points.find((p) => p.measurement === 'ats')!;
  assert.equal(ats.fields.load_pct, 14);
  assert.equal(lines([ats])[0]!.includes('active_source=1i'), true);
  const s2 = res.points.find((p) => p.measurement === 'ats_source' && p.tags.source === '2')!;
  assert.equal(s2.fields.voltage_v, 227.3);
  assert.match(lines([s2])[0]!, / active=0i,.*preferred=0i/);
  assert.equal(res.points.find((p) => p.measurement === 'ats_info')!.fields.firmware, '181.0');
  r.sim.setSource(1, false);
  r.records.length = 0;
  const moved = await r.session.collect(signal());
  const after = moved.points.find((p) => p.measurement === 'ats')!;
  assert.ok(lines([after])[0]!.includes('active_source=2i'));
  const again = powerwalkerAtsDriver.decodeCapture!(r.records, { device: 'ats1', options: powerwalkerAtsDriver.options.parse({}), tags: {}, clock });
  assert.deepEqual(lines(again.points), lines(moved.points));
  await r.session.close();
});

test('a PDU driver meeting an ATS (and the other way round) refuses with a clear message, sending nothing else', async () => {
  const { host, device } = createSimLink('sim:wrong');
  await device.open();
  const ats = startAtsSimulator(device);
  const s = powerwalkerPduDriver.createSession({
    device: 'pdu1',
    options: powerwalkerPduDriver.options.parse({ requestTimeoutMs: 150, control: { allow: ['off'], outlets: 'all' } }),
    tags: {},
    transport: host,
    clock,
    log: silentLogger(),
  });
  await assert.rejects(
    s.collect(signal()),
    (e: unknown) => e instanceof PowerwalkerError && e.reason === 'identity' && /expects a PowerWalker PDU \(protocol PI90\).*PowerWalker ATS \(protocol PI97\); use driver powerwalker-ats/.test(e.message),
  );
  const req = powerwalkerPduDriver.control!.prepare('off', ['1'], powerwalkerPduDriver.options.parse({ control: { allow: ['off'], outlets: 'all' } }), 'pdu1');
  await assert.rejects(s.control!(req, signal()), /refusing to talk to this device/);
  assert.deepEqual(ats.requests, ['QPI', 'QPI']);
  await s.close();

  const r = createSimLink('sim:wrong2');
  await r.device.open();
  startPduSimulator(r.device);
  const a = powerwalkerAtsDriver.createSession({ device: 'ats1', options: powerwalkerAtsDriver.options.parse({}), tags: {}, transport: r.host, clock, log: silentLogger() });
  await assert.rejects(a.collect(signal()), /expects a PowerWalker ATS .* answers as a PowerWalker PDU \(protocol PI90\); use driver powerwalker-pdu/);
  await a.close();
});

test('garbage once is asked again (read-only queries retry); a reply without "(" for good drops that command only', async () => {
  const r = await pduRig();
  await r.session.collect(signal());
  r.sim.setFault('garbage', { command: 'QPW', times: 1 });
  const res = await r.session.collect(signal());
  assert.equal(res.dropped, undefined);
  assert.equal(r.session.stats().retries, 1);
  assert.ok(res.points.find((p) => p.measurement === 'pdu')!.fields.input_w);

  r.sim.setFault('no-paren', { command: 'QPVA' });
  const res2 = await r.session.collect(signal());
  assert.deepEqual(res2.dropped, [{ reason: 'QPVA: reply', count: 1 }]);
  assert.equal(outlet(res2.points, 1).fields.apparent_power_va, undefined);
  assert.ok(outlet(res2.points, 1).fields.power_w);
  r.sim.setFault('none');
  await r.session.close();
});

test('wrong field count, short status string, half a reply, NAK to a query: typed errors naming the command, that command dropped', async () => {
  const r = await pduRig({ retries: 0 });
  await r.session.collect(signal());
  const cases: [Parameters<PduSimulator['setFault']>[0], RegExp, string][] = [
    ['extra-field', /QGS: expected 13 fields, got 14/, 'reply'],
    ['short-status', /QGS: status string has 15 characters, expected 16/, 'reply'],
    ['half', /QGS: half a reply/, 'truncated'],
    ['nak', /QGS: .*"NAK"/, 'reply'],
    ['garbage', /QGS: reply is not printable ASCII/, 'reply'],
  ];
  const session = r.session as DeviceSession & { lastFailures: PowerwalkerError[] };
  for (const [fault, message, reason] of cases) {
    r.sim.setFault(fault, { command: 'QGS' });
    const res = await r.session.collect(signal());
    assert.deepEqual(res.dropped, [{ reason: `QGS: ${reason}`, count: 1 }], fault);
    const err = session.lastFailures[0];
    assert.ok(err instanceof DeviceError && err instanceof PowerwalkerError, `${fault}: ${String(err)}`);
    assert.equal(err.reason, reason, fault);
    assert.match(err.message, message);
    assert.ok(outlet(res.points, 1).fields.power_w !== undefined, `${fault}: the other commands still count`);
    r.sim.setFault('none');
    const ok = await r.session.collect(signal());
    assert.equal(ok.dropped, undefined, `${fault}: recovered`);
  }
  // Every command spoiled: the poll itself fails, with each command named.
  r.sim.setFault('extra-field');
  await assert.rejects(r.session.collect(signal()), (e: unknown) => e instanceof PowerwalkerError && /no usable reply \(QGS: expected 13 fields.*QSR: expected 24 fields/.test(e.message));
  r.sim.setFault('none');
  await r.session.close();
});

test('silence is a TimeoutError that ends the poll at once; the port unplugged is a TransportError; both recover', async () => {
  const r = await pduRig();
  await r.session.collect(signal());
  r.sim.setFault('silence');
  const before = r.sim.requests.length;
  await assert.rejects(r.session.collect(signal()), (e: unknown) => e instanceof TimeoutError && /no reply to QGS in 150 ms/.test(e.message));
  assert.equal(r.sim.requests.length - before, 1, 'no further commands after silence');
  r.sim.setFault('none');
  assert.equal((await r.session.collect(signal())).points.length, 9);

  r.host.unplug();
  await r.session.collect(signal()).then(
    () => assert.fail('collect on an unplugged link'),
    (e: unknown) => assert.ok(e instanceof TransportError || e instanceof TimeoutError, String(e)),
  );
  await r.device.open();
  const back = await r.session.collect(signal());
  assert.ok(
    back.points.some((p) => p.measurement === 'pdu_info'),
    'identified afresh after the reopen',
  );
  assert.equal(r.session.stats().reopens, 1);
  await r.session.close();
});

test('two callers at once: the second request goes out only after the first reply', async () => {
  const r = await pduRig();
  await r.session.collect(signal());
  const options = powerwalkerPduDriver.options.parse({});
  const memory = (a: string) => r.session.control!(powerwalkerPduDriver.control!.prepare('memory', [a], options, 'pdu1'), signal());
  const writes: string[] = [];
  const replies: string[] = [];
  r.host.on('data', (c: Buffer) => replies.push(c.toString('latin1')));
  const origWrite = r.host.write.bind(r.host);
  r.host.write = async (d: Uint8Array) => {
    writes.push(`${Buffer.from(d).toString('latin1')} after ${replies.length} replies`);
    return origWrite(d);
  };
  const [a, b, c] = await Promise.all([memory('9'), r.session.collect(signal()), memory('10')]);
  assert.match(a.message, /low_input_voltage_alarm = 196 V/);
  assert.equal(b.points.length, 9);
  assert.match(c.message, /high_input_voltage_alarm = 253 V/);
  writes.forEach((w, i) => assert.ok(w.endsWith(`after ${i} replies`), `${w} (request ${i})`));
  await r.session.close();
});

test('ATS: a QAS string of the wrong length drops QAS only; silence on QATS is a TimeoutError; both recover', async () => {
  const r = await atsRig();
  await r.session.collect(signal());
  r.sim.setFault('short-status', { command: 'QAS' });
  const res = await r.session.collect(signal());
  assert.deepEqual(res.dropped, [{ reason: 'QAS: reply', count: 1 }]);
  assert.match((r.session as unknown as { lastFailures: Error[] }).lastFailures[0]!.message, /QAS: status string has 23 characters, expected 24/);
  assert.equal(res.points.find((p) => p.measurement === 'ats')!.fields.status_bits, undefined);
  assert.equal(res.points.find((p) => p.measurement === 'ats')!.fields.load_pct, 14);
  r.sim.setFault('silence', { command: 'QATS' });
  await assert.rejects(r.session.collect(signal()), (e: unknown) => e instanceof TimeoutError && /no reply to QATS/.test(e.message));
  r.sim.setFault('none');
  assert.equal((await r.session.collect(signal())).dropped, undefined);
  await r.session.close();
});

test('simulator state machine: energy counters grow with the power drawn, off outlets stop counting', async () => {
  let t = 5_000_000;
  const r = await pduRig({}, () => t);
  const kwh = async (o: number) => {
    const res = await r.session.collect(signal());
    return outlet(res.points, o).fields.energy_kwh as number;
  };
  const before2 = await kwh(2);
  const power2 = (await r.session.collect(signal())).points.find((p) => p.measurement === 'pdu_outlet' && p.tags.outlet === '2')!.fields.power_w as { value: bigint };
  t += 3_600_000; // one hour at the same load
  const after2 = await kwh(2);
  assert.equal(Math.round((after2 - before2) * 10) / 10, Math.round(Number(power2.value) / 100) / 10, `${before2} → ${after2} kWh at ${power2.value} W`);
  await r.session.control!(powerwalkerPduDriver.control!.prepare('shutdown', ['2', '0'], powerwalkerPduDriver.options.parse({ control: { allow: ['shutdown'], outlets: [2] } }), 'pdu1'), signal());
  const off = await kwh(2);
  t += 3_600_000;
  assert.equal(await kwh(2), off);
  await r.session.close();
});
