/**
 * linkFor (src/assembly/link.ts): the one place that decides a device's link — simulator,
 * network driver, HID, local serial port, or a serial port behind a network address — and the
 * serial settings it runs at (the driver's defaults from its protocol, the config's overrides).
 * The scheduler's port key and the transport built for the device must agree on it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkFor, linkKey } from '../../src/assembly/link.js';
import { createTransport } from '../../src/assembly/transport.js';
import type { DeviceConfig } from '../../src/config/schema.js';
import { drivers } from '../../src/devices/index.js';
import type { Driver } from '../../src/devices/types.js';

const driver = (id: string): Driver => drivers.find((d) => d.id === id)!;

function device(id: string, entry: Record<string, unknown>, options: unknown = {}): { config: DeviceConfig; driver: Driver } {
  const d = driver(id);
  return { config: { name: 'dev', driver: id, ...entry, options: d.options.parse(options) } as unknown as DeviceConfig, driver: d };
}

test('linkFor: simulate wins over everything, keyed by the device name', () => {
  const { config, driver: d } = device('dsmr-p1', { simulate: true, port: { path: '/dev/ttyUSB0' } });
  assert.deepEqual(linkFor(config, d), { kind: 'simulate', key: 'sim:dev' });
});

test('linkFor: a network driver (nut-ups) connects where its options say', () => {
  const { config, driver: d } = device('nut-ups', {}, { ups: 'myups', host: '10.0.0.5', port: 3494 });
  assert.deepEqual(linkFor(config, d), { kind: 'network', key: 'tcp:10.0.0.5:3494', host: '10.0.0.5', port: 3494 });
});

test('linkFor: USB HID by path or by vendor and product id', () => {
  const byPath = device('powerwalker-pdu', { hid: { path: '/dev/hidraw0' } });
  assert.equal(linkFor(byPath.config, byPath.driver).key, 'hid:/dev/hidraw0');
  const byId = device('powerwalker-pdu', { hid: { vendorId: 0x0665, productId: 0x5161 } });
  assert.deepEqual(linkFor(byId.config, byId.driver), { kind: 'hid', key: 'hid:0665:5161', selector: { vendorId: 0x0665, productId: 0x5161 } });
});

test("linkFor: a local serial port at the driver's protocol settings, the config overriding each one it names", () => {
  // DSMR 5 meters send at 115200 8N1; DSMR 2.2 and 3 at 9600 7E1 (P1 companion standard).
  const p1 = device('dsmr-p1', { port: { path: '/dev/ttyUSB0' } });
  assert.deepEqual(linkFor(p1.config, p1.driver), { kind: 'serial', key: 'serial:/dev/ttyUSB0', path: '/dev/ttyUSB0', serial: { baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 } });
  const old = device('dsmr-p1', { port: { path: '/dev/ttyUSB0' } }, { dsmrVersion: '2.2' });
  assert.deepEqual(linkFor(old.config, old.driver), {
    kind: 'serial',
    key: 'serial:/dev/ttyUSB0',
    path: '/dev/ttyUSB0',
    serial: { baudRate: 9600, dataBits: 7, parity: 'even', stopBits: 1 },
  });
  // VE.Bus through an MK3 runs at 2400 8N1; the config changes only the speed here.
  const mk3 = device('victron-vebus', { port: { path: '/dev/ttyUSB1', baudRate: 19200 } });
  const link = linkFor(mk3.config, mk3.driver);
  assert.ok(link.kind === 'serial');
  assert.deepEqual(link.serial, { baudRate: 19200, dataBits: 8, parity: 'none', stopBits: 1 });
});

test('linkFor: a serial port behind a network address is one remote port per host:port, whatever the scheme', () => {
  const raw = device('dsmr-p1', { port: { path: 'tcp://10.1.2.3:4001' } });
  const telnet = device('dsmr-p1', { port: { path: 'rfc2217://10.1.2.3:4001' } });
  const a = linkFor(raw.config, raw.driver);
  const b = linkFor(telnet.config, telnet.driver);
  assert.ok(a.kind === 'remote-serial' && b.kind === 'remote-serial');
  assert.equal(a.key, 'tcp:10.1.2.3:4001');
  assert.equal(b.key, a.key);
  assert.equal(a.remote.scheme, 'tcp');
  assert.equal(b.remote.scheme, 'rfc2217');
  // The settings rfc2217 sends to the far port are the driver's, as for a local port.
  assert.deepEqual(b.serial, { baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 });
});

test('the transport built for a device carries the key the scheduler locks on (one decision, two uses)', async () => {
  const cases = [
    device('nut-ups', {}, { ups: 'myups', host: '10.0.0.5' }),
    device('powerwalker-pdu', { hid: { vendorId: 0x0665, productId: 0x5161 } }),
    device('dsmr-p1', { port: { path: '/dev/ttyUSB0' } }),
    device('dsmr-p1', { port: { path: 'tcp://10.1.2.3:4001' } }),
    device('dsmr-p1', { port: { path: 'rfc2217://10.1.2.3:4001' } }),
    device('hdhk', { port: { path: 'modbus+tcp://10.1.2.3' } }, { units: [{ id: 1, channels: { '1': { circuit: 'oven', phase: 'L1' } } }] }),
    device('dsmr-p1', { simulate: true }),
  ];
  for (const { config, driver: d } of cases) {
    const built = createTransport(config, d);
    try {
      assert.equal(built.transport.key, linkKey(config, d), `${config.driver} ${JSON.stringify(config.port ?? config.hid ?? 'simulate')}`);
      assert.deepEqual(built.link, linkFor(config, d));
    } finally {
      built.simulator?.stop();
      await built.transport.close().catch(() => undefined);
    }
  }
});
