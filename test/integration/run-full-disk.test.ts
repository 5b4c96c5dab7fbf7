/**
 * Issue 23: `wattline run` started while the outbox's filesystem is full (a real tmpfs, a real
 * influxd 1.6.7). A worker on a full disk still has work to do, its backlog, so it starts (as
 * NUT's upsd and Telegraf do without their pidfile): the outbox's reserve is given back to open
 * the file, a PID file that cannot be written is one warning naming it (no temporary file left
 * behind), and every point of the backlog arrives, counted by query. With no reserve and no
 * room at all the file cannot even be read: one line naming it, exit 1, not "damaged".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SqliteOutbox } from '../../src/outbox/sqlite-outbox.js';
import { acquireWorkerLock } from '../../src/outbox/worker-lock.js';
import { runCli, startCli } from '../helpers/cli.js';
import { count, createDatabase, query, quoteIdent, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { ROOT } from '../helpers/paths.js';
import { fillDisk, mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';
import { until } from '../helpers/until.js';

const MiB = 1024 * 1024;
const LIMITS = { maxRows: 10_000_000, maxBytes: 2 * 1024 * MiB };
const T0 = 1_700_000_000_000;
const BACKLOG = 5000;

/** The backlog: points with times no other line has, so a count by query shows every loss. */
function backlogLines(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `backlog,device=tmpfs power_w=${i} ${T0 + i}`);
}

