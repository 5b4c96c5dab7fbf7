/**
 * P1 on a network link that goes quiet: closed and reopened after reconnectQuietMs, by default
 * 3x the telegram interval (the gap between the last two telegrams, 1-10 s; 30 s before two).
 * A sim link keyed like a network link (`tcp:host:port`), the P1 recordings, an injected clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/log.js';
import { dsmrP1Driver } from '../../src/devices/dsmr-p1/index.js';
import { T211_57B6, T211_7945 } from '../../src/simulators/dsmr-p1-recordings.js';
import { createSimLink } from '../../src/transports/sim.js';
import { FakeClock } from '../helpers/fake-clock.js';

const settle = () => new Promise((r) => setTimeout(r, 20));
/** Waits (bounded) until the session's background loops have got somewhere; not a timing test. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), `gave up waiting: ${what}`);
}

async function rig(options: Record<string, unknown> = {}) {
  const { host, device } = createSimLink('tcp:p1-reader:8088');
  await device.open();
  // sleep() resolves on the next turn: the session's loops run as fast as the test moves the time.
  const clock = new FakeClock(1_700_000_000_000, { sleep: 'next-tick' });
  const session = dsmrP1Driver.createSession({ device: 'meter', options: dsmrP1Driver.options.parse(options), tags: {}, transport: host, clock, log: silentLogger() });
  await session.start();
  const send = async (t: string) => {
    await device.write(Buffer.from(t, 'latin1'));
    await settle();
  };
  const advance = async (ms: number) => {
    clock.advance(ms);
    await settle();
  };
  return { session, host, send, advance };
}

test('P1 on a network link: quiet for 3x the telegram interval (30 s before two telegrams) -> closed and reopened, counted', async () => {
  const r = await rig();
  try {
    await r.advance(29_000);
    assert.equal(r.session.stats().quiet_reconnects, 0, '29 s without a telegram: under 3 x 10 s');
    await r.send(T211_7945);
    await r.advance(1000);
    await r.send(T211_57B6); // one second apart: the limit is 3 s
    await r.advance(2500);
    assert.equal(r.session.stats().quiet_reconnects, 0);
    await r.advance(1000);
    await until(() => r.session.stats().reopens === 1 && r.host.isOpen, 'closed and opened again');
    assert.equal(r.session.stats().quiet_reconnects, 1);
  } finally {
    await r.session.close();
  }
});

test('P1 on a network link: reconnectQuietMs overrides the measured interval', async () => {
  const r = await rig({ reconnectQuietMs: 60_000 });
  try {
    await r.send(T211_7945);
    await r.advance(1000);
    await r.send(T211_57B6);
    await r.advance(59_000);
    assert.equal(r.session.stats().quiet_reconnects, 0);
    await r.advance(1000);
    await until(() => r.session.stats().quiet_reconnects === 1, 'a quiet reconnect');
  } finally {
    await r.session.close();
  }
});
