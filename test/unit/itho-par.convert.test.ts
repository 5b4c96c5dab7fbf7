/**
 * The .par → SQLite converter on real Access files (the reading path over Jet 3, Jet 4 and
 * ACE, and the refusals) and on Itho-shaped files written by the test Jet 4 writer (whose
 * output is checked against mdb-reader and mdbtools in test/integration/jet4-writer.*).
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import MDBReader from 'mdb-reader';
import { WattlineError } from '../../src/core/errors.js';
import { convertPar, type ConvertProgress } from '../../src/itho-par/index.js';
import { generatedItho, smallItho, DATALABEL_COLUMNS, VERSIE_COLUMNS } from '../helpers/itho-par-fixture.js';
import { writeJet4, type JetTable } from '../helpers/jet4-writer.js';
import { fixture } from '../helpers/paths.js';

let dir: string;
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-itho-par-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh folder per case, so "nothing left behind" can be checked by listing it. */
function caseDir(): string {
  const d = join(dir, `case-${++n}`);
  mkdirSync(d);
  return d;
}

function writePar(d: string, tables: JetTable[], name = '$_parameters_HeatPump.par'): string {
  const path = join(d, name);
  writeFileSync(path, writeJet4(tables));
  return path;
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof WattlineError, `expected a WattlineError, got ${String(err)}`);
    assert.equal(err.code, 'input');
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('expected a refusal');
}

function rows(db: Database.Database, table: string): unknown[][] {
  return db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).raw().all() as unknown[][];
}

