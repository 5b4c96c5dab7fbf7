/**
 * Issue 16, fuzz finding: a `.par` whose catalog (MSysObjects) holds a table without a name
 * ended in "Cannot read properties of null (reading 'toLowerCase')". It is an InputError
 * that names the file, and nothing is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors.js';
import { convertPar } from '../../src/itho-par/index.js';
import { smallItho } from '../helpers/itho-par-fixture.js';
import { writeJet4 } from '../helpers/jet4-writer.js';
import { fixture } from '../helpers/paths.js';

test('a catalog entry with a null table name is an InputError naming the file, not a TypeError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-par-null-'));
  try {
    const tables = smallItho();
    tables[1] = { ...tables[1]!, catalogName: null };
    const par = join(dir, 'null-name.par');
    writeFileSync(par, writeJet4(tables));
    const out = join(dir, 'map.sqlite');
    assert.throws(
      () => convertPar(par, { out }),
      (e) => e instanceof InputError && e.message === `${par}: not an Itho parameter database: its catalog lists a table without a name`,
    );
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir), ['null-name.par']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fuzz finding: a table definition whose page chain loops back is refused, not followed for ever (mdb-reader has no cycle check)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-par-loop-'));
  try {
    const file = writeJet4(smallItho());
    // Page 2 (MSysObjects' definition, 4 KiB pages) names itself as its next page.
    assert.equal(file[2 * 4096], 0x02, 'page 2 is a table definition');
    file.writeUInt32LE(2, 2 * 4096 + 4);
    const par = join(dir, 'loop.par');
    writeFileSync(par, file);
    assert.throws(
      () => convertPar(par, { out: join(dir, 'map.sqlite') }),
      (e) => e instanceof InputError && e.message === `${par}: not an Access database (the table definition on page 2 links back to page 2)`,
    );
    assert.deepEqual(readdirSync(dir), ['loop.par']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fuzz findings: a looping definition chain on a last page the file cuts short, and a date cell that decodes to an invalid date, are InputErrors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-par-fuzz-'));
  try {
    const file = writeJet4(smallItho());
    file.writeUInt32LE(2, 2 * 4096 + 4);
    const cut = join(dir, 'cut.par');
    writeFileSync(cut, file.subarray(0, 2 * 4096 + 1174)); // page 2 is only partly there
    assert.throws(
      () => convertPar(cut, { out: join(dir, 'a.sqlite') }),
      (e) => e instanceof InputError && /links back to page 2/.test(e.message),
    );
    const date = fixture('access', 'fuzz-invalid-date.par');
    assert.throws(
      () => convertPar(date, { out: join(dir, 'b.sqlite') }),
      (e) => e instanceof InputError && e.message === `${date}: table Handbed_V3 row 1 column Naam_fabriek: not a date`,
    );
    assert.deepEqual(readdirSync(dir), ['cut.par']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fuzz finding: an Itho table name with a NUL in the catalog is an InputError, not an SqliteError from the cut SQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-par-nul-'));
  try {
    const tables = smallItho();
    tables[1] = { ...tables[1]!, catalogName: 'Datalabel_V30\u0000x' };
    const par = join(dir, 'nul.par');
    writeFileSync(par, writeJet4(tables));
    assert.throws(
      () => convertPar(par, { out: join(dir, 'map.sqlite') }),
      (e) => e instanceof InputError && e.message === `${par}: not an Itho parameter database: table name "Datalabel_V30\\u0000x" has a control character`,
    );
    assert.deepEqual(readdirSync(dir), ['nul.par']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
