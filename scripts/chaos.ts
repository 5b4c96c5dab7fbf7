/**
 * The chaos run: `wattline run` on every simulated device, every second, its outbox on
 * a small tmpfs, delivering to a real influxd 1.6.7 on loopback, for CHAOS_SECONDS (default 1800)
 * while a driver loop, at random moments (seeded by CHAOS_SEED, printed), does one of:
 *   - kill:   SIGKILL the worker and start it again;
 *   - down:   SIGKILL influxd and start it again after a while;
 *   - freeze: SIGSTOP influxd and SIGCONT it after a while;
 *   - full:   fill the outbox's filesystem and free it again after a while;
 * and damages nothing else. Then everything is restored, the worker delivers what it holds
 * (bounded wait), is stopped, `wattline drain` sends the rest, and every committed point is
 * looked for by query.
 *
 * What was committed: the worker's `echo: true` lines, written right after the collection's
 * outbox transaction, and only for what the outbox kept (a collection refused for lack of space
 * is counted by the outbox's `refused`, not echoed). An echoed point missing from InfluxDB is
 * LOST. A point in InfluxDB that was never echoed is one committed in the instant before a
 * SIGKILL (allowed: echo comes after the commit) when its time is just before a kill; otherwise
 * a duplicate. Deliveries are seen from influxd's side: its /debug/vars
 * `httpd.pointsWrittenOK`, every 500 ms.
 *
 * Exit 1 when a committed point was lost or duplicated, or the run stalled: the worker exited by
 * itself, could not open its outbox again at the end, or did not catch up once every fault was
 * undone. Needs root (tmpfs). `npm test` runs 3 minutes of it (test/integration/chaos.test.ts).
 *
 *   npm run chaos                       # 30 minutes
 *   CHAOS_SECONDS=120 CHAOS_SEED=7 npm run chaos
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { simulatedDeviceEntries } from '../src/simulators/index.js';
import { CLI, runCli } from '../test/helpers/cli.js';
import { createDatabase, query, quoteIdent, startInfluxd, timeNs, type Influxd } from '../test/helpers/influxd.js';
import { fillDisk, mountTmpfs, type Tmpfs } from '../test/helpers/tmpfs.js';
import { cpuSeconds, loadAverage, median, met, printRow, runIfMain, stopChild } from './bench/common.js';
import { peakRssBytes, sleep } from './bench/side-by-side.js';

const MiB = 1024 * 1024;
const DB = 'chaos';
const TMPFS_BYTES = 32 * MiB;
/** How long the final delivery may take before the run gives up waiting (the drain still runs). */
const SETTLE_MS = 180_000;
/** A point in InfluxDB that was never echoed is "committed just before a kill" when its time is this close before one. */
const KILL_WINDOW_NS = 10_000_000_000n;
/** Rows the worker may still hold when it is stopped after catching up (the drain sends them). */
const CAUGHT_UP_ROWS = 200;

type Action = 'kill' | 'down' | 'freeze' | 'full';
const ACTIONS: readonly Action[] = ['kill', 'down', 'freeze', 'full'];

/** mulberry32: a small seeded generator, so a run can be repeated with its printed seed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One `wattline run` process: its echoed lines with their arrival time, its JSON log records. */
interface WorkerProc {
  child: ChildProcess;
  startedMs: number;
  exited: Promise<void>;
  /** CPU seconds and peak RSS, read just before it ends. */
  cpuS: number;
  peakRss: number;
}

interface Echoed {
  key: string;
  atMs: number;
}

class Chaos {
  readonly echoed: Echoed[] = [];
  readonly logs: { atMs: number; rec: Record<string, unknown> }[] = [];
  readonly workers: WorkerProc[] = [];
  readonly actions = new Map<Action, number>(ACTIONS.map((a) => [a, 0]));
  /** The moments of kills / influxd coming back. */
  readonly kills: number[] = [];
  readonly influxBack: { kind: 'restart' | 'resume'; atMs: number }[] = [];
  readonly outages: [number, number][] = [];
  readonly deliveries: number[] = [];
  selfExits = 0;
  readonly exitReasons = new Map<string, number>();
  readonly t0 = Date.now();
  stoppedMs = 0;
  worker: WorkerProc | null = null;
  influxDown = false;
  influxFrozen = false;
  filler: string | null = null;
  private lastWritten = -1;

