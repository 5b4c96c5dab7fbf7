/**
 * Group commit (src/outbox/group-commit.ts): jobs ready together share one transaction, no
 * append resolves before the commit that holds its lines (another connection sees them at
 * that moment), device status rows ride with the next points, and a SIGKILL loses nothing
 * that was acknowledged.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ROOT } from '../helpers/paths.js';
import { openDeviceStatus } from '../../src/outbox/device-status.js';
import { GroupCommit, STATUS_DELAY_MS } from '../../src/outbox/group-commit.js';
import { openSqliteOutbox } from '../../src/outbox/sqlite-outbox.js';

const ROOMY = { maxRows: 1_000_000, maxBytes: 1_000_000_000 };
const CHILD = join(ROOT, 'dist', 'test', 'helpers', 'group-commit-child.js');
let dir = '';
let files = 0;
const freshPath = () => join(dir, `outbox-${++files}.sqlite`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wattline-group-commit-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What another connection (another process: `wattline buffer`, the flusher's reader) sees. */
function committedLines(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT line FROM outbox ORDER BY id').pluck().all() as string[];
  } finally {
    db.close();
  }
}

test('jobs ready within the window share one commit; each resolves only once its lines are visible to another connection', async () => {
  const path = freshPath();
  const outbox = openSqliteOutbox(path, ROOMY);
  const commits = new GroupCommit(outbox, 20);
  const seenAtResolve: string[][] = [];
  const jobs = [1, 2, 3, 4, 5].map((j) =>
    commits.append([`m,job=${j} v=1i`, `m,job=${j} v=2i`], 'ms').then((r) => {
      seenAtResolve.push(committedLines(path));
      return r;
    }),
  );
  assert.deepEqual(committedLines(path), [], 'nothing is committed before the window ends');
  const results = await Promise.all(jobs);
  assert.deepEqual(
    results,
    [1, 2, 3, 4, 5].map(() => ({ dropped: 0 })),
  );
  assert.deepEqual(commits.counts, { commits: 1, jobs: 5 });
  const expected = [1, 2, 3, 4, 5].flatMap((j) => [`m,job=${j} v=1i`, `m,job=${j} v=2i`]);
  for (const seen of seenAtResolve) assert.deepEqual(seen, expected);
  assert.equal(outbox.stats().rows, 10);
  commits.close();
  outbox.close();
});

/** The next turn of the event loop (after what is ready now, as a reply arriving later would be). */
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

test('jobs still collecting hold the commit: replies of one tick arriving over several turns share one commit, which goes when the last appends', async () => {
  const path = freshPath();
  const outbox = openSqliteOutbox(path, ROOMY);
  // Three jobs started by one tick; a bound far beyond the test, so only the last append releases the commit.
  let active = 3;
  const commits = new GroupCommit(outbox, 0, { active: () => active, maxMs: 60_000 });
  const resolved: number[] = [];
  const one = commits.append(['m,job=1 v=1i'], 'ms').then(() => resolved.push(1));
  await nextTurn();
  await nextTurn();
  const two = commits.append(['m,job=2 v=1i'], 'ms').then(() => resolved.push(2));
  await nextTurn();
  await nextTurn();
  assert.deepEqual(committedLines(path), [], 'held while job 3 still collects');
  assert.equal(resolved.length, 0, 'no job resolved while held');
  const three = commits.append(['m,job=3 v=1i'], 'ms').then(() => resolved.push(3));
  await Promise.all([one, two, three]);
  assert.deepEqual(commits.counts, { commits: 1, jobs: 3 });
  assert.deepEqual(committedLines(path), ['m,job=1 v=1i', 'm,job=2 v=1i', 'm,job=3 v=1i']);
  // A job alone (nothing else collecting) is never held.
  active = 1;
  await commits.append(['m,job=4 v=1i'], 'ms');
  assert.deepEqual(commits.counts, { commits: 2, jobs: 4 });
  commits.close();
  outbox.close();
});

