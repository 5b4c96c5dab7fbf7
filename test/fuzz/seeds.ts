/**
 * Seeds for the fuzz targets: the project's recorded frames. P1 telegrams are the real
 * captures of test/fixtures/dsmr-p1; the poll drivers' exchanges are recorded from real
 * sessions against the project's simulators (which answer with recorded frames and protocol
 * tables, never with the driver's codec), through the same capture hook the worker uses.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { findDriver } from '../../src/devices/index.js';
import type { CaptureRecord } from '../../src/devices/types.js';
import { HDHK_DEMO_OPTIONS } from '../../src/simulators/demo-options.js';
import { startSimulator } from '../../src/simulators/index.js';
import { createSimLink } from '../../src/transports/sim.js';
import { fixture } from '../helpers/paths.js';

/** Every recorded P1 telegram (and log) of the golden folders. */
export function p1Telegrams(): Buffer[] {
  const dir = fixture('dsmr-p1');
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => readFileSync(join(dir, d.name, 'telegram.txt')))
    .sort(Buffer.compare);
}

/** The frames of a golden folder's JSON (`frames`/`replies` with `hex` or `reply` text), as bytes. */
export function goldenFrames(folder: 'victron-vebus' | 'itho-wpu' | 'powerwalker'): Buffer[] {
  const file = folder === 'powerwalker' ? 'replies.json' : 'frames.json';
  const doc = JSON.parse(readFileSync(fixture(folder, file), 'utf8')) as { frames?: { hex: string; dir?: string }[]; replies?: { reply: string }[] };
  if (doc.replies) return doc.replies.map((r) => Buffer.from(`${r.reply}\r`, 'ascii'));
  return doc.frames!.filter((f) => f.dir !== 'tx').map((f) => Buffer.from(f.hex.replace(/ /g, ''), 'hex'));
}

/** Real Access files (mdb-reader's test files) as .par seeds. */
export function accessFiles(): Buffer[] {
  const dir = fixture('access');
  return readdirSync(dir)
    .filter((f) => /\.(mdb|accdb)$/.test(f))
    .sort()
    .map((f) => readFileSync(join(dir, f)));
}

/** Options a driver's session needs against its simulator (itho: files in `dir`). */
export function sessionOptions(driverId: string, dir: string): unknown {
  switch (driverId) {
    case 'hdhk':
      return HDHK_DEMO_OPTIONS;
    case 'nut-ups':
      return { ups: 'demo' };
    case 'itho-wpu':
      return { parameterMap: join(dir, 'itho-map.sqlite'), cacheDb: join(dir, 'itho-cache.sqlite') };
    case 'victron-vebus':
      return { snapshotWaitMs: 0 };
    default:
      return {};
  }
}

/**
 * `polls` collections of a real session against the driver's simulator: the capture records
 * of each collection. Drivers whose simulators run on a sim link: all the poll drivers.
 */
export async function recordPolls(driverId: string, dir: string, polls = 3): Promise<CaptureRecord[][]> {
  const driver = findDriver(driverId);
  if (!driver) throw new Error(`no driver ${driverId}`);
  const options = driver.options.parse(sessionOptions(driverId, dir));
  const link = createSimLink(`sim:${driverId}`);
  await link.device.open();
  const sim = startSimulator(driverId, link.device, options);
  await sim.ready;
  let current: CaptureRecord[] = [];
  const clock: Clock = systemClock;
  const session = driver.createSession({
    device: 'fuzz',
    options,
    tags: {},
    transport: link.host,
    clock,
    log: silentLogger(),
    capture: (direction, data, timeMs) => current.push({ direction, data: typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data), timeMs }),
  });
  const out: CaptureRecord[][] = [];
  try {
    await session.start();
    for (let i = 0; i < polls; i++) {
      current = [];
      await session.collect(AbortSignal.timeout(10_000));
      if (current.length > 0) out.push(current);
    }
  } finally {
    await session.close();
    sim.stop();
  }
  if (out.length === 0) throw new Error(`${driverId}: the session recorded nothing`);
  return out;
}

/**
 * Temporary folders: `dir` for files the seeds need (the Itho parameter map), `fastDir` on
 * tmpfs where there is one (the .par target writes and fsyncs a map per input). Removed by
 * remove(), also when a worker was stopped in the middle of an input.
 */
export function seedDirs(): { dir: string; fastDir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-fuzz-'));
  const fastDir = existsSync('/dev/shm') ? mkdtempSync(join('/dev/shm', 'wattline-fuzz-')) : join(dir, 'fast');
  if (!existsSync(fastDir)) mkdirSync(fastDir);
  return { dir, fastDir, remove: () => [dir, fastDir].forEach((d) => rmSync(d, { recursive: true, force: true })) };
}
