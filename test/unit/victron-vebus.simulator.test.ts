/**
 * The Multiplus simulator answers the recorded requests of docs/protocols/victron-vebus.md §3 with the recorded
 * replies, byte for byte (raw bytes here, no codec: the simulator must stand on its own).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVebusSimulator } from '../../src/simulators/victron-vebus.js';
import { createSimLink } from '../../src/transports/sim.js';

const hex = (s: string) => Buffer.from(s.replaceAll(' ', ''), 'hex');

async function exchange(requests: string[], opts: Parameters<typeof startVebusSimulator>[1] = {}): Promise<string> {
  const { host, device } = createSimLink('sim:mp2-raw');
  await host.open();
  const sim = startVebusSimulator(device, { idleVersionMs: 0, ...opts });
  const got: Buffer[] = [];
  host.on('data', (c: Buffer) => got.push(c));
  const size = () => got.reduce((n, c) => n + c.length, 0);
  for (const r of requests) {
    const before = size();
    await host.write(hex(r));
    // Until the reply is in (bounded: the snapshot trigger gets none).
    for (let i = 0; i < 40 && size() === before; i++) await new Promise((res) => setTimeout(res, 5));
  }
  sim.stop();
  return Buffer.concat(got).toString('hex').toUpperCase();
}

test('simulator: version, address, LEDs, AC info and the 5-value snapshot are the recorded frames', async () => {
  const out = await exchange(['02 FF 56 A9', '04 FF 41 01 00 BB', '02 FF 4C B3', '03 FF 46 01 B7', '08 FF 46 06 0F 10 04 05 0D 78', '03 FF 58 38 6E']);
  const want = ['07 FF 56 24 DB 11 00 42 52', '04 FF 41 01 00 BB', '08 FF 4C 01 0C 00 00 80 00 20', '0F 20 01 01 01 09 08 EC 5A 5F FF EC 5A 08 00 C3 08', '0D FF 58 99 8E FE 78 00 6E 14 B9 FF B4 00 11'];
  assert.equal(out, want.join('').replaceAll(' ', ''));
});

test('simulator: the recorded assistant scan (128 = 0x0090 …, 130 = ESS) and the set-point write acknowledged', async () => {
  const out = await exchange(['05 FF 58 30 80 00 F4', '07 FF 58 37 02 83 0C FE DC']);
  // 128 → 0x0090 with UMains (228.81 V in the capture; the simulator's 232.76 V) as the second value.
  assert.match(out, /^07FF58859000EC5A/);
  assert.ok(out.endsWith('03FF58871F'), out);
});

test('simulator: raw sleep and wakeup frames are taken verbatim; faults act out on demand', async () => {
  const { host, device } = createSimLink('sim:mp2-raw2');
  await host.open();
  const sim = startVebusSimulator(device, { idleVersionMs: 0 });
  const got: Buffer[] = [];
  host.on('data', (c: Buffer) => got.push(c));
  await host.write(hex('05 3F 04 00 00 00 C5'));
  await host.write(hex('05 3F 07 00 00 00 C2'));
  sim.fault('bad-checksum');
  await host.write(hex('02 FF 56 A9'));
  for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  sim.stop();
  assert.deepEqual(sim.rawCommands, ['sleep', 'wakeup']);
  const reply = Buffer.concat(got);
  assert.equal(reply.length, 9);
  assert.notEqual(reply.reduce((a, b) => a + b, 0) & 0xff, 0, 'the checksum is broken');
});