test('a held commit goes when the job it waited for ends without points, or at its bound when that job never ends', async () => {
  const path = freshPath();
  const outbox = openSqliteOutbox(path, ROOMY);
  let active = 2;
  const commits = new GroupCommit(outbox, 0, { active: () => active, maxMs: 60_000 });
  const first = commits.append(['m,job=1 v=1i'], 'ms');
  await nextTurn();
  await nextTurn();
  assert.deepEqual(committedLines(path), [], 'held for the other job');
  // The other job failed: it ends (the ledger records its status) without appending.
  active = 1;
  commits.record('dev-2', { ok: false, endMs: 1, durationMs: 1, points: 0, error: 'no reply' });
  await first;
  assert.deepEqual(committedLines(path), ['m,job=1 v=1i']);
  commits.close();
  outbox.close();

  // A job that never ends (hung until its timeout) holds a commit no longer than the bound.
  const outbox2 = openSqliteOutbox(freshPath(), ROOMY);
  const bounded = new GroupCommit(outbox2, 0, { active: () => 2, maxMs: 5 });
  assert.deepEqual(await bounded.append(['m,job=1 v=1i'], 'ms'), { dropped: 0 });
  assert.deepEqual(bounded.counts, { commits: 1, jobs: 1 });
  bounded.close();
  outbox2.close();
});

test('by default (no timer window) jobs appended in the same turn of the event loop share one commit, later ones the next', async () => {
  const path = freshPath();
  const outbox = openSqliteOutbox(path, ROOMY);
  const commits = new GroupCommit(outbox);
  const first = [1, 2, 3].map((j) => commits.append([`m,job=${j} v=1i`], 'ms'));
  await Promise.all(first);
  assert.deepEqual(commits.counts, { commits: 1, jobs: 3 });
  await commits.append(['m,job=4 v=1i'], 'ms');
  assert.deepEqual(commits.counts, { commits: 2, jobs: 4 });
  assert.deepEqual(committedLines(path), ['m,job=1 v=1i', 'm,job=2 v=1i', 'm,job=3 v=1i', 'm,job=4 v=1i']);
  commits.close();
  outbox.close();
});

test('drop-oldest is counted per job inside a group, as separate appends would', async () => {
  const path = freshPath();
  const outbox = openSqliteOutbox(path, { maxRows: 3, maxBytes: 1_000_000 });
  const commits = new GroupCommit(outbox, 20);
  const [a, b] = await Promise.all([commits.append(['m v=1i', 'm v=2i'], 'ms'), commits.append(['m v=3i', 'm v=4i', 'm v=5i'], 'ms')]);
  assert.deepEqual(a, { dropped: 0 });
  assert.deepEqual(b, { dropped: 2 });
  assert.deepEqual(committedLines(path), ['m v=3i', 'm v=4i', 'm v=5i']);
  assert.deepEqual(outbox.stats().rows, 3);
  commits.close();
  outbox.close();
});

