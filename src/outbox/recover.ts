/**
 * `wattline buffer recover`: every readable row of a damaged outbox copied into a
 * fresh one, which takes its place; the damaged file is kept aside, never changed.
 *
 * Rows are read in id order, in chunks; where a chunk hits a damaged page the walk goes on id
 * by id until it is past the damage, so one bad page costs only the rows on it. Rows keep
 * their ids, precision and commit time, so the queue's order is unchanged.
 */
import { closeSync, copyFileSync, existsSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ConfigError } from '../core/errors.js';
import { outboxFileProblem } from './integrity.js';
import { SqliteOutbox } from './sqlite-outbox.js';

export interface RecoverResult {
  /** Pending points copied. */
  rows: number;
  deadLetters: number;
  /** Ids that sat on damaged pages (an upper bound of the points lost: some may have been delivered). */
  unreadable: number;
  /** Where the damaged file now is. */
  keptAs: string;
  /** What was wrong with it. */
  problem: string;
}

const CHUNK = 1000;

interface Table {
  name: string;
  columns: string;
}

const OUTBOX: Table = { name: 'outbox', columns: 'id, line, precision, bytes, committed_ms' };
const DEAD_LETTERS: Table = { name: 'dead_letters', columns: 'id, outbox_id, line, precision, bytes, committed_ms, status, message, time_ms' };

/**
 * Recover the outbox at `path`, or return null when it is sound (nothing to do). A folder, a
 * device or another program's database is a ConfigError: not ours to replace.
 */
