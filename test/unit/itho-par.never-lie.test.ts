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