  constructor(
    readonly influx: Influxd,
    readonly dir: string,
    readonly config: string,
    readonly fs: Tmpfs,
  ) {}

  startWorker(): void {
    const child = spawn(process.execPath, [CLI, '--config', this.config, 'run'], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc: WorkerProc = { child, startedMs: Date.now(), exited: Promise.resolve(), cpuS: 0, peakRss: 0 };
    proc.exited = new Promise((resolve) => child.once('close', () => resolve()));
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      const atMs = Date.now();
      out += c.toString('utf8');
      const lines = out.split('\n');
      out = lines.pop()!; // a line cut by a SIGKILL never completes: not counted as echoed
      for (const line of lines) {
        const key = lineKey(line);
        if (key) this.echoed.push({ key, atMs });
      }
    });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      const lines = err.split('\n');
      err = lines.pop()!;
      for (const line of lines) {
        try {
          this.logs.push({ atMs: Date.now(), rec: JSON.parse(line) as Record<string, unknown> });
        } catch {
          this.logs.push({ atMs: Date.now(), rec: { msg: line } });
        }
      }
    });
    // A worker that ends by itself (not by our kill) is counted and started again.
    child.once('exit', (code, signal) => {
      if (this.worker === proc && signal !== 'SIGKILL') {
        this.selfExits++;
        const last = this.logs.filter((l) => l.atMs >= proc.startedMs && Number(l.rec.level ?? 50) >= 40).at(-1)?.rec;
        const why = `code ${code}, signal ${signal}; last warning: ${last ? JSON.stringify(last.msg ?? last) : 'none'}${last?.err ? ` ${JSON.stringify(last.err)}` : ''}`;
        const seen = this.exitReasons.get(why) ?? 0;
        this.exitReasons.set(why, seen + 1);
        if (seen === 0) console.log(`chaos: ${s1(Date.now() - this.t0)} s: the worker exited by itself (${why}); starting it again (every second while it does)`);
        this.worker = null;
        setTimeout(() => this.worker === null && this.startWorker(), 1000);
      }
    });
    this.workers.push(proc);
    this.worker = proc;
  }

  private measure(proc: WorkerProc): void {
    try {
      proc.cpuS = cpuSeconds(proc.child.pid!);
      proc.peakRss = peakRssBytes(proc.child.pid!);
    } catch {
      // already gone
    }
  }

  async killWorker(): Promise<void> {
    const proc = this.worker;
    if (!proc) return;
    this.worker = null;
    this.measure(proc);
    this.kills.push(Date.now());
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  async stopWorker(): Promise<void> {
    const proc = this.worker;
    if (!proc) return;
    this.worker = null;
    this.measure(proc);
    await stopChild(proc.child);
    await proc.exited;
    this.stoppedMs = Date.now();
  }

  async influxStop(): Promise<void> {
    this.influxDown = true;
    this.outages.push([Date.now(), Infinity]);
    await this.influx.stopHard();
  }

  async influxStart(): Promise<void> {
    await this.influx.restart();
    this.influxDown = false;
    this.outages.at(-1)![1] = Date.now();
    this.influxBack.push({ kind: 'restart', atMs: Date.now() });
  }

  influxFreeze(): void {
    process.kill(this.influx.pid, 'SIGSTOP');
    this.influxFrozen = true;
    this.outages.push([Date.now(), Infinity]);
  }

  influxResume(): void {
    process.kill(this.influx.pid, 'SIGCONT');
    this.influxFrozen = false;
    this.outages.at(-1)![1] = Date.now();
    this.influxBack.push({ kind: 'resume', atMs: Date.now() });
  }

  fill(): void {
    this.filler = join(this.fs.dir, 'chaos-filler');
    fillDisk(this.filler);
  }

  free(): void {
    if (!this.filler) return;
    rmSync(this.filler, { force: true });
    this.filler = null;
  }

  /** influxd's count of points written, every 500 ms: a delivery is an increase (or a restart's first count). */
  async watchDeliveries(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const written = await this.pointsWritten();
      if (written !== null) {
        if (written > this.lastWritten || (this.lastWritten > written && written > 0)) {
          if (this.lastWritten >= 0) this.deliveries.push(Date.now());
        }
        this.lastWritten = written;
      }
      await sleep(500);
    }
  }

  private async pointsWritten(): Promise<number | null> {
    if (this.influxDown || this.influxFrozen) return null;
    try {
      const res = await fetch(`${this.influx.url}/debug/vars`, { signal: AbortSignal.timeout(1000) });
      const vars = (await res.json()) as Record<string, { name?: string; values?: Record<string, number> }>;
      let n = 0;
      for (const v of Object.values(vars)) if (v?.name === 'httpd') n += v.values?.pointsWrittenOK ?? 0;
      return n;
    } catch {
      return null;
    }
  }
}

