import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { WattlineError } from '../core/errors.js';

/**
 * Numbered SQL migrations for one SQLite file: `migrations/<set>/NNN_what.sql`, applied
 * in numeric order, each in its own transaction together with `PRAGMA user_version = NNN`.
 * One migration set per database file (user_version is per file). Statements that cannot
 * run inside a transaction (VACUUM, journal_mode) do not belong in a migration.
 * A room of its own: every SQLite file uses it (outbox and device status, capture archive,
 * Itho cache, Itho .par map), and none of them should reach into another's room for it.
 */

/** The database was written by a newer wattline, or the migration folder is malformed. */
export class MigrationError extends WattlineError {
  override name = 'MigrationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'migration', options);
  }
}

export interface Migration {
  version: number;
  file: string;
}

export interface MigrationResult {
  /** user_version before and after. */
  from: number;
  to: number;
  /** Versions applied by this call (empty when the file was up to date). */
  applied: number[];
}

const FILE_NAME = /^(\d+)_[\w.-]+\.sql$/;

/** `<project root>/migrations/<set>`: the SQL stays at the root while code runs from dist/. */
export function migrationsDir(set: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new MigrationError(`package.json not found above ${fileURLToPath(import.meta.url)}; cannot find migrations/${set}`);
    dir = up;
  }
  const found = join(dir, 'migrations', set);
  if (!existsSync(found)) throw new MigrationError(`migration folder ${found} is missing`);
  return found;
}

/** The migrations in `dir`, in version order. Refuses stray .sql files and duplicate versions. */
export function listMigrations(dir: string): Migration[] {
  const migrations: Migration[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.sql')) continue;
    const match = FILE_NAME.exec(name);
    if (!match) throw new MigrationError(`${join(dir, name)}: migration files are named NNN_what.sql`);
    const version = Number(match[1]);
    if (version < 1) throw new MigrationError(`${join(dir, name)}: versions start at 1`);
    const twin = migrations.find((m) => m.version === version);
    if (twin) throw new MigrationError(`${dir}: version ${version} appears twice (${twin.file}, ${name})`);
    migrations.push({ version, file: join(dir, name) });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/**
 * Bring `db` up to the newest migration in `dir`. Safe to call on every open and from
 * several processes at once: each step re-reads the version inside an IMMEDIATE
 * transaction, so a step another process applied meanwhile is skipped.
 */
export function applyMigrations(db: Database.Database, dir: string): MigrationResult {
  const migrations = listMigrations(dir);
  const latest = migrations.at(-1)?.version ?? 0;
  const readVersion = () => db.pragma('user_version', { simple: true }) as number;
  const from = readVersion();
  refuseNewer(db, from, latest, dir);

  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    const sql = readFileSync(migration.file, 'utf8');
    db.transaction(() => {
      const current = readVersion();
      refuseNewer(db, current, latest, dir);
      if (current >= migration.version) return;
      try {
        db.exec(sql);
      } catch (err) {
        throw new MigrationError(`${db.name}: migration ${migration.file} failed: ${(err as Error).message}`, { cause: err });
      }
      // user_version lives in the file header and commits with the transaction.
      db.pragma(`user_version = ${migration.version}`);
      applied.push(migration.version);
    }).immediate();
  }
  return { from, to: readVersion(), applied };
}

function refuseNewer(db: Database.Database, current: number, latest: number, dir: string): void {
  if (current <= latest) return;
  throw new MigrationError(`${db.name} is at schema version ${current}, but this wattline knows versions up to ${latest} (${dir}): ` + 'the file was written by a newer wattline; upgrade wattline or use another file');
}
