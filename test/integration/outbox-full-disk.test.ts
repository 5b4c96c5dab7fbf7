/**
 * Issue 23: the outbox's filesystem full, on a real tmpfs, delivering to a real influxd 1.6.7
 * through the worker's own parts (SqliteOutbox, Flusher, InfluxV1Writer). InfluxDB is killed
 * while points pile up, started again, and every committed point is counted by query:
 * delivered exactly once (unique timestamps, so a duplicate would only overwrite, and a loss
 * shows as a lower count), refused points counted, collection resuming by itself.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/log.js';
import { Flusher } from '../../src/influx/flusher.js';
import { InfluxV1Writer } from '../../src/influx/v1-writer.js';
import { SqliteOutbox } from '../../src/outbox/sqlite-outbox.js';
import { count, createDatabase, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { fillDisk, mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';
import { startWorker, type RunningWorker } from '../helpers/worker-run.js';
import { drivers } from '../../src/devices/index.js';
import { demoDevices } from '../../src/simulators/index.js';

const MiB = 1024 * 1024;
const LIMITS = { maxRows: 10_000_000, maxBytes: 2 * 1024 * MiB };
const T0 = 1_700_000_000_000;

interface Record {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function capturingLogger(): { log: Logger; records: Record[] } {
  const records: Record[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => void records.push(JSON.parse(s) as Record) });
  return { log, records };
}

/** A stand-in for collections: `n` points with timestamps no other call uses. */
class Collector {
  private next = 0;
  committed = 0;
  refused = 0;
  constructor(private readonly outbox: SqliteOutbox) {}
  collect(n: number): boolean {
    const lines = Array.from({ length: n }, () => `fill,device=tmpfs,phase=l1 power_w=${this.next},current_a=1.25 ${T0 + this.next++}`);
    const { refused } = this.outbox.append(lines, 'ms');
    if (refused) this.refused += refused;
    else this.committed += n;
    return !refused;
  }
}