/** `measurement,tag=v field=1 1700000000000` → a canonical series key and time, like InfluxDB's own rows. */
export function lineKey(line: string): string | null {
  if (!line || line.startsWith('#')) return null;
  const seriesEnd = unescapedIndex(line, ' ', 0);
  const timeStart = line.lastIndexOf(' ');
  if (seriesEnd < 0 || timeStart <= seriesEnd || !/^\d+$/.test(line.slice(timeStart + 1))) return null;
  const parts = splitUnescaped(line.slice(0, seriesEnd), ',');
  const measurement = unescape(parts[0]!);
  const tags = parts.slice(1).map((t) => {
    const eq = unescapedIndex(t, '=', 0);
    return [unescape(t.slice(0, eq)), unescape(t.slice(eq + 1))] as [string, string];
  });
  return seriesKey(measurement, tags, BigInt(line.slice(timeStart + 1)) * PRECISION_NS);
}

/** The worker's lines are at `influx.precision: ms` (set in the config below). */
const PRECISION_NS = 1_000_000n;

function seriesKey(measurement: string, tags: [string, string][], ns: bigint): string {
  const t = tags
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('\u0001');
  return `${measurement}\u0000${t}\u0000${ns}`;
}

function unescapedIndex(s: string, ch: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === ch) return i;
  }
  return -1;
}

function splitUnescaped(s: string, ch: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = unescapedIndex(s, ch, 0); i >= 0; i = unescapedIndex(s, ch, start)) {
    out.push(s.slice(start, i));
    start = i + 1;
  }
  out.push(s.slice(start));
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\([,= \\])/g, '$1');
}

/** Every (series, time) pair in the database, as keys like lineKey's. */
async function storedKeys(url: string): Promise<{ keys: Set<string>; rows: number }> {
  const keys = new Set<string>();
  let rows = 0;
  const measurements = (await query(url, DB, 'SHOW MEASUREMENTS'))[0]?.values.map((v) => String(v[0])) ?? [];
  for (const m of measurements) {
    for (const s of await query(url, DB, `SELECT * FROM ${quoteIdent(m)} GROUP BY *`)) {
      const tags = Object.entries(s.tags ?? {});
      for (const row of s.values) {
        rows++;
        keys.add(seriesKey(m, tags, timeNs(String(row[0]))));
      }
    }
  }
  return { keys, rows };
}

function keyTimeNs(key: string): bigint {
  return BigInt(key.slice(key.lastIndexOf('\u0000') + 1));
}

/** Read the outbox read-only through SQLite (WAL included; the worker may still be writing it); null if it cannot be opened. */
function readOutbox<T>(outbox: string, read: (db: Database.Database) => T): T | null {
  let db: Database.Database | undefined;
  try {
    db = new Database(outbox, { readonly: true, fileMustExist: true });
    return read(db);
  } catch (err) {
    console.log(`chaos: the outbox cannot be read: ${(err as Error).message}`);
    return null;
  } finally {
    db?.close();
  }
}

const counter = (outbox: string, column: 'rows' | 'refused') => readOutbox(outbox, (db) => db.prepare(`SELECT ${column} FROM outbox_counters`).pluck().get() as number);

function pick<T>(random: () => number, xs: readonly T[]): T {
  return xs[Math.floor(random() * xs.length)]!;
}

const between = (random: () => number, lo: number, hi: number) => lo + random() * (hi - lo);
const s1 = (ms: number) => (ms / 1000).toFixed(1);