test('a status row with no points to ride with is written on its own, also after earlier rows rode with points (one status timer)', async () => {
  const path = freshPath();
  const outbox = openSqliteOutbox(path, ROOMY);
  const commits = new GroupCommit(outbox);
  const status = openDeviceStatus(path);
  try {
    commits.record('meter', { ok: true, endMs: 1_000, durationMs: 5, points: 1 });
    await commits.append(['m v=1i'], 'ms'); // the row rides with these points
    assert.equal(status.get('meter')?.runs, 1);
    // The device now fails and no points come: nothing carries the row, the timer must.
    commits.record('meter', { ok: false, endMs: 2_000, durationMs: 7, points: 0, error: 'timeout' });
    assert.equal(status.get('meter')?.runs, 1, 'the row waits a while for points first');
    const deadline = Date.now() + 4 * STATUS_DELAY_MS; // generous: a busy machine is no failure
    while (status.get('meter')?.runs !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(status.get('meter'), { device: 'meter', ok: false, lastEndMs: 2_000, durationMs: 7, points: 0, error: 'timeout', runs: 2, failures: 1, lastOkMs: 1_000 });
  } finally {
    commits.close();
    status.close();
    outbox.close();
  }
});

test('device status rows ride with the next commit of points, and are written by themselves on flush', async () => {
  const path = freshPath();
  const outbox = openSqliteOutbox(path, ROOMY);
  const commits = new GroupCommit(outbox, 5);
  const status = openDeviceStatus(path);
  commits.record('meter', { ok: true, endMs: 1_000, durationMs: 12.4, points: 2 });
  commits.record('pdu', { ok: false, endMs: 1_001, durationMs: 3, points: 0, error: 'timeout' });
  assert.equal(status.get('meter'), undefined, 'a status waits for points to ride with');
  await commits.append(['m v=1i'], 'ms');
  assert.deepEqual(status.get('meter'), { device: 'meter', ok: true, lastEndMs: 1_000, durationMs: 12, points: 2, error: null, runs: 1, failures: 0, lastOkMs: 1_000 });
  assert.deepEqual(status.get('pdu'), { device: 'pdu', ok: false, lastEndMs: 1_001, durationMs: 3, points: 0, error: 'timeout', runs: 1, failures: 1, lastOkMs: null });
  // Three jobs end before anything is written: one row, the latest state, every run and failure counted.
  commits.record('pdu', { ok: false, endMs: 1_500, durationMs: 9, points: 0, error: 'timeout' });
  commits.record('pdu', { ok: true, endMs: 2_000, durationMs: 4, points: 5 });
  commits.record('pdu', { ok: false, endMs: 2_500, durationMs: 7, points: 0, error: 'crc' });
  commits.close();
  assert.deepEqual(status.get('pdu'), { device: 'pdu', ok: false, lastEndMs: 2_500, durationMs: 7, points: 0, error: 'crc', runs: 4, failures: 3, lastOkMs: 2_000 });
  await assert.rejects(commits.append(['m v=2i'], 'ms'), /outbox closed/);
  status.close();
  outbox.close();
});

test('an error of the group transaction fails every job of the group', async () => {
  const path = freshPath();
  const outbox = openSqliteOutbox(path, ROOMY);
  const commits = new GroupCommit(outbox, 5);
  // Another process holds the write lock longer than busy_timeout allows.
  const blocker = new Database(path);
  blocker.pragma('busy_timeout = 0');
  blocker.exec('BEGIN IMMEDIATE');
  const shortWait = openSqliteOutbox(path, ROOMY, { busyTimeoutMs: 10 });
  const jobs = new GroupCommit(shortWait, 5);
  const outcomes = await Promise.allSettled([jobs.append(['m v=1i'], 'ms'), jobs.append(['m v=2i'], 'ms')]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['rejected', 'rejected'],
  );
  for (const o of outcomes) assert.match(String((o as PromiseRejectedResult).reason), /locked|busy/i);
  blocker.exec('ROLLBACK');
  blocker.close();
  assert.deepEqual(await jobs.append(['m v=3i'], 'ms'), { dropped: 0 });
  assert.deepEqual(committedLines(path), ['m v=3i']);
  jobs.close();
  shortWait.close();
  commits.close();
  outbox.close();
});

test('SIGKILL during group commits: every line a job was told is committed is in the file, once', async () => {
  for (let round = 1; round <= 3; round++) {
    const path = freshPath();
    openSqliteOutbox(path, ROOMY).close();
    const reports = await new Promise<string[]>((resolve, reject) => {
      const child = spawn(process.execPath, [CHILD, path], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      let armed = false;
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (!armed && out.includes('acked ')) {
          armed = true;
          setTimeout(() => child.kill('SIGKILL'), 20 + Math.floor(Math.random() * 200));
        }
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      child.on('error', reject);
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(out.split('\n').slice(0, -1)) : reject(new Error(`child ended by itself (code ${code}): ${err}`))));
    });
    const acked = new Map<number, number>();
    for (const r of reports) {
      const m = /^acked (\d+) (\d+)$/.exec(r);
      if (m) acked.set(Number(m[1]), Math.max(acked.get(Number(m[1])) ?? 0, Number(m[2])));
    }
    assert.ok(acked.size > 0, 'the child acknowledged something before the kill');
    const lines = committedLines(path);
    assert.equal(new Set(lines).size, lines.length, 'no line twice');
    for (const [job, upTo] of acked) {
      const have = new Set(lines.filter((l) => l.startsWith(`gc,job=${job} `)));
      for (let seq = 0; seq < upTo; seq++) assert.ok(have.has(`gc,job=${job} seq=${seq}i`), `round ${round}: job ${job} seq ${seq} was acknowledged but is not in the file`);
    }
    const db = new Database(path, { readonly: true });
    const counters = db.prepare('SELECT rows FROM outbox_counters').pluck().get();
    db.close();
    assert.equal(counters, lines.length, 'the counters match the rows');
  }
});
