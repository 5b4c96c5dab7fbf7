/**
 * The Itho service tool's parameter database (`$_parameters_HeatPump.par`, an Access file)
 * → the SQLite parameter map the itho-wpu driver reads (docs/protocols/itho-wpu.md §4.5). Read with
 * mdb-reader (no ODBC, no mdbtools), written with better-sqlite3 in one transaction to a
 * temporary file beside the output, renamed into place only when complete.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import MDBReader, { type Table, type Value } from 'mdb-reader';
import { errorMessage, InputError } from '../core/errors.js';
import { applyMigrations, migrationsDir } from '../sqlite/migrate.js';
import { withLoopGuard } from './long-values.js';
import { createTableSql, quoteIdent, specFor, VERSIEBEHEER, type ColumnSpec } from './tables.js';

export interface ConvertOptions {
  /** Output file; default `heatpump.sqlite` in the current folder, as the original. */
  out?: string;
  /** Replace an existing output file. */
  force?: boolean;
  onProgress?: (p: ConvertProgress) => void;
}

export interface ConvertProgress {
  /** The Access table just written. */
  table: string;
  tablesDone: number;
  tablesTotal: number;
  rowsDone: number;
  /** From the tables' definitions, known before reading. */
  rowsTotal: number;
}

export interface ConvertedTable {
  access: string;
  sqlite: string;
  rows: number;
}

export interface ConvertSummary {
  out: string;
  /** Rows of versiebeheer: the list versions the map knows. */
  versions: number;
  /** SQLite tables written, versiebeheer included. */
  tables: number;
  /** Rows written, versiebeheer included. */
  rows: number;
  perTable: ConvertedTable[];
  /** Versions that point at a table the file does not have (the driver will refuse those versions). */
  warnings: string[];
  ms: number;
}

export const DEFAULT_OUT = 'heatpump.sqlite';

/** A planned copy: Access table, its SQLite name, the Access column names resolved. */
interface Plan {
  table: Table;
  sqlite: string;
  columns: readonly ColumnSpec[];
  accessNames: string[];
}

export function convertPar(input: string, opts: ConvertOptions = {}): ConvertSummary {
  const started = performance.now();
  const out = resolve(opts.out ?? DEFAULT_OUT);
  const buffer = readInput(input);
  if (resolve(input) === out) throw new InputError(`${input}: the output would replace the input`);
  if (existsSync(out) && statSync(out).isDirectory()) throw new InputError(`${opts.out ?? DEFAULT_OUT}: is a folder; give the map's file name`);
  if (existsSync(out) && !opts.force) throw new InputError(`${opts.out ?? DEFAULT_OUT}: already exists (use --force to replace it)`);
  if (!existsSync(dirname(out))) throw new InputError(`${opts.out ?? DEFAULT_OUT}: folder ${dirname(out)} does not exist`);

  let reader: MDBReader;
  let names: string[];
  const loop = definitionLoop(buffer);
  if (loop) throw new InputError(`${input}: not an Access database (${loop})`);
  try {
    // The catalog is read here too: its Name column could be a memo in a damaged file.
    reader = withLoopGuard(() => new MDBReader(buffer));
    names = reader.getTableNames();
  } catch (err) {
    if (/password/i.test(errorMessage(err))) throw new InputError(`${input}: the Access database is password-protected, which the converter does not support`);
    throw new InputError(`${input}: not an Access database (${errorMessage(err)})`);
  }

  const where = `${input}: not an Itho parameter database`;
  // A damaged catalog (MSysObjects) can list a table whose Name is null.
  if (names.some((n) => typeof n !== 'string')) throw new InputError(`${where}: its catalog lists a table without a name`);
  const versionName = names.find((n) => n.toLowerCase() === VERSIEBEHEER.name.toLowerCase());
  if (!versionName) throw new InputError(`${where}: table ${VERSIEBEHEER.name} not found`);
  const versionPlan = plan(reader, versionName, VERSIEBEHEER.sqlite, VERSIEBEHEER.columns, where);
  const plans: Plan[] = [];
  const taken = new Map<string, string>([[VERSIEBEHEER.sqlite, versionName]]);
  for (const name of names) {
    const spec = specFor(name);
    if (!spec) continue;
    // SQLite cuts SQL text at a NUL, whatever the quoting (found by fuzzing: test/fuzz/).
    if (/[\u0000-\u001f]/.test(name)) throw new InputError(`${where}: table name ${JSON.stringify(name)} has a control character`);
    const sqlite = name.toLowerCase();
    const twin = taken.get(sqlite);
    if (twin) throw new InputError(`${where}: tables ${twin} and ${name} both become ${sqlite}`);
    taken.set(sqlite, name);
    plans.push(plan(reader, name, sqlite, spec.columns, where));
  }
  const collator = new Intl.Collator('en', { numeric: true }); // datalabel_v9 before datalabel_v10
  plans.sort((a, b) => collator.compare(a.sqlite, b.sqlite));

  const all = [versionPlan, ...plans];
  const rowsTotal = all.reduce((n, p) => n + p.table.rowCount, 0);
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const perTable: ConvertedTable[] = [];
  let versions: (Value | undefined)[][] = [];
  try {
    const db = new Database(tmp);
    try {
      // A temporary file nobody else opens: no journal; made durable by the fsync below.
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('cache_size = -65536'); // 64 MiB: the whole map stays in memory until the commit
      applyMigrations(db, migrationsDir('itho-map'));
      let rowsDone = 0;
      db.transaction(() => {
        // All tables in one statement batch: one schema change instead of hundreds.
        db.exec(plans.map((p) => `${createTableSql(p.sqlite, p.columns)};`).join('\n'));
        all.forEach((p, i) => {
          const rows = readRows(p, input);
          if (p === versionPlan) versions = rows;
          insertRows(db, p, rows);
          rowsDone += rows.length;
          perTable.push({ access: p.table.name, sqlite: p.sqlite, rows: rows.length });
          opts.onProgress?.({ table: p.table.name, tablesDone: i + 1, tablesTotal: all.length, rowsDone, rowsTotal });
        });
        const meta = db.prepare('INSERT INTO itho_map_meta (key, value) VALUES (?, ?)');
        meta.run('source_file', basename(input));
        meta.run('source_bytes', String(buffer.length));
        meta.run('converted_at', new Date().toISOString());
        meta.run('converter', 'wattline itho convert-par');
      })();
    } finally {
      db.close();
    }
    fsyncPath(tmp, 'r+');
    renameSync(tmp, out);
    fsyncPath(dirname(out), 'r'); // the rename itself survives a power cut
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }

  return {
    out,
    versions: versions.length,
    tables: perTable.length,
    rows: perTable.reduce((n, t) => n + t.rows, 0),
    perTable,
    warnings: danglingVersions(versions, new Set(perTable.map((t) => t.sqlite))),
    ms: performance.now() - started,
  };
}

