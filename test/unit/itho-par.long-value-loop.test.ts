/**
 * Issue 16: a `.par` whose memo (long value) chain of LVAL rows loops back made mdb-reader
 * read for ever (it follows the rows' next pointers with no cycle check): the converter must
 * end with one typed line, write nothing, and still read a proper chain.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { InputError } from '../../src/core/errors.js';
import { convertPar } from '../../src/itho-par/index.js';
import { runCli } from '../helpers/cli.js';
import { CHAINED_TEXT, parWithLval } from '../helpers/lval-chain.js';

const dir = mkdtempSync(join(tmpdir(), 'wattline-par-lval-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a memo stored as a proper two-row LVAL chain is read whole', () => {
  const par = join(dir, 'chain.par');
  writeFileSync(par, parWithLval('chain'));
  const out = join(dir, 'chain.sqlite');
  convertPar(par, { out });
  const db = new Database(out, { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT tooltip FROM datalabel_v30 WHERE id = 0').get(), { tooltip: CHAINED_TEXT });
  } finally {
    db.close();
  }
});

for (const shape of ['self-loop', 'two-row-loop'] as const) {
  test(`wattline itho convert-par: a memo whose LVAL chain loops (${shape}) ends in one line, exit 2, nothing written — not a hang`, async () => {
    const sub = mkdtempSync(join(dir, `${shape}-`));
    const par = join(sub, 'loop.par');
    const file = parWithLval(shape);
    writeFileSync(par, file);
    const page = file.length / 4096 - 1;
    const r = await runCli(['itho', 'convert-par', par, '--out', join(sub, 'map.sqlite')], { timeoutMs: 30_000 });
    const why = `the memo/OLE value's chain of LVAL rows loops back to page ${page} row 0`;
    assert.equal(r.stderr, `wattline: ${par}: table Datalabel_V30 cannot be read (${why})\n`);
    assert.equal(r.code, 2);
    assert.deepEqual(readdirSync(sub), ['loop.par']);
    assert.throws(
      () => convertPar(par, { out: join(sub, 'map.sqlite') }),
      (e) => e instanceof InputError && e.message === `${par}: table Datalabel_V30 cannot be read (${why})`,
    );
    assert.deepEqual(readdirSync(sub), ['loop.par']);
  });
}