/** A process that commits the backlog and is SIGKILLed holding the outbox (its -wal and -shm stay, as after a crash). */
async function backlogThenKill(outbox: string, n: number): Promise<void> {
  const module = pathToFileURL(join(ROOT, 'dist', 'src', 'outbox', 'sqlite-outbox.js')).href;
  const code = `import { SqliteOutbox } from ${JSON.stringify(module)};
const o = new SqliteOutbox(${JSON.stringify(outbox)}, ${JSON.stringify(LIMITS)}, { minFreeBytes: 0 });
const lines = Array.from({ length: ${n} }, (_, i) => \`backlog,device=tmpfs power_w=\${i} \${${T0} + i}\`);
for (let i = 0; i < lines.length; i += 500) o.append(lines.slice(i, i + 500), 'ms');
process.stdout.write('ready\\n');
setInterval(() => undefined, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('close', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
      child.once('close', () => reject(new Error('the backlog writer ended before it was ready')));
    });
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

describe('wattline run on a full disk', () => {
  let influx: Influxd;
  const mounts: Tmpfs[] = [];
  before(async () => {
    influx = await startInfluxd();
  });
  after(async () => {
    for (const m of mounts) m.unmount();
    await influx?.stop();
  });

  /** A tmpfs with the outbox and a config delivering to database `db`; the one device collects once a year (never, here). */
  async function setUp(db: string, extra: string[] = []): Promise<{ dir: string; outbox: string; config: string }> {
    const m = mountTmpfs(8 * MiB);
    mounts.push(m);
    await createDatabase(influx.url, db);
    const outbox = join(m.dir, 'outbox.sqlite');
    // The config lives off the tmpfs: the disk that is full is the outbox's.
    const config = join(m.dir, '..', `${db}-wattline.yaml`);
    writeFileSync(
      config,
      [
        'log: { level: info, format: json }',
        ...extra,
        `outbox: { path: ${JSON.stringify(outbox)} }`,
        `influx: { version: 1, url: ${JSON.stringify(influx.url)}, database: ${db}, precision: ms, flushIntervalMs: 100, minRetryDelayMs: 100, maxRetryDelayMs: 500 }`,
        'devices:',
        '  - { name: meter, driver: dsmr-p1, simulate: true, schedule: "0 0 0 1 1 *" }',
        '',
      ].join('\n'),
    );
    return { dir: m.dir, outbox, config };
  }

  /** Start `wattline run`, wait until InfluxDB holds the whole backlog, stop it with SIGTERM; its stderr. */
  async function runUntilDelivered(config: string, db: string): Promise<string> {
    const worker = startCli(['--config', config, 'run']);
    try {
      await until(
        'the backlog is in InfluxDB',
        async () => {
          if (worker.child.exitCode !== null) throw new Error(`the worker exited ${worker.child.exitCode}: ${worker.output().stderr}`);
          return (await count(influx.url, db, 'backlog', 'power_w')) === BACKLOG;
        },
        60_000,
      );
    } finally {
      worker.child.kill('SIGTERM');
    }
    assert.equal(await worker.exited, 0, worker.output().stderr);
    return worker.output().stderr;
  }

  const records = (stderr: string) =>
    stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; msg: string });

  test('the outbox closed cleanly, its reserve there: the reserve is released (one warning), the worker starts and delivers the whole backlog', async () => {
    const { dir, outbox, config } = await setUp('reserve');
    const o = new SqliteOutbox(outbox, LIMITS, { minFreeBytes: 0 });
    o.append(backlogLines(BACKLOG), 'ms');
    o.close();
    fillDisk(join(dir, 'filler'));

    const stderr = await runUntilDelivered(config, 'reserve');
    const warnings = records(stderr).filter((r) => r.level >= 40 && !/InfluxDB|disk space low/.test(r.msg));
    assert.deepEqual(
      warnings.map((r) => r.msg),
      ['outbox: disk full at start: released the reserve to open the outbox (made again when space returns)'],
    );
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.pid')),
      [],
      'no PID file or temporary file left',
    );
  });

  test('after a crash, no reserve and no room: the PID file is one warning naming it, no temporary file is left, the backlog is delivered', async () => {
    const { dir, outbox, config } = await setUp('nopid');
    await backlogThenKill(outbox, BACKLOG);
    rmSync(`${outbox}.reserve`);
    fillDisk(join(dir, 'filler'));

    const stderr = await runUntilDelivered(config, 'nopid');
    const about = records(stderr).filter((r) => r.msg.includes('.pid'));
    assert.equal(about.length, 1, stderr);
    assert.equal(about[0]!.level, 40);
    assert.match(about[0]!.msg, new RegExp(`^${outbox.replace(/[.]/g, '\\.')}\\.pid: cannot write the worker's PID file \\(ENOSPC: no space left on device, write\\); running without it`));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.pid')),
      [],
      'no PID file or temporary file left',
    );
  });

  test('the worker lock on a full disk: taken, the PID file problem reported, neither the PID file nor its temporary file left', () => {
    const m = mountTmpfs(1 * MiB);
    mounts.push(m);
    const outbox = join(m.dir, 'outbox.sqlite');
    // A stale PID file of a worker long gone must not name the wrong process to the next one.
    writeFileSync(`${outbox}.pid`, '999999\n');
    fillDisk(join(m.dir, 'filler'));
    const lock = acquireWorkerLock(outbox);
    try {
      assert.match(lock.pidFileProblem ?? '', /\.pid: cannot write the worker's PID file \(ENOSPC/);
      assert.deepEqual(readdirSync(m.dir).sort(), ['filler', 'outbox.sqlite.lock']);
      // The lock still holds: a second worker is refused.
      assert.throws(() => acquireWorkerLock(outbox), /another wattline worker is running on this outbox/);
    } finally {
      lock.release();
    }
  });

  test('closed cleanly, no reserve, no room at all: one line naming the file, exit 1 (not called damaged), the file unchanged', async () => {
    const { dir, outbox, config } = await setUp('noroom');
    const o = new SqliteOutbox(outbox, LIMITS, { minFreeBytes: 0 });
    o.append(backlogLines(100), 'ms');
    o.close();
    rmSync(`${outbox}.reserve`);
    fillDisk(join(dir, 'filler'));

    const r = await runCli(['--config', config, 'run'], { timeoutMs: 30_000 });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^wattline: ${outbox.replace(/[.]/g, '\\.')}: cannot be opened: its disk is full \\([^\\n]*\\); free some space on it\\n$`));
    // Space back: the same file opens with everything in it.
    rmSync(join(dir, 'filler'));
    const again = new SqliteOutbox(outbox, LIMITS, { minFreeBytes: 0 });
    assert.equal(again.stats().rows, 100);
    again.close();
  });

  test('once with points refused for lack of space: exit 1 with one line, echo prints nothing it did not keep; through a running worker too; with room again exit 0 and every echoed line is in InfluxDB', async () => {
    const { dir, outbox, config } = await setUp('once', ['echo: true']);
    new SqliteOutbox(outbox, LIMITS).close();
    const filler = join(dir, 'filler');
    fillDisk(filler);
    const refusal = 'points not kept: the outbox refused them for lack of disk space (below outbox.minFreeBytes; wattline buffer shows the disk)';

    const alone = await runCli(['--config', config, 'once'], { timeoutMs: 60_000 });
    assert.equal(alone.code, 1, alone.stderr);
    assert.equal(alone.stdout, '', 'echo printed lines the outbox refused');
    const errors = records(alone.stderr).filter((r) => r.level >= 50);
    assert.deepEqual(
      errors.map((r) => r.msg),
      [refusal],
    );
    assert.deepEqual((errors[0] as unknown as { devices: string[] }).devices, ['meter']);

    // Beside a running worker (which starts on the full disk): it collects, its outbox refuses, once says so.
    const worker = startCli(['--config', config, 'run']);
    try {
      await until('the worker runs', () => worker.output().stderr.includes('"worker started"') || worker.child.exitCode !== null, 30_000);
      assert.equal(worker.child.exitCode, null, worker.output().stderr);
      const remote = await runCli(['--config', config, 'once'], { timeoutMs: 60_000 });
      assert.equal(remote.code, 1, remote.stderr);
      assert.deepEqual(
        records(remote.stderr)
          .filter((r) => r.level >= 50)
          .map((r) => r.msg),
        [refusal],
      );
      assert.equal(worker.output().stdout, '', 'the worker echoed refused lines');
    } finally {
      worker.child.kill('SIGTERM');
    }
    assert.equal(await worker.exited, 0, worker.output().stderr);

    // Room again: kept, echoed, delivered.
    rmSync(filler);
    const kept = await runCli(['--config', config, 'once'], { timeoutMs: 60_000 });
    assert.equal(kept.code, 0, kept.stderr);
    const lines = kept.stdout.split('\n').filter(Boolean);
    assert.ok(lines.length > 0, 'nothing echoed');
    for (const line of lines) {
      const measurement = line.slice(0, line.search(/[, ]/));
      const ms = line.slice(line.lastIndexOf(' ') + 1);
      const found = await query(influx.url, 'once', `SELECT * FROM ${quoteIdent(measurement)} WHERE time = ${ms}ms`);
      assert.equal(found[0]?.values.length, 1, `echoed but not in InfluxDB: ${line}`);
    }
  });
});