function flusherFor(outbox: SqliteOutbox, influx: Influxd, db: string, log: Logger): Flusher {
  return new Flusher({
    outbox,
    writer: new InfluxV1Writer({ url: influx.url, database: db, timeoutMs: 10_000, gzip: false }),
    batchSize: 5000,
    batchBytes: 4 * MiB,
    flushIntervalMs: 50,
    minRetryDelayMs: 50,
    maxRetryDelayMs: 500,
    clock: systemClock,
    log,
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the outbox on a full tmpfs, delivering to influxd 1.6.7', () => {
  let influx: Influxd;
  const mounts: Tmpfs[] = [];
  const closers: (() => Promise<void> | void)[] = [];
  before(async () => {
    influx = await startInfluxd();
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    for (const m of mounts) m.unmount();
    await influx?.stop();
  });

  function mount(size: number): string {
    const m = mountTmpfs(size);
    mounts.push(m);
    return m.dir;
  }

  test('below minFreeBytes new points are refused and counted, every committed point arrives once, collection resumes', async () => {
    const dir = mount(8 * MiB);
    await createDatabase(influx.url, 'low');
    const { log, records } = capturingLogger();
    const outbox = new SqliteOutbox(join(dir, 'outbox.sqlite'), LIMITS, { synchronous: 'normal', minFreeBytes: 2 * MiB, log });
    closers.push(() => outbox.close());
    const c = new Collector(outbox);

    // InfluxDB down: points pile up until the margin is reached.
    await influx.stopHard();
    let refusedInARow = 0;
    while (refusedInARow < 5) refusedInARow = c.collect(500) ? 0 : refusedInARow + 1;
    assert.ok(c.committed > 20_000, `only ${c.committed} points fit`);
    assert.equal(outbox.stats().refused, c.refused);
    assert.equal(outbox.spaceStatus()!.refusing, true);
    assert.equal(records.filter((r) => /disk space low/.test(r.msg)).length, 1, 'the low state is logged once');
    // The WAL stays a small share of the disk (bounded, checkpointed), not what filled it.
    assert.ok(statSync(join(dir, 'outbox.sqlite-wal')).size <= (8 * MiB) / 16, `WAL of ${statSync(join(dir, 'outbox.sqlite-wal')).size} bytes`);

    // InfluxDB back: everything committed is delivered and acknowledged.
    await influx.restart();
    const flusher = flusherFor(outbox, influx, 'low', log);
    closers.push(() => flusher.stop());
    flusher.start();
    await until('the outbox is empty', () => outbox.stats().rows === 0);
    assert.equal(await count(influx.url, 'low', 'fill', 'power_w'), c.committed);

    // Collection resumes by itself: the freed pages count as room.
    assert.equal(c.collect(500), true, 'a collection after delivery is committed again');
    assert.equal(records.filter((r) => /disk space is back/.test(r.msg)).length, 1, 'the recovery is logged once');
    await until('the new points are delivered', () => outbox.stats().rows === 0);
    assert.equal(await count(influx.url, 'low', 'fill', 'power_w'), c.committed);
    assert.equal(outbox.stats().refused, c.refused);
    assert.equal(records.filter((r) => r.level >= 50).length, 0, 'nothing logged at error level');
  });

  test('a disk filled by something else: the reserve is given back, acknowledgements go through, nothing is lost', async () => {
    const dir = mount(8 * MiB);
    await createDatabase(influx.url, 'full');
    const { log, records } = capturingLogger();
    // No margin: only a really full disk stops it.
    const outbox = new SqliteOutbox(join(dir, 'outbox.sqlite'), LIMITS, { synchronous: 'normal', minFreeBytes: 0, log });
    closers.push(() => outbox.close());
    const reserve = join(dir, 'outbox.sqlite.reserve');
    assert.ok(existsSync(reserve), 'a reserve is made at open');
    const c = new Collector(outbox);

    await influx.stopHard();
    for (let i = 0; i < 40; i++) assert.equal(c.collect(500), true);
    const filler = join(dir, 'filler');
    fillDisk(filler);
    // The WAL's slack takes a few more; then no room at all: refused and counted, never thrown.
    let more = 0;
    while (c.collect(500)) assert.ok(++more < 100, 'collections still committed on a full disk');
    assert.equal(c.collect(500), false);
    assert.equal(outbox.stats().refused, c.refused);

    await influx.restart();
    const flusher = flusherFor(outbox, influx, 'full', log);
    closers.push(() => flusher.stop());
    flusher.start();
    await until('the outbox is empty', () => outbox.stats().rows === 0);
    assert.equal(existsSync(reserve), false, 'the reserve was given back');
    assert.equal(records.filter((r) => /released the reserve/.test(r.msg)).length, 1);
    assert.equal(records.filter((r) => /on disk failed/.test(String(r.msg) + String(r.message))).length, 0, 'no acknowledgement failed');
    assert.equal(await count(influx.url, 'full', 'fill', 'power_w'), c.committed);

    // Space returns: collection resumes and the reserve is made again.
    rmSync(filler);
    assert.equal(c.collect(500), true);
    assert.ok(existsSync(reserve), 'the reserve is made again');
    await until('the new points are delivered', () => outbox.stats().rows === 0);
    assert.equal(await count(influx.url, 'full', 'fill', 'power_w'), c.committed);
    assert.equal(outbox.stats().refused, c.refused);
  });

  test('the worker itself: collections on a nearly full disk are refused (one line), delivery and collection resume', async () => {
    const dir = mount(8 * MiB);
    await createDatabase(influx.url, 'worker');
    const minFreeBytes = 3 * MiB;
    // A backlog that leaves the disk just below the margin (committed while InfluxDB is down).
    const filler = new SqliteOutbox(join(dir, 'outbox.sqlite'), LIMITS, { synchronous: 'normal', minFreeBytes: 0 });
    const c = new Collector(filler);
    while (filler.spaceStatus()!.freeBytes >= minFreeBytes) c.collect(500);
    filler.close();
    await influx.stopHard();

    const run: RunningWorker = await startWorker(
      {
        outbox: { path: 'outbox.sqlite', synchronous: 'normal', minFreeBytes },
        influx: { version: 1, url: influx.url, database: 'worker', flushIntervalMs: 100, minRetryDelayMs: 100, maxRetryDelayMs: 500 },
        devices: [{ name: 'ups', driver: 'nut-ups', simulate: true, schedule: '* * * * * *', options: demoDevices().find((d) => d.driver === 'nut-ups')!.options }],
      },
      drivers,
      dir,
    );
    closers.push(() => run.stop());
    const outbox = run.worker.outbox!;
    // Which collections were committed: the refused counter moves when one is refused.
    let refusedSeen = 0;
    let committedUps = 0;
    let refusedCollections = 0;
    let afterRecovery = 0;
    run.worker.onCollected((r) => {
      const refused = outbox.stats().refused ?? 0;
      if (refused > refusedSeen) refusedCollections++;
      else {
        committedUps += r.lines.filter((l) => l.startsWith('ups,') && l.includes('battery_charge_pct=')).length;
        if (run.logged(/disk space is back/).length > 0) afterRecovery++;
      }
      refusedSeen = refused;
    });
    const failed: string[] = [];
    run.worker.scheduler.on('jobEnd', (r) => !r.ok && failed.push(`${r.name}: ${r.outcome} ${r.error}`));

    await until('three collections are refused', () => refusedCollections >= 3, 20_000);
    assert.equal(run.logged(/disk space low/).length, 1, 'logged once, not per collection');
    assert.deepEqual(failed, [], 'a refused collection is not a failed job');

    await influx.restart();
    await until('space is back and collection resumes', () => afterRecovery >= 2, 60_000);
    await run.stop();
    assert.equal(run.logged(/disk space is back/).length, 1);
    assert.deepEqual(failed, []);
    assert.equal(run.logs.filter((l) => typeof l.stack === 'string' || (typeof l.err === 'object' && l.err !== null)).length, 0, 'no stack in the log');

    // Every committed point arrived once: the backlog, and the UPS points not refused
    // (those still pending when the worker stopped are in the outbox, not lost).
    const after = new SqliteOutbox(join(dir, 'outbox.sqlite'), LIMITS, { minFreeBytes: 0 });
    closers.push(() => after.close());
    const pending = after.peek(1e6, 1e9)?.rows ?? [];
    assert.equal(pending.filter((r) => r.line.startsWith('fill,')).length, 0, 'the whole backlog was delivered');
    const pendingUps = pending.filter((r) => r.line.startsWith('ups,') && r.line.includes('battery_charge_pct=')).length;
    assert.equal(await count(influx.url, 'worker', 'fill', 'power_w'), c.committed);
    assert.equal((await count(influx.url, 'worker', 'ups', 'battery_charge_pct')) + pendingUps, committedUps);
    assert.ok(committedUps > 0);
  });
});
