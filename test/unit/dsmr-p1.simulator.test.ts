/** The P1 simulator: recordings replayed as is, varied telegrams with a valid CRC of its own. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTelegram } from '../../src/devices/dsmr-p1/codec.js';
import { P1Framer } from '../../src/devices/dsmr-p1/framer.js';
import { P1Simulator, startDsmrP1Simulator, withCrc, type P1Sink } from '../../src/simulators/dsmr-p1.js';
import { DSMR5_NL, P1_RECORDINGS, T211_7945 } from '../../src/simulators/dsmr-p1-recordings.js';
import { createSimLink } from '../../src/transports/sim.js';

function memorySink(): P1Sink & { bytes: Buffer[] } {
  const bytes: Buffer[] = [];
  return { bytes, write: async (b) => void bytes.push(Buffer.from(b)), close: async () => undefined };
}

test('every recording verifies: the simulator replays real telegrams unchanged', () => {
  const f = new P1Framer();
  const all = Object.values(P1_RECORDINGS);
  const events = f.feed(Buffer.from(all.join(''), 'latin1'));
  assert.equal(events.length, all.length);
  assert.ok(events.every((e) => e.kind === 'telegram'));
  assert.equal(withCrc(T211_7945), T211_7945, "the simulator's own CRC agrees with the meter's");
});

test('varied telegrams: new values and clock, the CRC recomputed, energy only grows', async () => {
  const sink = memorySink();
  let now = Date.UTC(2024, 6, 1, 12, 0, 0);
  let seed = 1;
  const sim = new P1Simulator(sink, { telegrams: [DSMR5_NL], vary: true, now: () => now, random: () => (seed = (seed * 16807) % 2147483647) / 2147483647 });
  for (let i = 0; i < 20; i++) {
    await sim.tick();
    now += 1000;
  }
  const f = new P1Framer();
  const texts = f.feed(Buffer.concat(sink.bytes)).map((e) => (e.kind === 'telegram' ? e.text : assert.fail(e.detail)));
  assert.equal(texts.length, 20);
  const decoded = texts.map((t) => decodeTelegram(t, { timezone: 'Europe/Amsterdam' }));
  assert.equal(decoded[0].meterTime, Date.UTC(2024, 6, 1, 12, 0, 0));
  assert.equal(decoded[19].meterTime, Date.UTC(2024, 6, 1, 12, 0, 19));
  const field = (i: number, name: string) => decoded[i].values.find((v) => v.field === name)?.value as number;
  assert.ok(new Set(decoded.map((_, i) => field(i, 'power_import_w'))).size > 1, 'power varies');
  for (let i = 1; i < 20; i++) assert.ok(field(i, 'energy_import_t1_kwh') >= field(i - 1, 'energy_import_t1_kwh'));
  assert.deepEqual(decoded[5].errors, []);
});

test('startDsmrP1Simulator: a demo meter on a sim link', async () => {
  const { host, device } = createSimLink('sim:demo');
  const received: Buffer[] = [];
  await host.open();
  host.on('data', (c: Buffer) => received.push(c));
  const running = startDsmrP1Simulator(device, { intervalMs: 60_000 });
  for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  running.stop();
  const events = new P1Framer().feed(Buffer.concat(received));
  assert.equal(events.length, 1);
  assert.equal(events[0].kind, 'telegram');
});
