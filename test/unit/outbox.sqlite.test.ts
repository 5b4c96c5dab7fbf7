/**
 * What only the SQLite outbox promises: persistence, migrations, several connections on
 * one file, and nothing committed lost to SIGKILL (README "How a point travels", Outbox).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ROOT } from '../helpers/paths.js';
import { applyMigrations, listMigrations, MigrationError, migrationsDir } from '../../src/sqlite/migrate.js';
import { openSqliteOutbox, SqliteOutbox } from '../../src/outbox/sqlite-outbox.js';

const ROOMY = { maxRows: 1_000_000, maxBytes: 1_000_000_000 };
const CHILD = join(ROOT, 'dist', 'test', 'helpers', 'outbox-writer-child.js');

let dir = '';
let files = 0;
const freshPath = () => join(dir, `outbox-${++files}.sqlite`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wattline-outbox-sqlite-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What the tables really hold, next to what the counters say, from one snapshot. */
function audit(path: string, checkIntegrity = true) {
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  try {
    return db
      .transaction(() => ({
        integrity: checkIntegrity ? db.pragma('integrity_check', { simple: true }) : 'skipped',
        counters: db.prepare('SELECT rows, bytes, dead_letters AS deadLetters FROM outbox_counters').get(),
        actual: db
          .prepare(
            `SELECT (SELECT count(*) FROM outbox) AS rows,
                  (SELECT coalesce(sum(octet_length(line) + 1), 0) FROM outbox) AS bytes,
                  (SELECT count(*) FROM dead_letters) AS deadLetters`,
          )
          .get(),
        outbox: db.prepare('SELECT id, line FROM outbox ORDER BY id').all() as { id: number; line: string }[],
        deadLines: db.prepare('SELECT line FROM dead_letters ORDER BY id').pluck().all() as string[],
      }))
      .deferred();
  } finally {
    db.close();
  }
}

describe('SqliteOutbox on disk', () => {
  test('creates missing folders and keeps rows, ids, counters and dead letters across close and reopen', () => {
    const path = join(dir, 'nested', 'deeper', 'outbox.sqlite');
    const first = openSqliteOutbox(path, { maxRows: 3, maxBytes: 1_000_000 }, { synchronous: 'normal' });
    first.append(['a', 'b', 'c', 'd'], 'ms'); // drops 'a'
    const [b] = first.peek(1, 1000)!.rows;
    first.deadLetter([b!.id], 400, 'bad b');
    const before = { batch: first.peek(10, 1000), stats: first.stats(), dead: first.listDeadLetters() };
    first.close();

    const second = openSqliteOutbox(path, { maxRows: 3, maxBytes: 1_000_000 });
    try {
      assert.deepEqual({ batch: second.peek(10, 1000), stats: second.stats(), dead: second.listDeadLetters() }, before);
      assert.equal(before.stats.dropped, 1);
      const maxId = Math.max(...before.batch!.rows.map((r) => r.id));
      second.ack(before.batch!.rows.map((r) => r.id));
      second.close();
      const third = openSqliteOutbox(path, { maxRows: 3, maxBytes: 1_000_000 });
      third.append(['e'], 'ms');
      assert.ok(third.peek(1, 1000)!.rows[0]!.id > maxId, 'ids continue after a reopen, never reused');
      third.close();
    } finally {
      second.close();
    }
  });

  test('the connection keeps the configured synchronous level (SQLite applies that pragma when a statement is prepared), also after a status-only commit', () => {
    const status = { device: 'd', ok: 0 as const, endMs: 1, durationMs: 1, points: 0, error: 'x', runs: 1, failed: 1, okMs: null };
    // SQLite's own answer on the outbox's connection: 1 = NORMAL, 2 = FULL.
    for (const [synchronous, level] of [
      ['normal', 1],
      ['full', 2],
    ] as const) {
      const outbox = new SqliteOutbox(freshPath(), { maxRows: 10, maxBytes: 1_000_000 }, { synchronous });
      const level_ = () => (outbox as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true });
      try {
        assert.equal(level_(), level, `${synchronous} after open`);
        outbox.appendGroup([], [status]);
        assert.equal(level_(), level, `${synchronous} after a status-only commit`);
        outbox.appendGroup([{ lines: ['m v=1i'], precision: 'ms' }], [status]);
        assert.equal(level_(), level, `${synchronous} after a commit with points`);
      } finally {
        outbox.close();
      }
    }
  });

  test('a lowered limit is not applied on open, but by the next append, however many rows it drops', () => {
    const path = freshPath();
    const big = openSqliteOutbox(path, ROOMY);
    big.append(
      Array.from({ length: 40_000 }, (_, i) => `m v=${i}i`),
      'ns',
    );
    big.close();
    const small = openSqliteOutbox(path, { maxRows: 100, maxBytes: 1_000_000 });
    try {
      assert.equal(small.stats().rows, 40_000);
      assert.deepEqual(small.append(['m v=40000i'], 'ns'), { dropped: 39_901 });
      assert.deepEqual(
        small.peek(1, 1000)!.rows.map((r) => r.line),
        ['m v=39901i'],
      );
      assert.equal(small.stats().dropped, 39_901);
    } finally {
      small.close();
    }
    const { counters, actual } = audit(path);
    assert.deepEqual(counters, actual);
  });

  test("a second connection on the same file sees the other one's rows, counters and limits", () => {
    const path = freshPath();
    const run = new SqliteOutbox(path, { maxRows: 5, maxBytes: 1_000_000 });
    const cli = new SqliteOutbox(path, { maxRows: 5, maxBytes: 1_000_000 });
    try {
      run.append(['1', '2', '3', '4'], 'ns');
      assert.deepEqual(cli.stats(), run.stats());
      assert.equal(cli.stats().rows, 4);
      assert.deepEqual(cli.peek(10, 1000), run.peek(10, 1000));

      cli.deadLetter([cli.peek(1, 1000)!.rows[0]!.id], 400, 'bad');
      assert.equal(run.stats().deadLetters, 1);
      assert.equal(run.stats().rows, 3);

      // run's limit check reads the counters cli changed, not a cached copy.
      cli.append(['5', '6'], 'ns');
      assert.deepEqual(run.append(['7'], 'ns'), { dropped: 1 });
      assert.deepEqual(
        cli.peek(10, 1000)!.rows.map((r) => r.line),
        ['3', '4', '5', '6', '7'],
      );
      assert.equal(cli.retryDeadLetters(), 1);
      assert.deepEqual(run.stats(), cli.stats());
      assert.deepEqual({ rows: run.stats().rows, dropped: run.stats().dropped, deadLetters: run.stats().deadLetters }, { rows: 5, dropped: 2, deadLetters: 0 });
    } finally {
      run.close();
      cli.close();
    }
    const { counters, actual, integrity } = audit(path);
    assert.equal(integrity, 'ok');
    assert.deepEqual(counters, actual);
  });
});