describe('itho-par convert: real Access files (mdb-reader test data)', () => {
  for (const [file, tables] of [
    ['V1997-test.mdb', ['Table1', 'Table2', 'Table3', 'Table4']],
    ['V2000-empty.mdb', []],
    ['V2000-numeric.mdb', ['test']],
    ['V2010-test.accdb', ['Table1', 'Table2', 'Table3', 'Table4']],
  ] as const) {
    it(`${file}: read (tables ${tables.join(', ') || 'none'}), refused as not an Itho database, no output`, () => {
      const reader = new MDBReader(readFileSync(fixture('access', file)));
      assert.deepEqual(reader.getTableNames(), tables);
      const d = caseDir();
      const msg = refusal(() => convertPar(fixture('access', file), { out: join(d, 'map.sqlite') }));
      assert.equal(msg, `${fixture('access', file)}: not an Itho parameter database: table VersieBeheer not found`);
      assert.deepEqual(readdirSync(d), []);
    });
  }

  it('a file that is not an Access database (the licence text), an empty file, a truncated database', () => {
    const d = caseDir();
    assert.match(
      refusal(() => convertPar(fixture('access', 'LICENSE.mdb-reader'), { out: join(d, 'm.sqlite') })),
      /LICENSE\.mdb-reader: not an Access database \(/,
    );
    writeFileSync(join(d, 'empty.par'), '');
    assert.equal(
      refusal(() => convertPar(join(d, 'empty.par'), { out: join(d, 'm.sqlite') })),
      `${join(d, 'empty.par')}: not an Access database (the file is empty)`,
    );
    writeFileSync(join(d, 'cut.par'), readFileSync(fixture('access', 'V2000-numeric.mdb')).subarray(0, 4096));
    assert.match(
      refusal(() => convertPar(join(d, 'cut.par'), { out: join(d, 'm.sqlite') })),
      /cut\.par: not an Access database \(/,
    );
    assert.deepEqual(readdirSync(d).sort(), ['cut.par', 'empty.par']);
  });

  it('a missing file, a folder', () => {
    const d = caseDir();
    assert.equal(
      refusal(() => convertPar(join(d, 'nope.par'), { out: join(d, 'm.sqlite') })),
      `${join(d, 'nope.par')}: file not found`,
    );
    assert.equal(
      refusal(() => convertPar(d, { out: join(d, 'm.sqlite') })),
      `${d}: is a folder, not a .par file`,
    );
  });
});

describe('itho-par convert: Itho-shaped databases (written by the test Jet 4 writer)', () => {
  it('the small database, row for row: versions, sorted labels, shared parameter list, handbed, counters; other tables left out', () => {
    const d = caseDir();
    const par = writePar(d, smallItho());
    const progress: ConvertProgress[] = [];
    const out = join(d, 'heatpump.sqlite');
    const summary = convertPar(par, { out, onProgress: (p) => progress.push(p) });

    assert.equal(summary.versions, 2);
    assert.equal(summary.tables, 6);
    assert.equal(summary.rows, 2 + 3 + 4 + 3 + 2 + 2);
    assert.deepEqual(summary.warnings, []);
    assert.deepEqual(
      summary.perTable.map((t) => [t.access, t.sqlite, t.rows]),
      [
        ['VersieBeheer', 'versiebeheer', 2],
        ['Counters_V2', 'counters_v2', 2],
        ['Datalabel_V30', 'datalabel_v30', 3],
        ['DataLabel_V31', 'datalabel_v31', 4],
        ['Handbed_V3', 'handbed_v3', 2],
        ['Parameterlijst_V30', 'parameterlijst_v30', 3],
      ],
    );
    assert.deepEqual(
      progress.map((p) => [p.tablesDone, p.tablesTotal, p.rowsDone, p.rowsTotal]),
      [
        [1, 6, 2, 16],
        [2, 6, 4, 16],
        [3, 6, 7, 16],
        [4, 6, 11, 16],
        [5, 6, 13, 16],
        [6, 6, 16, 16],
      ],
    );
    assert.deepEqual(readdirSync(d).sort(), ['$_parameters_HeatPump.par', 'heatpump.sqlite'], 'no temporary file left');

    const db = new Database(out, { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), 1);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      assert.deepEqual(tables, ['counters_v2', 'datalabel_v30', 'datalabel_v31', 'handbed_v3', 'itho_map_meta', 'parameterlijst_v30', 'versiebeheer']);
      assert.deepEqual(rows(db, 'versiebeheer'), [
        [30, 30, 30, 3, 2],
        [31, 31, 30, 3, 2],
      ]);
      assert.deepEqual(rows(db, 'datalabel_v30'), [
        [0, 't_out', 'Buitentemperatuur', 'Gemeten door de buitenvoeler', '°C'],
        [1, 't_boildwn', 'Boilertemp onder', null, '°C'],
        [2, 't_boiltop', 'Boilertemp boven', 'Temperatuur bovenin de boiler', '°C'],
      ]);
      assert.deepEqual(rows(db, 'datalabel_v31'), [
        [0, 't_out', 'Buitentemperatuur', 'Gemeten door de buitenvoeler', '°C'],
        [1, 't_boildwn', 'Boilertemp onder', null, '°C'],
        [2, 'p_sens', 'Druksensor', null, 'bar'],
        [3, 'state', 'Status', 'Toestand van de "regeling", zie handboek', ''],
      ]);
      assert.deepEqual(rows(db, 'parameterlijst_v30'), [
        [1, 'P001', 'hp_mode', 0, 3, 1, 'Bedrijfsmodus', null, ''],
        [12, 'P012', 'ch_offset', -5, 5, -0.5, 'Stooklijn verschuiving', 'Verschuiving van de stooklijn, in graden', 'K'],
        [139, 'P139', 'dhw_setp', 40, 60, 48, 'Boiler setpoint', 'Gewenste boilertemperatuur', '°C'],
      ]);
      assert.deepEqual(rows(db, 'handbed_v3'), [
        [0, 'H000', 'man_ch_pump', 0, 100, 0, 'CV pomp handbediening', null, '%'],
        [37, 'H037', 'man_comp', 0, 1, 0, 'Compressor handbediening', 'Compressor aan/uit', ''],
      ]);
      assert.deepEqual(rows(db, 'counters_v2'), [
        [0, 'cnt_comp_hours', 'Compressor draaiuren', 'Uren dat de compressor liep', 'uur'],
        [1, 'cnt_comp_starts', 'Compressor starts', null, ''],
      ]);
      // Column names and types as docs/protocols/itho-wpu.md §4.5; ids are REAL as in the original.
      const cols = (t: string) => db.prepare(`SELECT name, type FROM pragma_table_info(?)`).raw().all(t);
      assert.deepEqual(cols('versiebeheer'), [
        ['version', 'INTEGER'],
        ['datalabel', 'INTEGER'],
        ['parameterlist', 'INTEGER'],
        ['handbed', 'INTEGER'],
        ['counters', 'INTERGER'],
      ]);
      assert.deepEqual(cols('datalabel_v31'), [
        ['id', 'REAL'],
        ['name', 'TEXT'],
        ['title', 'TEXT'],
        ['tooltip', 'TEXT'],
        ['unit', 'TEXT'],
      ]);
      assert.deepEqual(
        cols('parameterlijst_v30').map((c) => (c as string[])[0]),
        ['id', 'name', 'name_factory', 'min', 'max', 'def', 'title', 'description', 'unit'],
      );
      assert.deepEqual(
        cols('handbed_v3').map((c) => (c as string[])[0]),
        ['id', 'name', 'name_factory', 'min', 'max', 'def', 'title', 'tooltip', 'unit'],
      );
      assert.equal(db.prepare('SELECT typeof(id) FROM datalabel_v30 LIMIT 1').pluck().get(), 'real');
      // The driver's lookup (§4.5 steps 2 and 3) for list version 31.
      const n = db.prepare('SELECT datalabel FROM versiebeheer WHERE version = ?').pluck().get(31);
      assert.deepEqual(db.prepare(`SELECT name FROM datalabel_v${n} ORDER BY id`).pluck().all(), ['t_out', 't_boildwn', 'p_sens', 'state']);
      const meta = Object.fromEntries(db.prepare('SELECT key, value FROM itho_map_meta').raw().all() as [string, string][]);
      assert.equal(meta.source_file, '$_parameters_HeatPump.par');
      assert.equal(meta.source_bytes, String(readFileSync(par).length));
    } finally {
      db.close();
    }
  });

  it('an existing output is refused without force and left untouched; with force it is replaced', () => {
    const d = caseDir();
    const par = writePar(d, smallItho());
    const out = join(d, 'heatpump.sqlite');
    writeFileSync(out, 'an older map');
    assert.equal(
      refusal(() => convertPar(par, { out })),
      `${out}: already exists (use --force to replace it)`,
    );
    assert.equal(readFileSync(out, 'utf8'), 'an older map');
    assert.equal(convertPar(par, { out, force: true }).versions, 2);
    assert.equal(readFileSync(out).subarray(0, 15).toString(), 'SQLite format 3');
    assert.equal(
      refusal(() => convertPar(par, { out: par, force: true })),
      `${par}: the output would replace the input`,
    );
    assert.equal(
      refusal(() => convertPar(par, { out: d, force: true })),
      `${d}: is a folder; give the map's file name`,
    );
    const nowhere = join(d, 'no-such-folder', 'm.sqlite');
    assert.equal(
      refusal(() => convertPar(par, { out: nowhere })),
      `${nowhere}: folder ${join(d, 'no-such-folder')} does not exist`,
    );
  });

  it('VersieBeheer or a version table lacking a column: refused, the missing columns named, nothing written', () => {
    const d = caseDir();
    const small = smallItho();
    const noCounters = small.map((t) => (t.name === 'VersieBeheer' ? { ...t, columns: VERSIE_COLUMNS.slice(0, 4), rows: t.rows.map((r) => r.slice(0, 4)) } : t));
    const a = writePar(d, noCounters, 'a.par');
    assert.equal(
      refusal(() => convertPar(a, { out: join(d, 'm.sqlite') })),
      `${a}: not an Itho parameter database: table VersieBeheer has no column Counters (it has VersieNummer, DataLabel, ParameterLijst, Handbed)`,
    );
    const noUnit = small.map((t) => (t.name === 'DataLabel_V31' ? { ...t, columns: DATALABEL_COLUMNS.slice(0, 3), rows: t.rows.map((r) => r.slice(0, 3)) } : t));
    const b = writePar(d, noUnit, 'b.par');
    assert.equal(
      refusal(() => convertPar(b, { out: join(d, 'm.sqlite') })),
      `${b}: not an Itho parameter database: table DataLabel_V31 has no columns Tooltip_NL, Eenheid_NL (it has Index, Naam, Tekst_NL)`,
    );
    assert.deepEqual(readdirSync(d).sort(), ['a.par', 'b.par']);
  });

  it('a failure while writing (a version listed twice) leaves neither the map nor a temporary file behind', () => {
    const d = caseDir();
    const twice = smallItho().map((t) => (t.name === 'VersieBeheer' ? { ...t, rows: [...t.rows, [30, 1, 1, 1, 1]] } : t));
    const par = writePar(d, twice);
    assert.equal(
      refusal(() => convertPar(par, { out: join(d, 'm.sqlite') })),
      `${par}: table VersieBeheer: version 30 appears twice`,
    );
    assert.deepEqual(readdirSync(d), ['$_parameters_HeatPump.par']);
  });

  it('names versions whose tables are missing (the driver would refuse those versions)', () => {
    const d = caseDir();
    const dangling = smallItho().map((t) => (t.name === 'VersieBeheer' ? { ...t, rows: [...t.rows, [32, 32, 30, 3, 2]] } : t));
    const summary = convertPar(writePar(d, dangling), { out: join(d, 'm.sqlite') });
    assert.deepEqual(summary.warnings, ['version 32: table datalabel_v32 not in the file']);
  });

  it('a generated database of 8 versions × 150 labels: every table and row arrives', () => {
    const d = caseDir();
    const tables = generatedItho({ versions: 8, labels: 150, parameters: 60, handbed: 20, counters: 12 });
    const out = join(d, 'map.sqlite');
    const summary = convertPar(writePar(d, tables), { out });
    assert.equal(summary.versions, 8);
    assert.equal(summary.tables, 1 + 8 * 4);
    assert.equal(summary.rows, 8 + 8 * (150 + 60 + 20 + 12));
    const db = new Database(out, { readonly: true });
    try {
      for (const t of tables) {
        const got = rows(db, t.name.toLowerCase());
        assert.equal(got.length, t.rows.length, t.name);
        assert.deepEqual(got.at(-1), t.rows.at(-1), `${t.name}: last row`);
      }
      assert.deepEqual(db.prepare('SELECT name, title, unit FROM datalabel_v8 WHERE id = 17').raw().get(), ['t_out_1', 'Buitentemperatuur', '°C']);
    } finally {
      db.close();
    }
  });
});

// A copy in a path with spaces and a `$`, as the service tool names the file.
it('itho-par convert: a path with spaces and a dollar sign', () => {
  const d = join(caseDir(), 'Itho service tool');
  mkdirSync(d);
  const src = writePar(caseDir(), smallItho());
  const par = join(d, '$_parameters_HeatPump.par');
  copyFileSync(src, par);
  assert.equal(convertPar(par, { out: join(d, 'heatpump.sqlite') }).tables, 6);
});
