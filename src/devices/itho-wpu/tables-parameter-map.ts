/**
 * Reader of the SQLite parameter map converted from Itho's `$_parameters_HeatPump.par`
 * (docs/protocols/itho-wpu.md §4.5), written against exactly these tables (names lower-cased as the
 * converter writes them):
 *   versiebeheer(version, datalabel, parameterlist, handbed, counters)
 *   datalabel_vN(id, name, title, tooltip, unit)
 *   parameterlijst_vN(id, name, name_factory, min, max, def, title, description, unit)
 *   handbed_vN(id, name, name_factory, min, max, def, title, tooltip, unit)
 *   counters_vN(id, name, title, tooltip, unit)
 * The list version L (byte 10 of the node-id reply) picks the row of versiebeheer; its
 * columns name the N of each table. Opened read-only; nothing here writes the map.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ConfigError, errorMessage } from '../../core/errors.js';

export interface Label {
  /** Field key: `name` lower-cased. */
  key: string;
  name: string;
  title: string | null;
  tooltip: string | null;
  unit: string | null;
}

export interface ParameterRow {
  id: number;
  name: string;
  title: string | null;
  /** `description` (parameterlijst) or `tooltip` (handbed). */
  description: string | null;
  unit: string | null;
  min: number | null;
  max: number | null;
  def: number | null;
}

export interface VersionRow {
  version: number;
  datalabel: number | null;
  parameterlist: number | null;
  handbed: number | null;
  counters: number | null;
}

/** The map lacks what the device's list version needs: a configuration problem, said once and clearly. */
export class ParameterMapError extends ConfigError {
  override name = 'ParameterMapError';
}

export const SQL = {
  version: 'SELECT version, datalabel, parameterlist, handbed, counters FROM versiebeheer WHERE version = ?',
  labels: (n: number) => `SELECT name, title, tooltip, unit FROM datalabel_v${n} ORDER BY id`,
  counters: (n: number) => `SELECT name, title, tooltip, unit FROM counters_v${n} ORDER BY id`,
  setting: (n: number) => `SELECT id, name, min, max, def, title, description, unit FROM parameterlijst_v${n} WHERE id = ?`,
  manual: (n: number) => `SELECT id, name, min, max, def, title, tooltip AS description, unit FROM handbed_v${n} WHERE id = ?`,
  tableExists: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
} as const;

/** Field keys: name lower-cased; empty names become `field_<position>`, repeats get `_<position>`. */
export function fieldKeys(names: readonly (string | null)[]): string[] {
  const seen = new Set<string>();
  return names.map((n, i) => {
    let key = (n ?? '').trim().toLowerCase();
    if (key === '') key = `field_${i}`;
    if (seen.has(key)) key = `${key}_${i}`;
    seen.add(key);
    return key;
  });
}

export class ParameterMap {
  private readonly db: Database.Database;
  private readonly labelCache = new Map<string, Label[]>();

  private constructor(
    readonly path: string,
    db: Database.Database,
  ) {
    this.db = db;
  }

  static open(path: string): ParameterMap {
    if (!existsSync(path)) throw new ParameterMapError(`parameter map ${path} not found (convert the Itho .par file with scripts/convert-itho-par.ts)`);
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
      db.prepare(SQL.tableExists).get('versiebeheer');
    } catch (err) {
      throw new ParameterMapError(`parameter map ${path}: cannot open as SQLite: ${errorMessage(err)}`);
    }
    const map = new ParameterMap(path, db);
    if (!map.has('versiebeheer')) throw new ParameterMapError(`parameter map ${path}: table versiebeheer not found (not an Itho parameter map?)`);
    return map;
  }

  close(): void {
    this.db.close();
  }

  private has(table: string): boolean {
    return this.db.prepare(SQL.tableExists).get(table) !== undefined;
  }

  version(listVersion: number): VersionRow {
    const row = this.db.prepare(SQL.version).get(listVersion) as VersionRow | undefined;
    if (!row) {
      const known = (this.db.prepare('SELECT version FROM versiebeheer ORDER BY version').all() as { version: number }[]).map((r) => r.version);
      const range = known.length ? `it has ${known.length} version${known.length === 1 ? '' : 's'}, ${known[0]}..${known.at(-1)}` : 'it has none';
      throw new ParameterMapError(`parameter map ${this.path}: no list version ${listVersion} in versiebeheer (${range}); convert a newer .par file`);
    }
    return row;
  }

  private tableFor(listVersion: number, column: 'datalabel' | 'counters' | 'parameterlist' | 'handbed', prefix: string): number {
    const n = this.version(listVersion)[column];
    if (n === null || n === undefined || !Number.isInteger(Number(n))) {
      throw new ParameterMapError(`parameter map ${this.path}: list version ${listVersion} has no ${column} table number in versiebeheer`);
    }
    const table = `${prefix}_v${Number(n)}`;
    if (!this.has(table)) throw new ParameterMapError(`parameter map ${this.path}: table ${table} (${column} of list version ${listVersion}) not found`);
    return Number(n);
  }

  /** The datalog labels of a list version, in id order, with their field keys. */
  labels(listVersion: number): Label[] {
    return this.rows(`d${listVersion}`, () => SQL.labels(this.tableFor(listVersion, 'datalabel', 'datalabel')));
  }

  /** The counters' labels (counters_vN), or [] when the list version names no counters table. */
  counters(listVersion: number): Label[] {
    const n = this.version(listVersion).counters;
    if (n === null || n === undefined) return [];
    return this.rows(`c${listVersion}`, () => SQL.counters(this.tableFor(listVersion, 'counters', 'counters')));
  }

  setting(listVersion: number, id: number): ParameterRow | undefined {
    return this.db.prepare(SQL.setting(this.tableFor(listVersion, 'parameterlist', 'parameterlijst'))).get(id) as ParameterRow | undefined;
  }

  manual(listVersion: number, id: number): ParameterRow | undefined {
    return this.db.prepare(SQL.manual(this.tableFor(listVersion, 'handbed', 'handbed'))).get(id) as ParameterRow | undefined;
  }

  private rows(cacheKey: string, sql: () => string): Label[] {
    const hit = this.labelCache.get(cacheKey);
    if (hit) return hit;
    const raw = this.db.prepare(sql()).all() as Omit<Label, 'key'>[];
    const keys = fieldKeys(raw.map((r) => r.name));
    const out = raw.map((r, i) => ({ key: keys[i]!, name: r.name, title: r.title, tooltip: r.tooltip, unit: r.unit }));
    this.labelCache.set(cacheKey, out);
    return out;
  }
}

/** Labels for the datatype list: a clear error when the counts differ (the original only warned). */
export function labelsFor(map: ParameterMap, listVersion: number, fieldCount: number): Label[] {
  const labels = map.labels(listVersion);
  if (labels.length !== fieldCount) {
    throw new ParameterMapError(`parameter map ${map.path}: list version ${listVersion} has ${labels.length} data labels, but the WPU's datatype list has ${fieldCount} fields; the map does not fit this WPU`);
  }
  return labels;
}