export function recoverOutbox(path: string, now: () => number = Date.now): RecoverResult | null {
  if (!existsSync(path)) throw new ConfigError(`${path}: no outbox there to recover`);
  const problem = outboxFileProblem(path);
  if (!problem) return null;
  if (problem.kind === 'not-a-file' || problem.kind === 'foreign') throw new ConfigError(`${path}: ${problem.detail}; not an outbox, nothing recovered`);

  const fresh = `${path}.recovering`;
  removeWithSidecars(fresh);
  // The schema, by the outbox's own migrations.
  new SqliteOutbox(fresh, { maxRows: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER }, { reserveBytes: 0 }).close();
  const out = new Database(fresh);
  out.pragma('synchronous = OFF'); // made durable below, before it takes the outbox's place
  let src: Database.Database | null = null;
  let result: Omit<RecoverResult, 'keptAs' | 'problem'>;
  try {
    try {
      src = new Database(problem.kind === 'truncated' ? readableCopy(path, fresh) : path, { readonly: true, fileMustExist: true });
    } catch {
      src = null; // nothing readable at all: the fresh outbox stays empty
    }
    const copied = src ? copyTable(src, out, OUTBOX) : { rows: 0, bytes: 0, unreadable: 0 };
    const dead = src ? copyTable(src, out, DEAD_LETTERS) : { rows: 0, bytes: 0, unreadable: 0 };
    // Counters from what was copied; the old file's dropped/refused totals when readable.
    const old = src ? (attempt(() => src!.prepare('SELECT * FROM outbox_counters WHERE id = 1').get()) as { dropped?: number; refused?: number } | undefined) : undefined;
    out.prepare('UPDATE outbox_counters SET rows = ?, bytes = ?, dead_letters = ?, dropped = ?, refused = ? WHERE id = 1').run(copied.rows, copied.bytes, dead.rows, old?.dropped ?? 0, old?.refused ?? 0);
    for (const table of ['device_status', 'backfill_checkpoints']) attempt(() => copyAll(src!, out, table));
    out.pragma('synchronous = FULL');
    out.pragma('wal_checkpoint(TRUNCATE)');
    out.pragma('journal_mode = DELETE');
    result = { rows: copied.rows, deadLetters: dead.rows, unreadable: copied.unreadable + dead.unreadable };
  } finally {
    src?.close();
    out.close();
    removeWithSidecars(`${fresh}.reading`);
  }

  const keptAs = `${path}.damaged-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, keptAs + suffix);
  }
  renameSync(fresh, path);
  return { ...result, keptAs, problem: problem.detail };
}

/** Copy every readable row of `table`, in id order, around damaged pages. */
function copyTable(src: Database.Database, out: Database.Database, table: Table): { rows: number; bytes: number; unreadable: number } {
  const chunk = attempt(() => src.prepare(`SELECT ${table.columns} FROM ${table.name} WHERE id > ? ORDER BY id LIMIT ?`));
  const one = attempt(() => src.prepare(`SELECT ${table.columns} FROM ${table.name} WHERE id = ?`));
  if (!chunk || !one) return { rows: 0, bytes: 0, unreadable: 0 };
  // The highest id ever handed out bounds the walk past damage (AUTOINCREMENT keeps it).
  const lastId =
    (attempt(() => src.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').pluck().get(table.name)) as number | undefined) ??
    (attempt(() => src.prepare(`SELECT max(id) FROM ${table.name}`).pluck().get()) as number | undefined) ??
    0;
  const insert = out.prepare(
    `INSERT INTO ${table.name} (${table.columns}) VALUES (${table.columns
      .split(',')
      .map(() => '?')
      .join(', ')})`,
  );
  const insertAll = out.transaction((rows: Record<string, unknown>[]) => {
    for (const r of rows) insert.run(...Object.values(r));
  });
  let rows = 0;
  let bytes = 0;
  let unreadable = 0;
  const keep = (found: Record<string, unknown>[]) => {
    insertAll(found);
    rows += found.length;
    for (const r of found) bytes += Number(r.bytes);
  };
  let after = 0;
  let limit = CHUNK;
  for (;;) {
    const found = attempt(() => chunk.all(after, limit) as Record<string, unknown>[]);
    if (found) {
      keep(found);
      if (found.length < limit) break;
      after = Number(found[found.length - 1]!.id);
      limit = CHUNK;
      continue;
    }
    // A chunk that reaches a damaged page fails as a whole: smaller ones take the rows before it.
    if (limit > 1) {
      limit = Math.max(1, limit >> 3);
      continue;
    }
    limit = CHUNK;
    // Damaged pages ahead: find the first id after them whose lookup works (galloping, then
    // halving: a cut-off file may leave millions of ids behind), and go on from there.
    const probe = (id: number): { row: Record<string, unknown> | undefined } | null => attempt(() => ({ row: one.get(id) as Record<string, unknown> | undefined })) ?? null;
    let lo = after;
    let hi = after + 1;
    let found1 = probe(hi);
    for (let step = 2; !found1 && hi < lastId; step *= 2) {
      lo = hi;
      hi = Math.min(lastId, after + step);
      found1 = probe(hi);
    }
    if (!found1) {
      unreadable += Math.max(0, lastId - after);
      break;
    }
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const at = probe(mid);
      if (at) [hi, found1] = [mid, at];
      else lo = mid;
    }
    unreadable += hi - after - 1;
    after = hi;
    if (found1.row) keep([found1.row]);
  }
  return { rows, bytes, unreadable };
}

function copyAll(src: Database.Database, out: Database.Database, table: string): void {
  const rows = src.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const insert = out.prepare(`INSERT OR REPLACE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  out.transaction(() => {
    for (const r of rows) insert.run(...cols.map((c) => r[c]));
  })();
}

/**
 * SQLite calls a file shorter than its header's page count malformed as a whole. A copy whose
 * header no longer vouches for that count (its "valid-for" number changed) is read up to
 * where it was cut; the pages beyond are missing like damaged ones.
 */
function readableCopy(path: string, fresh: string): string {
  const copy = `${fresh}.reading`;
  removeWithSidecars(copy);
  copyFileSync(path, copy);
  if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
  const fd = openSync(copy, 'r+');
  try {
    const counter = Buffer.alloc(4);
    readSync(fd, counter, 0, 4, 24);
    counter.writeUInt32BE((counter.readUInt32BE(0) + 1) >>> 0);
    writeSync(fd, counter, 0, 4, 92);
  } finally {
    closeSync(fd);
  }
  return copy;
}

function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function removeWithSidecars(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}
