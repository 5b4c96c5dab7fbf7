/**
 * Issue 16: re-decoding Itho polls (backfill, decode) opens the parameter map and the cache db
 * once per run, keeps them from poll to poll and closes them when the run ends — opening them
 * per poll was most of an Itho backfill's time. Polls recorded from a session against the
 * simulated pigpiod (no real pigpiod runs here), over real TCP.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildUnits } from '../../src/backfill/sources.js';
import { encodePoints } from '../../src/core/line-protocol.js';
import { ithoWpuDriver } from '../../src/devices/itho-wpu/index.js';
import type { CaptureRecord } from '../../src/devices/types.js';
import { formatCaptureLine } from '../../src/outbox/capture-format.js';
import { startPigpiodServer } from '../../src/simulators/pigpiod.js';
import { TcpTransport } from '../../src/transports/tcp.js';
import { ithoDir, ithoOptions, ithoSession, type IthoDir } from '../helpers/itho.js';

let d: IthoDir;
before(() => {
  d = ithoDir();
});
after(() => d.remove());

/** How many of this process's file descriptors are open on `path` (Linux /proc). */
function openOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed while we looked (the readdir's own fd)
    }
  }
  return n;
}

test('simulated pigpiod: backfill of 6 Itho polls keeps one parameter map and one cache open for the run, closes both at the end, and decodes what the session made', async () => {
  const sim = await startPigpiodServer({});
  const options = ithoOptions(d);
  const polls: CaptureRecord[][] = [];
  const live: string[] = [];
  try {
    const captures: CaptureRecord[] = [];
    const s = ithoSession(new TcpTransport({ host: '127.0.0.1', port: sim.port }), options, 'wpu', captures);
    for (let i = 0; i < 6; i++) {
      const from = captures.length;
      live.push(...encodePoints((await s.collect(AbortSignal.timeout(10_000))).points, 'ms').lines);
      polls.push(captures.slice(from));
    }
    await s.close();
  } finally {
    sim.stop();
  }
  // The first poll reads node id and datatype; the others only the datalog (+ counters), labelled through the cache.
  assert.ok(
    polls.slice(1).every((p) => p.length < polls[0]!.length),
    'later polls use the cache',
  );
  const file = join(d.dir, 'itho.jsonl');
  writeFileSync(file, polls.flatMap((p, cycle) => p.map((r) => formatCaptureLine({ ...r, device: 'wpu', driver: 'itho-wpu', cycle, text: false }) + '\n')).join(''));

  assert.equal(openOn(d.map), 0);
  const { units, close } = buildUnits({ driver: 'itho-wpu', device: 'wpu', options, tags: { site: 'test' }, source: { kind: 'captures', file, name: 'itho.jsonl', fromMs: -Infinity, toMs: Infinity } });
  const again: string[] = [];
  let n = 0;
  try {
    for (const unit of units) {
      const r = unit.decode();
      assert.deepEqual(r.errors, []);
      again.push(...encodePoints(r.points, 'ms').lines);
      n++;
      assert.equal(openOn(d.map), 1, `after poll ${n}: the map stays open, once`);
      assert.equal(openOn(d.cache), n === 1 ? 0 : 1, `after poll ${n}: the cache is opened when first needed, once`);
    }
  } finally {
    close();
  }
  assert.equal(n, 6);
  assert.equal(openOn(d.map), 0, 'closed at the end of the run');
  assert.equal(openOn(d.cache), 0);
  assert.deepEqual(again, live);

  // Without a run (a caller that gives no ctx.held) each call opens and closes them itself.
  const ctx = { device: 'wpu', options, tags: { site: 'test' }, clock: { now: () => 0, nowNs: () => 0n, sleep: async () => undefined } };
  const alone = polls.flatMap((p) => encodePoints(ithoWpuDriver.decodeCapture!(p, ctx).points, 'ms').lines);
  assert.deepEqual(alone, live);
  assert.equal(openOn(d.map) + openOn(d.cache), 0);
});
