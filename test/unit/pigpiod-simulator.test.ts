/**
 * The pigpiod simulator itself (no real pigpiod on these machines), over a raw TCP socket,
 * with the byte sequences of docs/protocols/itho-wpu.md §4.7 typed in as documented — not through the
 * driver's client, so a packing mistake shared by both could not hide.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startPigpiodServer } from '../../src/simulators/pigpiod.js';

const hex = (s: string) => Buffer.from(s.replace(/[\s|]+/g, ''), 'hex');
const zeros = (n: number) => '00 '.repeat(n);

/** A socket with a byte queue: read(n) waits for n bytes (bounded). */
async function rawSocket(port: number): Promise<{ s: Socket; read: (n: number) => Promise<Buffer> }> {
  const s = connect({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => s.once('connect', resolve).once('error', reject));
  let buf = Buffer.alloc(0);
  s.on('data', (c: Buffer) => (buf = Buffer.concat([buf, c])));
  const read = async (n: number) => {
    for (let i = 0; i < 200 && buf.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(buf.length >= n, `wanted ${n} bytes, have ${buf.length}`);
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };
  return { s, read };
}

test('pigpiod simulator (no real pigpiod here): the documented byte sequences get the documented replies', async () => {
  const sim = await startPigpiodServer({});
  const notify = await rawSocket(sim.port);
  const cmd = await rawSocket(sim.port);
  try {
    notify.s.write(hex('63 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00')); // NOIB
    assert.deepEqual(await notify.read(16), hex(`63 00 00 00 ${zeros(12)}`)); // handle 0
    cmd.s.write(hex('73 00 00 00 00 00 00 00 00 00 00 80 00 00 00 00')); // EVM(0, EVENT_BSC)
    assert.deepEqual(await cmd.read(16), hex(`73 00 00 00 00 00 00 00 00 00 00 80 00 00 00 00`));
    cmd.s.write(hex('72 00 00 00 05 03 40 00 00 00 00 00 00 00 00 00')); // BSCX: slave at 0x40 on
    assert.deepEqual(await cmd.read(20), hex('72 00 00 00 05 03 40 00 00 00 00 00 04 00 00 00 | 12 00 00 00'));
    cmd.s.write(hex('36 00 00 00 01 00 00 00 41 00 00 00 04 00 00 00 00 00 00 00')); // I2CO(1, 0x41)
    assert.deepEqual(await cmd.read(16), hex(`36 00 00 00 01 00 00 00 41 00 00 00 00 00 00 00`));
    cmd.s.write(hex('39 00 00 00 00 00 00 00 00 00 00 00 06 00 00 00 80 90 E0 04 00 8A')); // I2CWD getnodeid
    assert.deepEqual(await cmd.read(16), hex(`39 00 00 00 ${zeros(12)}`));
    const report = await notify.read(12);
    assert.deepEqual(report.subarray(0, 4), hex('00 00 9F 00'), 'a BSC event report');
    cmd.s.write(hex('72 00 00 00 05 03 40 00 00 00 00 00 00 00 00 00')); // BSCX: read the slave
    assert.deepEqual(await cmd.read(33), hex('72 00 00 00 05 03 40 00 00 00 00 00 11 00 00 00 | 12 00 00 00 | 82 90 E0 01 07 00 01 00 0D 3A 1F 00 1F'));
    cmd.s.write(hex(`37 00 00 00 ${zeros(12)}`)); // I2CC(0)
    assert.deepEqual(await cmd.read(16), hex(`37 00 00 00 ${zeros(12)}`));
    cmd.s.write(hex(`37 00 00 00 ${zeros(12)}`)); // again: PI_BAD_HANDLE (-25)
    assert.deepEqual(await cmd.read(16), hex(`37 00 00 00 ${zeros(8)} E7 FF FF FF`));
    cmd.s.write(hex(`72 00 00 00 ${zeros(12)}`)); // BSCX off
    assert.deepEqual(await cmd.read(20), hex(`72 00 00 00 ${zeros(8)} 04 00 00 00 12 00 00 00`));
    notify.s.write(hex(`15 00 00 00 ${zeros(12)}`)); // NC(0) on the notification socket: no reply
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(sim.state(), { i2cHandles: 0, notifyHandles: 0, bscOn: false, connections: 2 });
    assert.deepEqual(sim.commands, ['NOIB', 'EVM', 'BSCX', 'I2CO', 'I2CWD', 'BSCX', 'I2CC', 'I2CC', 'BSCX', 'NC']);
  } finally {
    notify.s.destroy();
    cmd.s.destroy();
    sim.stop();
  }
});

test('pigpiod simulator (no real pigpiod here): a WPU reply is only delivered to an armed slave at 0x40', async () => {
  const sim = await startPigpiodServer({});
  const cmd = await rawSocket(sim.port);
  try {
    cmd.s.write(hex('36 00 00 00 01 00 00 00 41 00 00 00 04 00 00 00 00 00 00 00'));
    await cmd.read(16);
    cmd.s.write(hex('39 00 00 00 00 00 00 00 00 00 00 00 06 00 00 00 80 A4 01 04 00 55')); // getdatalog, slave off
    await cmd.read(16);
    await new Promise((r) => setTimeout(r, 30));
    cmd.s.write(hex('72 00 00 00 05 03 40 00 00 00 00 00 00 00 00 00'));
    assert.deepEqual(await cmd.read(20), hex('72 00 00 00 05 03 40 00 00 00 00 00 04 00 00 00 | 12 00 00 00'), 'nothing arrived');
    cmd.s.write(hex('36 00 00 00 01 00 00 00 42 00 00 00 04 00 00 00 00 00 00 00')); // no device at 0x42
    assert.equal((await cmd.read(16)).readInt32LE(12), 1);
    cmd.s.write(hex('39 00 00 00 01 00 00 00 00 00 00 00 06 00 00 00 80 A4 01 04 00 55'));
    assert.equal((await cmd.read(16)).readInt32LE(12), -82, 'PI_I2C_WRITE_FAILED');
  } finally {
    cmd.s.destroy();
    sim.stop();
  }
});