export async function run(): Promise<{ failures: number }> {
  const seconds = Number(process.env.CHAOS_SECONDS ?? 1800);
  const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const random = seeded(seed);
  const load = loadAverage();
  console.log(`chaos: ${seconds} s, seed ${seed} (CHAOS_SEED=${seed} repeats the actions), load ${load}`);

  const dir = mkdtempSync(join(tmpdir(), 'wattline-chaos-'));
  let fs: Tmpfs | null = null;
  let influx: Influxd | null = null;
  let chaos: Chaos | null = null;
  const watch = new AbortController();
  let watching: Promise<void> = Promise.resolve();
  let stopEarly = () => undefined as void;
  const early = new Promise<void>((r) => (stopEarly = r));
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    stopEarly();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    fs = mountTmpfs(TMPFS_BYTES);
    influx = await startInfluxd();
    await createDatabase(influx.url, DB);
    const outbox = join(fs.dir, 'outbox.sqlite');
    const config = join(dir, 'wattline.yaml');
    writeFileSync(
      config,
      stringify({
        echo: true,
        log: { level: 'info', format: 'json' },
        outbox: { path: outbox },
        influx: { version: 1, url: influx.url, database: DB, precision: 'ms', timeoutMs: 5000 },
        devices: simulatedDeviceEntries('chaos', { schedule: '* * * * * *' }),
      }),
    );
    chaos = new Chaos(influx, dir, config, fs);
    chaos.startWorker();
    watching = chaos.watchDeliveries(watch.signal);

    // The driver loop: a pause, then one action; influxd is either down or frozen, never both.
    const endMs = Date.now() + seconds * 1000;
    let stopped = false;
    void early.then(() => (stopped = true));
    const wait = (ms: number) => Promise.race([sleep(Math.max(0, Math.min(ms, endMs - Date.now()))), early]);
    const pending: Promise<void>[] = [];
    // A fault that cannot be undone (influxd not coming back) ends the run through the cleanup
    // below, not as an unhandled rejection that would leave the tmpfs mounted and the worker running.
    let undoFailed: unknown = null;
    const undo = (ms: number, fn: () => void | Promise<void>) =>
      pending.push(
        wait(ms)
          .then(fn)
          .catch((err: unknown) => {
            undoFailed ??= err;
            stopEarly();
          }),
      );
    await wait(between(random, 5000, 15_000));
    while (!stopped && endMs - Date.now() > 1000) {
      const c = chaos;
      const action = pick(random, ACTIONS);
      const holdMs = between(random, 3000, 30_000);
      const atS = s1(seconds * 1000 - (endMs - Date.now()));
      if (action === 'kill') {
        await c.killWorker();
        await sleep(between(random, 0, 2000));
        c.startWorker();
      } else if (action === 'down' && !c.influxDown && !c.influxFrozen) {
        await c.influxStop();
        undo(holdMs, () => c.influxStart());
      } else if (action === 'freeze' && !c.influxDown && !c.influxFrozen) {
        c.influxFreeze();
        undo(holdMs, () => c.influxResume());
      } else if (action === 'full' && !c.filler) {
        c.fill();
        undo(holdMs, () => c.free());
      } else {
        await wait(1000);
        continue; // that fault is on already: draw again
      }
      c.actions.set(action, c.actions.get(action)! + 1);
      console.log(`chaos: ${atS} s: ${action}${action === 'kill' ? '' : ` for ${s1(holdMs)} s`}`);
      await wait(between(random, 5000, 25_000));
    }
    // Every fault ends (its timer is cut short at the end), then the worker catches up.
    await Promise.all(pending);
    if (undoFailed) throw undoFailed;
    if (!chaos.worker) chaos.startWorker();
    const settleEnd = Date.now() + SETTLE_MS;
    let left = counter(outbox, 'rows');
    // A worker that keeps exiting by itself (restarted every second) will not catch up: stop waiting.
    const exitsBefore = chaos.selfExits;
    while (Date.now() < settleEnd && (left === null || left > CAUGHT_UP_ROWS) && chaos.selfExits - exitsBefore < 20) {
      await sleep(1000);
      left = counter(outbox, 'rows');
    }
    const caughtUp = left !== null && left <= CAUGHT_UP_ROWS;
    console.log(`chaos: restored; ${left ?? '?'} rows pending after ${s1(SETTLE_MS - (settleEnd - Date.now()))} s; stopping the worker`);
    await chaos.stopWorker();
    const drain = await runCli(['--config', config, 'drain', '--no-progress'], { timeoutMs: 120_000 });
    if (drain.code !== 0) console.log(`chaos: drain exited ${drain.code}: ${drain.stderr.trim()}`);
    const shown = await runCli(['--config', config, 'buffer', '--json']);
    // A worker that refuses its own outbox leaves the rows there: read them as SQLite does (WAL included).
    const buffer = shown.code === 0 ? (JSON.parse(shown.stdout) as Record<string, number>) : { refused: counter(outbox, 'refused') ?? NaN, unusable: 1 };
    const stuck = shown.code === 0 ? new Set<string>() : stuckKeys(outbox);
    watch.abort();
    await watching;

    return await report(chaos, buffer, stuck, { seconds, seed, load, interrupted, caughtUp });
  } finally {
    watch.abort();
    await watching.catch(() => undefined);
    if (chaos?.influxFrozen) chaos.influxResume();
    if (chaos) for (const w of chaos.workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await influx?.stop();
    fs?.unmount();
    rmSync(dir, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function report(c: Chaos, buffer: Record<string, number>, stuck: Set<string>, o: { seconds: number; seed: number; load: string; interrupted: boolean; caughtUp: boolean }): Promise<{ failures: number }> {
  const { keys: stored, rows } = await storedKeys(c.influx.url);
  const committed = new Map<string, number>(); // key → when it was echoed
  for (const e of c.echoed) if (!committed.has(e.key)) committed.set(e.key, e.atMs);
  let lost = 0;
  const lostSamples: string[] = [];
  let found = 0;
  let stuckCount = 0;
  for (const [key, atMs] of committed) {
    if (stored.has(key)) {
      found++;
      continue;
    }
    if (stuck.has(key)) stuckCount++;
    else {
      lost++;
      if (lostSamples.length < 10) lostSamples.push(`${key.replace(/\u0000|\u0001/g, ' ')} (echoed ${new Date(atMs).toISOString()})`);
    }
  }
  let beforeKill = 0;
  let duplicates = 0;
  const dupSamples: string[] = [];
  const killsNs = c.kills.map((ms) => BigInt(ms) * 1_000_000n);
  let selfMetrics = 0;
  for (const key of stored) {
    if (committed.has(key)) continue;
    // The worker's own metrics go to the outbox without being echoed: counted, not checked.
    if (key.startsWith('wattline_')) {
      selfMetrics++;
      continue;
    }
    const t = keyTimeNs(key);
    if (killsNs.some((k) => t <= k + 1_000_000_000n && t >= k - KILL_WINDOW_NS)) beforeKill++;
    else {
      duplicates++;
      if (dupSamples.length < 10) dupSamples.push(`${key.replace(/\u0000|\u0001/g, ' ')} (${new Date(Number(t / 1_000_000n)).toISOString()})`);
    }
  }

  // Deliveries as influxd saw them: the longest gap, and outside outages; recovery after each return.
  const gaps = c.deliveries.slice(1).map((t, i) => ({ from: c.deliveries[i]!, ms: t - c.deliveries[i]! }));
  const overlapsOutage = (from: number, to: number) => c.outages.some(([a, b]) => a < to && b > from);
  const longest = Math.max(0, ...gaps.map((g) => g.ms));
  const longestOutside = Math.max(0, ...gaps.filter((g) => !overlapsOutage(g.from, g.from + g.ms)).map((g) => g.ms));
  const recoveries = c.influxBack.map((b) => (c.deliveries.find((t) => t >= b.atMs) ?? NaN) - b.atMs).filter((x) => Number.isFinite(x));
  const workerRecoveries = c.kills.map((k) => (c.deliveries.find((t) => t >= k) ?? NaN) - k).filter((x) => Number.isFinite(x));
  const cpuS = c.workers.reduce((a, w) => a + w.cpuS, 0);
  const peak = Math.max(0, ...c.workers.map((w) => w.peakRss));
  // Stalled: the worker ended by itself (it never should), refused its own outbox, or did not catch up.
  const stalled = c.selfExits > 0 || Boolean(buffer.unusable) || !o.caughtUp;

  const figures = {
    seconds: o.seconds,
    seed: o.seed,
    interrupted: o.interrupted,
    actions: Object.fromEntries(c.actions),
    workerProcesses: c.workers.length,
    workerSelfExits: c.selfExits,
    workerExitReasons: Object.fromEntries(c.exitReasons),
    committed: committed.size,
    found,
    influxRows: rows,
    lost,
    stuckInRefusedOutbox: stuckCount,
    // When the outbox is refused at the end: the rows it still holds, and how many of those InfluxDB already has.
    rowsInRefusedOutbox: stuck.size,
    ofThemAlreadyInInflux: [...stuck].filter((k) => stored.has(k)).length,
    // Collections the outbox refused while the disk was full (self-metrics included): counted, not echoed.
    refusedByOutbox: buffer.refused ?? 0,
    caughtUp: o.caughtUp,
    stalled,
    committedJustBeforeKillNotEchoed: beforeKill,
    selfMetricsNotEchoed: selfMetrics,
    duplicates,
    outboxAfterDrain: { rows: buffer.rows, deadLetters: buffer.deadLetters, dropped: buffer.dropped },
    workerPeakRssMb: Math.round((peak / MiB) * 10) / 10,
    workerCpuS: Math.round(cpuS * 10) / 10,
    // Of one core, over the whole life of the workers (the run and the final catching up).
    workerCpuPct: Math.round((cpuS / (((c.stoppedMs || Date.now()) - c.workers[0]!.startedMs) / 1000)) * 1000) / 10,
    longestDeliveryGapS: Number(s1(longest)),
    longestGapOutsideOutagesS: Number(s1(longestOutside)),
    influxRecoveryS: recoveries.length ? { median: Number(s1(median(recoveries))), max: Number(s1(Math.max(...recoveries))), n: recoveries.length } : null,
    workerRestartToDeliveryS: workerRecoveries.length ? { median: Number(s1(median(workerRecoveries))), max: Number(s1(Math.max(...workerRecoveries))), n: workerRecoveries.length } : null,
  };
  console.log(JSON.stringify(figures, null, 2));
  if (duplicates > 0) console.log(`chaos: ${duplicates} points found that were never echoed and not just before a kill, e.g.\n  ${dupSamples.join('\n  ')}`);
  if (lost > 0) console.log(`chaos: LOST ${lost} committed points, e.g.\n  ${lostSamples.join('\n  ')}`);
  const a = figures.actions as Record<string, number>;
  printRow(
    [
      `chaos run, ${Math.round(o.seconds / 60)} min (seed ${o.seed}): ${a.kill} worker SIGKILLs, ${a.down} influxd kills, ${a.freeze} freezes, ${a.full} full disks`,
      `${committed.size} committed, ${found} found, ${lost} lost, ${buffer.unusable ? `worker stalled (outbox refused at restart, ${stuck.size} rows left, ${stuckCount} of them not in InfluxDB), ` : ''}${duplicates} duplicates (${figures.refusedByOutbox} refused on a full disk); peak RSS ${figures.workerPeakRssMb} MB, CPU ${figures.workerCpuPct}%; longest gap ${figures.longestDeliveryGapS} s (${figures.longestGapOutsideOutagesS} s outside outages); recovery median ${figures.influxRecoveryS?.median ?? '-'} s, max ${figures.influxRecoveryS?.max ?? '-'} s`,
      '-',
      '-',
      `nothing lost, duplicated or stuck ${met(lost + stuckCount + duplicates === 0 && !stalled)}`,
    ],
    o.load,
  );
  if (stuckCount > 0) console.log(`chaos: ${stuckCount} committed points STUCK: still in an outbox the worker refuses to open`);
  if (c.selfExits > 0) console.log(`chaos: STALLED: the worker exited by itself ${c.selfExits} times (${[...c.exitReasons.keys()].join('; ')})`);
  if (!o.caughtUp) console.log('chaos: STALLED: with every fault undone the worker did not deliver its backlog in time');
  // A worker that cannot open its outbox again has stalled for good, whatever InfluxDB already holds.
  if (buffer.unusable) console.log(`chaos: STALLED: at the end the worker refuses its own outbox (see the drain's message above); ${stuck.size} rows left in it`);
  return { failures: lost + stuckCount + duplicates + (stalled ? 1 : 0) };
}

/** Keys of the rows left in an outbox file. */
function stuckKeys(outbox: string): Set<string> {
  const keys = new Set<string>();
  readOutbox(outbox, (db) => {
    for (const line of db.prepare('SELECT line FROM outbox').pluck().iterate() as Iterable<string>) {
      const key = lineKey(line);
      if (key) keys.add(key);
    }
  });
  return keys;
}

runIfMain(import.meta.url, async () => {
  const { failures } = await run();
  process.exit(failures > 0 ? 1 : 0);
});