/** Rows per INSERT statement: fewer calls into SQLite, about a third less CPU than one by one. */
const BATCH = 32;

function insertRows(db: Database.Database, p: Plan, rows: readonly (Value | undefined)[][]): void {
  const head = `INSERT INTO ${quoteIdent(p.sqlite)} (${p.columns.map((c) => c.sqlite).join(', ')}) VALUES `;
  const tuple = `(${p.columns.map(() => '?').join(', ')})`;
  let r = 0;
  if (rows.length >= BATCH) {
    const many = db.prepare(head + Array(BATCH).fill(tuple).join(', '));
    const args: (Value | undefined)[] = [];
    for (; r + BATCH <= rows.length; r += BATCH) {
      args.length = 0;
      for (let k = r; k < r + BATCH; k++) args.push(...rows[k]);
      many.run(args);
    }
  }
  if (r < rows.length) {
    const one = db.prepare(head + tuple);
    for (; r < rows.length; r++) one.run(rows[r]);
  }
}

function readInput(input: string): Buffer {
  let size: number;
  try {
    const st = statSync(input);
    if (st.isDirectory()) throw new InputError(`${input}: is a folder, not a .par file`);
    size = st.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `${input}: file not found` : `${input}: cannot read (${errorMessage(err)})`);
  }
  if (size === 0) throw new InputError(`${input}: not an Access database (the file is empty)`);
  try {
    return readFileSync(input);
  } catch (err) {
    throw new InputError(`${input}: cannot read (${errorMessage(err)})`);
  }
}

/**
 * mdb-reader follows a table definition's chain of pages (the "next page" word at offset 4 of
 * each definition page, type 0x02) with no cycle check: a damaged file whose chain loops back
 * would hang the converter for ever (found by fuzzing: test/fuzz/). Returns what loops, if any.
 * Jet 3 files (version byte 0 at 0x14) have 2 KiB pages, later ones 4 KiB.
 */