describe('outbox migrations', () => {
  test('a new file gets every migration once, and opening again applies none', () => {
    const path = freshPath();
    openSqliteOutbox(path, ROOMY).close();
    const latest = listMigrations(migrationsDir('outbox')).at(-1)!.version;
    const db = new Database(path);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), latest);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.deepEqual(applyMigrations(db, migrationsDir('outbox')), { from: latest, to: latest, applied: [] });
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
      for (const table of ['outbox', 'outbox_counters', 'dead_letters']) assert.ok(tables.includes(table), `${table} exists`);
    } finally {
      db.close();
    }
    openSqliteOutbox(path, ROOMY).close();
  });

  test('a file from a newer wattline is refused with a message that says so', () => {
    const path = freshPath();
    openSqliteOutbox(path, ROOMY).close();
    const latest = listMigrations(migrationsDir('outbox')).at(-1)!.version;
    const db = new Database(path);
    db.pragma('user_version = 999');
    db.close();
    assert.throws(
      () => openSqliteOutbox(path, ROOMY),
      (err: unknown) =>
        err instanceof MigrationError && err.code === 'migration' && err.message.includes(`${path} is at schema version 999, but this wattline knows versions up to ${latest}`) && /newer wattline/.test(err.message),
    );
  });

  test('the runner orders by number, runs each file in a transaction and rolls a failed one back', async () => {
    const set = join(dir, 'migrations-ok');
    await mkdir(set);
    await writeFile(join(set, '1_first.sql'), 'CREATE TABLE t (a INTEGER);');
    await writeFile(join(set, '2_second.sql'), 'ALTER TABLE t ADD COLUMN b INTEGER;');
    await writeFile(join(set, '10_tenth.sql'), 'ALTER TABLE t ADD COLUMN c INTEGER;'); // after 2, not after 1
    await writeFile(join(set, 'README.md'), 'not a migration');
    const db = new Database(':memory:');
    try {
      assert.deepEqual(applyMigrations(db, set), { from: 0, to: 10, applied: [1, 2, 10] });
      assert.deepEqual(db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('t'), ['a', 'b', 'c']);

      await writeFile(join(set, '11_broken.sql'), 'CREATE TABLE u (x INTEGER); INSERT INTO nowhere VALUES (1);');
      assert.throws(
        () => applyMigrations(db, set),
        (err: unknown) => err instanceof MigrationError && /11_broken\.sql failed/.test(err.message),
      );
      assert.equal(db.pragma('user_version', { simple: true }), 10);
      assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'u'").pluck().get(), 0, 'the failed step left nothing behind');
    } finally {
      db.close();
    }
  });

  test('the runner refuses badly named and duplicate migration files', async () => {
    const badName = join(dir, 'migrations-bad-name');
    await mkdir(badName);
    await writeFile(join(badName, 'first.sql'), 'SELECT 1;');
    assert.throws(() => listMigrations(badName), /named NNN_what\.sql/);

    const twice = join(dir, 'migrations-twice');
    await mkdir(twice);
    await writeFile(join(twice, '001_a.sql'), 'SELECT 1;');
    await writeFile(join(twice, '1_b.sql'), 'SELECT 1;');
    assert.throws(() => listMigrations(twice), /version 1 appears twice/);
  });

  test('migration folders are found from the compiled code at the project root', () => {
    assert.equal(migrationsDir('outbox'), join(ROOT, 'migrations', 'outbox'));
    assert.throws(() => migrationsDir('no-such-set'), MigrationError);
  });
});

