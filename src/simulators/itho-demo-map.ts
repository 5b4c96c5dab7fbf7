/**
 * The demo's parameter map: what scripts/convert-itho-par.ts would write from a real .par
 * file, in miniature (docs/protocols/itho-wpu.md §4.5 tables, names lower-cased), for the simulated WPU:
 * list version 31 → datalabel_v7 (the 92 labels), parameterlijst_v5, handbed_v3, counters_v2.
 * The table numbers differ from the list version on purpose, as they do in real maps.
 * Written to a temporary file and renamed, so a reader never sees half of it; a file that is
 * not a demo map (no wattline_demo_map table) is never overwritten.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DEMO_COUNTERS, DEMO_LABELS, DEMO_MANUAL, DEMO_SETTINGS, LIST_VERSION } from './itho-wpu-data.js';

/** Bumped when the demo map's content changes, so old demo maps are rebuilt. */
const DEMO_MAP_VERSION = 1;
export const DEMO_TABLES = { datalabel: 7, parameterlist: 5, handbed: 3, counters: 2 } as const;

export function writeDemoParameterMap(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  const db = new Database(tmp);
  try {
    const t = DEMO_TABLES;
    db.exec(`
      CREATE TABLE versiebeheer (version INTEGER PRIMARY KEY, datalabel INTEGER, parameterlist INTEGER, handbed INTEGER, counters INTEGER);
      CREATE TABLE datalabel_v${t.datalabel} (id REAL, name TEXT, title TEXT, tooltip TEXT, unit TEXT);
      CREATE TABLE parameterlijst_v${t.parameterlist} (id REAL, name TEXT, name_factory TEXT, min REAL, max REAL, def REAL, title TEXT, description TEXT, unit TEXT);
      CREATE TABLE handbed_v${t.handbed} (id REAL, name TEXT, name_factory TEXT, min REAL, max REAL, def REAL, title TEXT, tooltip TEXT, unit TEXT);
      CREATE TABLE counters_v${t.counters} (id REAL, name TEXT, title TEXT, tooltip TEXT, unit TEXT);
      CREATE TABLE wattline_demo_map (version INTEGER NOT NULL);
    `);
    db.transaction(() => {
      db.prepare('INSERT INTO wattline_demo_map (version) VALUES (?)').run(DEMO_MAP_VERSION);
      // An older list version too, so the map is not a one-row table.
      db.prepare('INSERT INTO versiebeheer VALUES (?, ?, ?, ?, ?)').run(11, 4, 2, 1, null);
      db.prepare('INSERT INTO versiebeheer VALUES (?, ?, ?, ?, ?)').run(LIST_VERSION, t.datalabel, t.parameterlist, t.handbed, t.counters);
      // Inserted in reverse: the reader must order by id, not trust the row order.
      const label = db.prepare(`INSERT INTO datalabel_v${t.datalabel} VALUES (?, ?, ?, ?, ?)`);
      for (let i = DEMO_LABELS.length - 1; i >= 0; i--) {
        const [name, title, unit] = DEMO_LABELS[i]!;
        label.run(i, name, title, `${title} (demo)`, unit);
      }
      const setting = db.prepare(`INSERT INTO parameterlijst_v${t.parameterlist} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const s of DEMO_SETTINGS) setting.run(s.id, s.name, s.name, s.min, s.max, s.raw / 10 ** (s.datatype & 0x0f), s.title, `${s.title} (demo)`, s.unit);
      const manual = db.prepare(`INSERT INTO handbed_v${t.handbed} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const m of DEMO_MANUAL) manual.run(m.id, m.name, m.name, 0, 100, 0, m.title, `${m.title} (demo)`, m.unit);
      const counter = db.prepare(`INSERT INTO counters_v${t.counters} VALUES (?, ?, ?, ?, ?)`);
      DEMO_COUNTERS.forEach(([name, title, unit], i) => counter.run(i, name, title, title, unit));
    })();
  } finally {
    db.close();
  }
  renameSync(tmp, path);
}

/** Builds the demo map at `path` unless a current one (or a real map) is already there. */
export function ensureDemoParameterMap(path: string): void {
  if (existsSync(path)) {
    let version: number | undefined;
    let demo: boolean;
    try {
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        demo = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'wattline_demo_map'").get() !== undefined;
        if (demo) version = (db.prepare('SELECT version FROM wattline_demo_map').get() as { version: number } | undefined)?.version;
      } finally {
        db.close();
      }
    } catch {
      return; // not SQLite: not ours to replace; the driver will say what is wrong with it
    }
    if (!demo || version === DEMO_MAP_VERSION) return;
  }
  writeDemoParameterMap(path);
}
