/**
 * The test-only Jet 4 writer (test/helpers/jet4-writer.ts) is trusted only where two
 * independent readers agree with what it was asked to write: mdb-reader (what the
 * converter uses) and mdbtools' `mdb-tables`/`mdb-export` (Debian mdbtools, C).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import MDBReader from 'mdb-reader';
import { generatedItho, smallItho } from '../helpers/itho-par-fixture.js';
import { writeJet4, type JetTable, type JetValue } from '../helpers/jet4-writer.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-jet4-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Tables that reach the writer's edges: nulls, quotes, commas, newlines, non-ASCII, number limits. */
function edgeTables(): JetTable[] {
  return [
    {
      name: 'Randgevallen',
      columns: [
        { name: 'Nr', type: 'long' },
        { name: 'Kort', type: 'integer' },
        { name: 'Getal', type: 'double' },
        { name: 'Tekst', type: 'text' },
        { name: 'Lang', type: 'memo' },
        { name: 'Gecomprimeerd', type: 'text', compressed: true },
        { name: 'LangGecomprimeerd', type: 'memo', compressed: true },
      ],
      rows: [
        [-2147483648, -32768, -1.5, 'a "quoted", comma', 'regel 1\nregel 2', 'Boilertemp °C', 'regel 1\nregel 2 ëïö'],
        [2147483647, 32767, 0.1, 'ëïö °C µs €', null, '€ is not one byte: UCS-2', null],
        [0, 0, 1e-7, null, 'x'.repeat(800), 'x'.repeat(255), 'y'.repeat(1800)],
        [null, null, null, 'x'.repeat(255), 'Ω', null, ''],
      ],
    },
    // Several data pages in one table.
    {
      name: 'Veel',
      columns: [
        { name: 'Index', type: 'long' },
        { name: 'Naam', type: 'text' },
        { name: 'Waarde', type: 'double' },
      ],
      rows: Array.from({ length: 3000 }, (_, i) => [i, `veld_${i}`, i / 8]),
    },
  ];
}

function readWithMdbReader(file: Buffer, table: JetTable): JetValue[][] {
  const reader = new MDBReader(file);
  const data = reader.getTable(table.name).getData();
  return data.map((r) => table.columns.map((c) => r[c.name] as JetValue));
}

/** mdb-export's CSV (quoted text, doubled quotes, newlines inside quotes), NULL spelled out. */
function readWithMdbExport(path: string, table: JetTable): (string | null)[][] {
  const csv = execFileSync('mdb-export', ['-0', '<NULL>', path, table.name], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  while (i < csv.length) {
    let value: string | null;
    if (csv[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        if (csv[i] === '"' && csv[i + 1] === '"') {
          s += '"';
          i += 2;
        } else if (csv[i] === '"') {
          i++;
          break;
        } else s += csv[i++];
      }
      value = s;
    } else {
      let j = i;
      while (j < csv.length && csv[j] !== ',' && csv[j] !== '\n') j++;
      const raw = csv.slice(i, j);
      value = raw === '<NULL>' ? null : raw;
      i = j;
    }
    row.push(value);
    if (csv[i] === ',') i++;
    else {
      rows.push(row);
      row = [];
      i++;
    }
  }
  const [header, ...body] = rows;
  assert.deepEqual(
    header,
    table.columns.map((c) => c.name),
    `${table.name}: mdb-export header`,
  );
  return body;
}

/** mdbtools prints empty text as NULL (it keeps no difference) and numbers in %.16g. */
function expectAsMdbtools(table: JetTable, row: readonly JetValue[], got: readonly (string | null)[], where: string): void {
  table.columns.forEach((c, k) => {
    const want = row[k];
    const have = got[k];
    if (want === null || want === '') return assert.equal(have, null, `${where} ${c.name}`);
    if (typeof want === 'number') {
      assert.ok(have !== null && Math.abs(Number(have) - want) <= Math.abs(want) * 1e-15, `${where} ${c.name}: ${have} ≠ ${want}`);
    } else assert.equal(have, want, `${where} ${c.name}`);
  });
}

function checkBothReaders(name: string, tables: JetTable[]): void {
  const bytes = writeJet4(tables);
  const path = join(dir, `${name}.mdb`);
  writeFileSync(path, bytes);

  const reader = new MDBReader(bytes);
  assert.deepEqual(
    reader.getTableNames(),
    tables.map((t) => t.name),
    'mdb-reader table names',
  );
  const listed = execFileSync('mdb-tables', ['-1', path], { encoding: 'utf8' }).split('\n').filter(Boolean);
  assert.deepEqual(
    listed,
    tables.map((t) => t.name),
    'mdb-tables table names',
  );

  for (const t of tables) {
    assert.deepEqual(
      reader.getTable(t.name).getColumnNames(),
      t.columns.map((c) => c.name),
      `${t.name}: mdb-reader columns`,
    );
    assert.deepEqual(readWithMdbReader(bytes, t), t.rows, `${t.name}: mdb-reader rows`);
    const exported = readWithMdbExport(path, t);
    assert.equal(exported.length, t.rows.length, `${t.name}: mdb-export row count`);
    t.rows.forEach((row, r) => expectAsMdbtools(t, row, exported[r], `${t.name} row ${r}`));
  }
}

describe('jet4-writer: written Access files read back by mdb-reader and mdbtools alike', () => {
  it('edge values: nulls, limits, quotes, newlines, non-ASCII, long memos, 255-character texts, compressed and plain UCS-2', () => {
    const bytes = writeJet4(edgeTables());
    assert.ok(bytes.includes(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Boilertemp °C', 'latin1')])), 'compressed text on disk');
    assert.ok(bytes.includes(Buffer.from('€ is not one byte', 'utf16le')), 'uncompressible text as UCS-2');
    checkBothReaders('edges', edgeTables());
  });

  it('a table over several data pages (3000 rows)', () => {
    const t = edgeTables()[1];
    const bytes = writeJet4([t]);
    assert.ok(bytes.length / 4096 > 5, 'the table should span several pages');
    checkBothReaders('pages', [t]);
  });

  it('the small Itho-shaped database', () => {
    checkBothReaders('itho-small', smallItho());
  });

  it('300 tables: usage maps spill over page 1 onto further map pages', () => {
    checkBothReaders('many', generatedItho({ versions: 75, labels: 20, parameters: 5, handbed: 2, counters: 2 }));
  });

  it('refuses what it cannot write: a row too long for one page, a wrong number of values', () => {
    assert.throws(() => writeJet4([{ name: 'X', columns: [{ name: 'M', type: 'memo' }], rows: [['x'.repeat(3000)]] }]), /must fit in one page/);
    assert.throws(() => writeJet4([{ name: 'X', columns: [{ name: 'A', type: 'long' }], rows: [[1, 2]] }]), /2 values for 1 columns/);
  });
});