describe('SqliteOutbox crash safety', () => {
  /** One child run, killed with SIGKILL a random moment after its first commit; returns its reports. */
  function runAndKill(path: string, round: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CHILD, path, String(round)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      let armed = false;
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (!armed && out.includes('committed ')) {
          armed = true;
          setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 250));
        }
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') return reject(new Error(`child ended by itself (code ${code}): ${err}`));
        // Only whole lines: a report cut by the kill did not happen.
        resolve(out.split('\n').slice(0, -1));
      });
    });
  }

  const key = (round: number, seq: number) => round * 1e9 + seq;

  test('two processes writing one file at once wait for each other and keep the counters exact', async () => {
    const path = freshPath();
    openSqliteOutbox(path, ROOMY).close();
    const child = spawn(process.execPath, [CHILD, path, '1', '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      let childCommits = 0;
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (childCommits += chunk.split('committed ').length - 1));
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const mine = openSqliteOutbox(path, ROOMY);
      const commitsBefore = childCommits;
      // At least 40 rounds, and on until the child has committed twice meanwhile (a loaded machine
      // may run all 40 before the child's next commit; a child that can never commit fails below).
      const deadline = Date.now() + 30_000;
      try {
        for (let i = 0; i < 40 || (childCommits - commitsBefore < 2 && Date.now() < deadline); i++) {
          mine.append(
            Array.from({ length: 100 }, (_, k) => `parent,round=0 seq=${i * 100 + k}i`),
            'ns',
          );
          const batch = mine.peek(120, 1_000_000);
          if (batch && i % 2 === 0) mine.ack(batch.rows.map((r) => r.id));
          const a = audit(path, false);
          assert.deepEqual(a.counters, a.actual, `step ${i}: counters match the tables while both write`);
          const s = mine.stats();
          assert.ok(s.rows >= 0 && s.bytes >= s.rows);
          await new Promise((resolve) => setImmediate(resolve));
        }
        assert.ok(childCommits - commitsBefore >= 2, `the child committed while the parent wrote (${childCommits - commitsBefore} commits)`);
      } finally {
        mine.close();
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const a = audit(path);
    assert.equal(a.integrity, 'ok');
    assert.deepEqual(a.counters, a.actual);
  });

  test('rows reported as committed survive SIGKILL at random moments, counters stay exact', async (t) => {
    assert.ok(existsSync(CHILD), `${CHILD} is built`);
    const path = freshPath();
    const committedUpTo = new Map<number, number>(); // round -> first seq not reported committed
    let ackIntent = -1; // key of the newest row an ack may have removed
    let ackedUpTo = -1; // key of the newest row an ack certainly removed
    const rounds = 6;

    for (let round = 1; round <= rounds; round++) {
      for (const report of await runAndKill(path, round)) {
        const [kind, r, s] = report.split(' ');
        if (kind === 'committed') committedUpTo.set(Number(r), Number(s));
        if (kind === 'ack-intent') ackIntent = Math.max(ackIntent, key(Number(r), Number(s)));
        if (kind === 'acked') ackedUpTo = Math.max(ackedUpTo, key(Number(r), Number(s)));
      }
      assert.ok(committedUpTo.has(round), `round ${round} committed something before the kill`);

      const a = audit(path);
      assert.equal(a.integrity, 'ok');
      assert.deepEqual(a.counters, a.actual, `round ${round}: counters match the tables`);

      const present = new Set<number>();
      let previous = -1;
      let previousId = 0;
      for (const { id, line } of a.outbox) {
        const [, r, s] = /round=(\d+) seq=(\d+)i/.exec(line)!;
        const k = key(Number(r), Number(s));
        assert.ok(id > previousId && k > previous, `round ${round}: outbox in commit order at id ${id}`);
        assert.ok(k > ackedUpTo, `round ${round}: an acked row came back (${line})`);
        previous = k;
        previousId = id;
        present.add(k);
      }
      for (const line of a.deadLines) {
        const [, r, s] = /round=(\d+) seq=(\d+)i/.exec(line)!;
        present.add(key(Number(r), Number(s)));
      }
      for (const [r, upTo] of committedUpTo) {
        for (let s = 0; s < upTo; s++) {
          if (key(r, s) <= ackIntent) continue;
          assert.ok(present.has(key(r, s)), `round ${round}: committed row round=${r} seq=${s} is missing`);
        }
      }

      // The outbox opens cleanly after the crash and agrees with the audit.
      const reopened = openSqliteOutbox(path, ROOMY);
      const stats = reopened.stats();
      reopened.close();
      assert.deepEqual({ rows: stats.rows, bytes: stats.bytes, deadLetters: stats.deadLetters }, a.actual);
    }
    t.diagnostic(`rows committed per round: ${[...committedUpTo.values()].join(', ')}; acked through round ${Math.floor(ackedUpTo / 1e9)} seq ${ackedUpTo % 1e9}`);
  });
});