export function definitionLoop(buf: Buffer): string | undefined {
  if (buf.length <= 0x14) return undefined; // too short: mdb-reader says so itself
  const size = buf[0x14] === 0 ? 2048 : 4096;
  // mdb-reader also reads a last page that the file cuts short.
  const pages = Math.ceil(buf.length / size);
  const ends = new Uint8Array(pages); // 1: the chain from here ends
  const isDefinition = (q: number) => q > 0 && q < pages && q * size + 8 <= buf.length && buf[q * size] === 0x02;
  for (let p = 1; p < pages; p++) {
    if (!isDefinition(p) || ends[p]) continue;
    const seen = new Set<number>();
    for (let q = p; isDefinition(q) && !ends[q]; q = buf.readUInt32LE(q * size + 4)) {
      if (seen.has(q)) return `the table definition on page ${p} links back to page ${q}`;
      seen.add(q);
    }
    for (const q of seen) ends[q] = 1;
  }
  return undefined;
}

/** Resolve the Access column names (case-insensitively); name every missing one. */
function plan(reader: MDBReader, name: string, sqlite: string, columns: readonly ColumnSpec[], where: string): Plan {
  let table: Table;
  let present: string[];
  try {
    table = reader.getTable(name);
    present = table.getColumnNames();
  } catch (err) {
    throw new InputError(`${where}: table ${name} cannot be read (${errorMessage(err)})`);
  }
  const byLower = new Map(present.map((c) => [c.toLowerCase(), c]));
  const missing = columns.filter((c) => !byLower.has(c.access.toLowerCase())).map((c) => c.access);
  if (missing.length > 0) {
    throw new InputError(`${where}: table ${name} has no column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (it has ${present.join(', ')})`);
  }
  return { table, sqlite, columns, accessNames: columns.map((c) => byLower.get(c.access.toLowerCase())!) };
}

/** The table's rows as SQLite values in spec order, sorted by the first column as the original. */
function readRows(p: Plan, input: string): (Value | undefined)[][] {
  let data: Record<string, Value>[];
  try {
    data = withLoopGuard(() => p.table.getData({ columns: p.accessNames }));
  } catch (err) {
    throw new InputError(`${input}: table ${p.table.name} cannot be read (${errorMessage(err)})`);
  }
  const rows = data.map((r, i) => p.accessNames.map((n) => toSqlite(r[n], () => `${input}: table ${p.table.name} row ${i + 1} column ${n}`)));
  if (p.sqlite === VERSIEBEHEER.sqlite) checkVersions(rows, p.table.name, p.accessNames[0], input);
  return rows.sort((a, b) => compareKeys(a[0], b[0]));
}

function checkVersions(rows: (Value | undefined)[][], table: string, column: string, input: string): void {
  const seen = new Set<unknown>();
  rows.forEach((r, i) => {
    const v = r[0];
    if (v === null || v === undefined || !Number.isInteger(Number(v)))
      throw new InputError(`${input}: table ${table} row ${i + 1}: ${column} is ${v === null || v === undefined ? 'empty' : JSON.stringify(v)}, not a version number`);
    if (seen.has(Number(v))) throw new InputError(`${input}: table ${table}: version ${v} appears twice`);
    seen.add(Number(v));
  });
}

/** Values SQLite can bind: booleans as 0/1, dates as ISO text; numbers, text, blobs as they are. */
function toSqlite(v: Value | undefined, where: () => string): Value | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) {
    // A damaged date cell decodes to an invalid Date (found by fuzzing: test/fuzz/).
    if (Number.isNaN(v.getTime())) throw new InputError(`${where()}: not a date`);
    return v.toISOString();
  }
  if (Array.isArray(v)) return JSON.stringify(v.map((a) => a.name));
  return v;
}

/** Numbers (and numeric text) by value, before text; empty values first. */
function compareKeys(a: unknown, b: unknown): number {
  const rank = (v: unknown) => (v === null || v === undefined ? 0 : typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) ? 1 : 2);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1) return Number(a) - Number(b);
  if (ra === 2) return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  return 0;
}

function danglingVersions(versions: (Value | undefined)[][], written: Set<string>): string[] {
  const warnings: string[] = [];
  const kinds: [number, string][] = [
    [1, 'datalabel'],
    [2, 'parameterlijst'],
    [3, 'handbed'],
    [4, 'counters'],
  ];
  for (const row of versions) {
    for (const [col, prefix] of kinds) {
      const n = row[col];
      if (n === null || n === undefined) continue;
      const table = `${prefix}_v${n}`;
      if (!written.has(table)) warnings.push(`version ${row[0]}: table ${table} not in the file`);
    }
  }
  return warnings;
}

function fsyncPath(path: string, flags: 'r' | 'r+'): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(file: string): void {
  for (const f of [file, `${file}-journal`]) {
    try {
      unlinkSync(f);
    } catch {
      // already gone
    }
  }
}
