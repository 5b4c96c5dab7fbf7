/**
 * Issue 23: the outbox file checked at open, before anything is written to it, and
 * `recoverOutbox` saving every readable row of a damaged one. Real files, damaged the way a
 * failing SD card or a stray copy would: garbage bytes, a page overwritten, the end cut off,
 * another program's database.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../../src/core/errors.js';
import { recoverOutbox } from '../../src/outbox/recover.js';
import { SqliteOutbox } from '../../src/outbox/sqlite-outbox.js';

const LIMITS = { maxRows: 10_000_000, maxBytes: 1e12 };
const ROWS = 20_000;
const line = (i: number) => `m,device=d${i % 7} value=${i} ${1_700_000_000 + i}`;

let dir: string;
let healthy: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-integrity-'));
  healthy = join(dir, 'healthy.sqlite');
  const o = new SqliteOutbox(healthy, LIMITS, { reserveBytes: 0 });
  for (let i = 0; i < ROWS; i += 1000)
    o.append(
      Array.from({ length: 1000 }, (_, k) => line(i + k)),
      's',
    );
  const first = o.peek(2, 1e9)!.rows.map((r) => r.id);
  o.deadLetter(first, 400, 'unable to parse');
  o.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

function copy(name: string): string {
  const path = join(dir, name);
  copyFileSync(healthy, path);
  return path;
}

const hash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Opening must throw a ConfigError naming the file, and leave the file byte for byte as it was. */
function refused(path: string, pattern: RegExp): void {
  const before = statSync(path).isFile() ? hash(path) : null;
  assert.throws(
    () => new SqliteOutbox(path, LIMITS, { reserveBytes: 0 }),
    (err: unknown) => err instanceof ConfigError && err.message.startsWith(`${path}: `) && pattern.test(err.message) && !err.message.includes('\n'),
  );
  if (before !== null) assert.equal(hash(path), before, 'the file was changed');
  assert.equal(existsSync(`${path}.reserve`), false, 'something was written beside it');
}

function overwritePage(path: string, page: number): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, page * 4096);
  closeSync(fd);
}

describe('checked at open, before anything is written', () => {
  test('a sound outbox opens; an empty file becomes a new outbox', () => {
    new SqliteOutbox(copy('sound.sqlite'), LIMITS, { reserveBytes: 0 }).close();
    const empty = join(dir, 'empty.sqlite');
    writeFileSync(empty, '');
    const o = new SqliteOutbox(empty, LIMITS, { reserveBytes: 0 });
    assert.equal(o.stats().rows, 0);
    o.close();
  });

  test('a folder and /dev/null are refused with their path', () => {
    refused(dir, /is a folder/);
    refused('/dev/null', /not a regular file/);
  });

  test('garbage is refused', () => {
    const path = join(dir, 'garbage.sqlite');
    writeFileSync(path, Buffer.alloc(50_000, 0x42));
    refused(path, /not an SQLite file/);
  });

  test('a file cut short is refused', () => {
    const path = copy('cut.sqlite');
    truncateSync(path, Math.floor(statSync(path).size / 2));
    refused(path, /cut short/);
    const tiny = copy('tiny.sqlite');
    truncateSync(tiny, 60);
    refused(tiny, /cut short/);
  });

  test('one overwritten page is found by quick_check', () => {
    const path = copy('page.sqlite');
    overwritePage(path, Math.floor(statSync(path).size / 4096 / 2));
    refused(path, /is damaged/);
  });

  test("another program's database is refused, not switched to WAL", () => {
    const path = join(dir, 'foreign.sqlite');
    const db = new Database(path);
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')");
    db.close();
    refused(path, /another program's SQLite database \(tables: users\)/);
    const again = new Database(path, { readonly: true });
    assert.equal(again.pragma('journal_mode', { simple: true }), 'delete');
    again.close();
    assert.equal(existsSync(`${path}-wal`), false);
  });
});

describe('recoverOutbox', () => {
  test('a sound outbox: nothing to recover', () => {
    assert.equal(recoverOutbox(copy('nothing.sqlite')), null);
  });

  test('one damaged page costs only its rows; the rest keep their order; the damaged file is kept as it was', () => {
    const path = copy('recover.sqlite');
    overwritePage(path, Math.floor(statSync(path).size / 4096 / 2));
    const damaged = hash(path);
    const r = recoverOutbox(path, () => Date.UTC(2026, 0, 2, 3, 4, 5))!;
    assert.ok(r);
    assert.equal(r.keptAs, `${path}.damaged-2026-01-02T03-04-05-000Z`);
    assert.equal(hash(r.keptAs), damaged);
    const pending = ROWS - 2;
    // A 4 KiB page holds well under 200 of these rows.
    assert.ok(r.rows < pending && r.rows > pending - 200, `recovered ${r.rows} of ${pending}`);
    assert.equal(r.deadLetters, 2);

    const o = new SqliteOutbox(path, LIMITS, { reserveBytes: 0 });
    try {
      const s = o.stats();
      assert.equal(s.rows, r.rows);
      assert.equal(s.deadLetters, 2);
      const batch = o.peek(ROWS, 1e9)!.rows;
      assert.equal(batch.length, r.rows);
      // Every recovered row is the line its id was given, in order; the gap is one run of ids.
      for (const row of batch) assert.equal(row.line, line(row.id - 1));
      const gaps = batch.filter((row, i) => i > 0 && row.id !== batch[i - 1]!.id + 1);
      assert.equal(gaps.length, 1);
      assert.equal(o.listDeadLetters().length, 2);
    } finally {
      o.close();
    }
  });

  test('a file cut short keeps what is left; garbage gives an empty outbox in its place', () => {
    const cut = copy('recover-cut.sqlite');
    truncateSync(cut, Math.floor(statSync(cut).size / 2 / 4096) * 4096);
    const r = recoverOutbox(cut)!;
    assert.ok(r.rows > 1000 && r.rows < ROWS, `recovered ${r.rows}`);
    new SqliteOutbox(cut, LIMITS, { reserveBytes: 0 }).close();

    const garbage = join(dir, 'recover-garbage.sqlite');
    writeFileSync(garbage, Buffer.alloc(50_000, 0x42));
    const g = recoverOutbox(garbage)!;
    assert.deepEqual({ rows: g.rows, deadLetters: g.deadLetters }, { rows: 0, deadLetters: 0 });
    assert.equal(statSync(g.keptAs).size, 50_000);
    const o = new SqliteOutbox(garbage, LIMITS, { reserveBytes: 0 });
    assert.equal(o.stats().rows, 0);
    o.close();
  });

  test("a folder or another program's database is not replaced", () => {
    assert.throws(() => recoverOutbox(dir), ConfigError);
    assert.throws(() => recoverOutbox(join(dir, 'foreign.sqlite')), /not an outbox, nothing recovered/);
  });
});
