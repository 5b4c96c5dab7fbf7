/**
 * USB HID: no virtual HID device can exist on these machines (no UHID in the kernel), so
 * HidTransport is driven through the project's PowerWalker simulator behind a stand-in of
 * the node-hid module (src/simulators/powerwalker-hid.ts: 8-byte input reports, NUL
 * padded) — the test names say so. The real node-hid is loaded to enumerate this machine's
 * devices and to show the error for a device that is not there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransportError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { buildConfigSchema } from '../../src/config/schema.js';
import { drivers } from '../../src/devices/index.js';
import { powerwalkerPduDriver } from '../../src/devices/powerwalker-pdu/index.js';
import { simulatedHid, toReports } from '../../src/simulators/powerwalker-hid.js';
import { startPduSimulator } from '../../src/simulators/powerwalker-pdu.js';
import { HidTransport, hidKey, type HidModule } from '../../src/transports/hid.js';
import { linkKey } from '../../src/assembly/link.js';
import { createTransport } from '../../src/assembly/transport.js';
import type { DeviceConfig } from '../../src/config/schema.js';
import { FakeClock } from '../helpers/fake-clock.js';

const signal = () => new AbortController().signal;
const clock = new FakeClock(42);

test('toReports: a reply in 8-byte reports, the last NUL-padded', () => {
  const r = toReports(Buffer.from('(PI90\r'));
  assert.deepEqual(
    r.map((b) => [...b]),
    [[0x28, 0x50, 0x49, 0x39, 0x30, 0x0d, 0, 0]],
  );
  assert.equal(toReports(Buffer.alloc(17, 0x41)).length, 3);
});

test('HID (simulated device behind a node-hid stand-in; no virtual HID here): PDU poll and control through 8-byte reports', async () => {
  const hid = simulatedHid((device) => startPduSimulator(device));
  const transport = new HidTransport({ vendorId: 0x0665, productId: 0x5161, loadHid: async () => hid.module });
  const options = powerwalkerPduDriver.options.parse({ requestTimeoutMs: 200, control: { allow: ['off'], outlets: [3] } });
  const session = powerwalkerPduDriver.createSession({ device: 'pdu-hid', options, tags: {}, transport, clock, log: silentLogger() });
  await session.start();
  const res = await session.collect(signal());
  assert.equal(res.points.find((p) => p.measurement === 'pdu')!.fields.input_v, 225.5);
  assert.equal(res.points.filter((p) => p.measurement === 'pdu_outlet').length, 8);
  // Commands leave as one write each, unchanged (no report-id byte, §1.1).
  assert.deepEqual(
    hid.writes.slice(0, 2).map((b) => b.toString('latin1')),
    ['QPI\r', 'QMD\r'],
  );
  // Replies arrived as padded 8-byte reports: the QGS reply (75 bytes) alone took 10.
  assert.ok(hid.reports.every((r) => r.length === 8));
  assert.ok(
    hid.reports.some((r) => r.includes(0x0d) && r.at(-1) === 0),
    'a padded last report',
  );

  const r = await session.control!(powerwalkerPduDriver.control!.prepare('off', ['3'], options, 'pdu-hid'), signal());
  assert.deepEqual(r.data?.commands, ['S,3.1']);
  assert.equal(hid.sim.outletStatus(3), 3);
  await session.close();
});

test('HID (simulated device; no virtual HID here): unplugged is a retryable TransportError naming what is left, plugged back recovers', async () => {
  const hid = simulatedHid((device) => startPduSimulator(device));
  const transport = new HidTransport({ path: hid.info.path, loadHid: async () => hid.module });
  const session = powerwalkerPduDriver.createSession({ device: 'pdu-hid', options: powerwalkerPduDriver.options.parse({ requestTimeoutMs: 200 }), tags: {}, transport, clock, log: silentLogger() });
  await session.collect(signal());
  hid.unplug();
  assert.equal(transport.isOpen, false);
  await assert.rejects(session.collect(signal()), (e: unknown) => e instanceof TransportError && e.retryable && /no HID device at \/dev\/hidraw-sim0 .*node-hid found: none/.test(e.message));
  hid.plug();
  const back = await session.collect(signal());
  assert.ok(back.points.some((p) => p.measurement === 'pdu_info'));
  assert.equal(session.stats().reopens, 1);
  await session.close();
});

test('real node-hid: enumerates this machine (no HID device here) and the absent device is a clear TransportError', async () => {
  const real = (await import('node-hid')) as unknown as HidModule;
  const list = await real.devicesAsync();
  assert.ok(Array.isArray(list));
  const transport = new HidTransport({ vendorId: 0x0665, productId: 0x5161 });
  assert.equal(transport.key, 'hid:0665:5161');
  await assert.rejects(
    transport.open(),
    (e: unknown) => e instanceof TransportError && /^hid: no HID device with vendorId 0x0665 productId 0x5161 .*node-hid found: /.test(e.message) && e.message.includes(list.length === 0 ? 'found: none' : '0x'),
  );
  assert.equal(transport.isOpen, false);
});

test('config: hid: selects HidTransport (key hid:…); port and hid together, or neither ids nor path, are refused', () => {
  const schema = buildConfigSchema(drivers);
  const ok = schema.parse({ devices: [{ name: 'pdu', driver: 'powerwalker-pdu', hid: { vendorId: 0x0665, productId: 0x5161 } }] });
  const dev = ok.devices[0] as DeviceConfig;
  assert.equal(linkKey(dev, powerwalkerPduDriver), 'hid:0665:5161');
  const { transport } = createTransport(dev, powerwalkerPduDriver);
  assert.ok(transport instanceof HidTransport);
  assert.equal(transport.key, hidKey({ vendorId: 0x0665, productId: 0x5161 }));

  const both = schema.safeParse({ devices: [{ name: 'pdu', driver: 'powerwalker-pdu', hid: { path: '/dev/hidraw0' }, port: { path: '/dev/ttyUSB0' } }] });
  assert.ok(!both.success && JSON.stringify(both.error.issues).includes('either port (serial) or hid'));
  const half = schema.safeParse({ devices: [{ name: 'pdu', driver: 'powerwalker-pdu', hid: { vendorId: 1 } }] });
  assert.ok(!half.success && JSON.stringify(half.error.issues).includes('give path, or both vendorId and productId'));
  const serial = schema.parse({ devices: [{ name: 'pdu', driver: 'powerwalker-pdu', port: { path: '/dev/ttyUSB0' } }] });
  const s = createTransport(serial.devices[0] as DeviceConfig, powerwalkerPduDriver).transport as unknown as { options: { baudRate: number } };
  assert.equal(s.options.baudRate, 2400);
});

test('HID (node-hid stand-in listing another device; no virtual HID here): the error lists what was found', async () => {
  const other = { vendorId: 0x046d, productId: 0xc52b, path: '/dev/hidraw3', product: 'USB Receiver' };
  const module: HidModule = { devicesAsync: async () => [other], HIDAsync: { open: async () => assert.fail('must not open another device') } };
  const transport = new HidTransport({ vendorId: 0x0665, productId: 0x5161, loadHid: async () => module });
  await assert.rejects(transport.open(), /no HID device with vendorId 0x0665 productId 0x5161 .*node-hid found: 0x046d:0xc52b \/dev\/hidraw3 "USB Receiver"$/);
  const byPath = new HidTransport({ path: '/dev/hidraw9', loadHid: async () => module });
  await assert.rejects(byPath.open(), /no HID device at \/dev\/hidraw9 .*found: 0x046d:0xc52b/);
});
