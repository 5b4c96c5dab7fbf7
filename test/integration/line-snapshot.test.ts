/**
 * Issue 22's promise that the line protocol of every simulated device stays identical. Every demo
 * device (one per driver with a simulator) runs alone in a dry-run Worker for three polls, with
 * Math.random seeded (the simulators jitter their values with it) and Date.now frozen, moved 10 s
 * between polls (the simulators' and the clock's time); the lines must equal `lines.txt`.
 *
 * `lines.txt` was recorded from the code before issue 22's restructuring (commit bf68bac) with the
 * same procedure, so this test proves the lines unchanged across it. Record again (only when a
 * change of the lines is intended): WATTLINE_RECORD_SNAPSHOT=1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { validate } from '../../src/config/load.js';
import { drivers } from '../../src/devices/index.js';
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { Worker } from '../../src/runtime/worker.js';
import { fixture } from '../helpers/paths.js';

const FIXTURE = fixture('line-snapshot', 'lines.txt');
const POLLS = 3;
const T0 = 1_780_000_000_000;

/** mulberry32: a small seeded generator, restarted for every device. */
function seeded(seed: number): () => number {
  return () => {
    let t = (seed += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function simulatedLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of simulatedDeviceEntries('demo')) {
    Math.random = seeded(1);
    let now = T0;
    Date.now = () => now;
    const dir = mkdtempSync(join(tmpdir(), 'wl-line-snapshot-'));
    // The Itho demo's map and cache paths are relative to the working folder: keep them in dir.
    const e = entry.driver !== 'itho-wpu' ? entry : { ...entry, options: { ...(entry.options as object), parameterMap: join(dir, 'itho-map.sqlite'), cacheDb: join(dir, 'itho-cache.sqlite') } };
    const config = validate({ site: 'demo', outbox: { path: join(dir, 'outbox.sqlite') }, devices: [e] }, drivers, 'demo');
    // The system clock: real sleeps (the simulators answer on timers), its time the frozen Date.now.
    const worker = new Worker({ loaded: { config, path: null, dir, demo: false }, drivers, log: pino({ level: 'silent' }), dryRun: true });
    try {
      for (let i = 0; i < POLLS; i++) {
        for (const r of await worker.runOnce()) {
          if (!r.ok) lines.push(`# ${r.device} poll ${i}: failed: ${r.error}`);
          lines.push(...r.lines);
        }
        now += 10_000;
      }
    } finally {
      await worker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return lines;
}

test('line protocol of every simulated device (seeded simulators, three polls) equals the lines recorded before issue 22', async () => {
  const random = Math.random;
  const dateNow = Date.now;
  let lines: string[];
  try {
    lines = await simulatedLines();
  } finally {
    Math.random = random;
    Date.now = dateNow;
  }
  if (process.env.WATTLINE_RECORD_SNAPSHOT === '1') writeFileSync(FIXTURE, lines.join('\n') + '\n');
  const expected = readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  // Every driver is in the recording: a simulator that stopped producing lines fails here too.
  assert.deepEqual(new Set(expected.map((l) => /device=demo-([\w-]+)/.exec(l)?.[1])), new Set(drivers.filter((d) => simulatedDeviceEntries('demo').some((e) => e.driver === d.id)).map((d) => d.id)));
  assert.equal(lines.length, expected.length, 'number of lines');
  for (let i = 0; i < expected.length; i++) assert.equal(lines[i], expected[i], `line ${i + 1}`);
});
