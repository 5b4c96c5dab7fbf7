/**
 * `wattline itho convert-par` and `node dist/scripts/convert-itho-par.js`, run as a user
 * would: summary line on stdout, one-line refusals with exit 2, progress only on a terminal.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { CLI, runCli } from '../helpers/cli.js';
import { generatedItho, smallItho } from '../helpers/itho-par-fixture.js';
import { writeJet4 } from '../helpers/jet4-writer.js';
import { fixture, ROOT } from '../helpers/paths.js';

const SCRIPT = join(ROOT, 'dist', 'scripts', 'convert-itho-par.js');
let dir: string;
let par: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-itho-cli-'));
  par = join(dir, '$_parameters_HeatPump.par');
  writeFileSync(par, writeJet4(smallItho()));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('wattline itho convert-par', () => {
  it('writes heatpump.sqlite in the current folder by default and prints one summary line', async () => {
    const r = await runCli(['itho', 'convert-par', par], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
    assert.match(r.stdout, /^\S*heatpump\.sqlite: 2 versions, 6 tables, 16 rows written in \d+\.\d\d s \(\d+ rows\/s\)\n$/);
    const db = new Database(join(dir, 'heatpump.sqlite'), { readonly: true });
    assert.equal(db.prepare('SELECT count(*) FROM datalabel_v31').pluck().get(), 4);
    db.close();
  });

  it('refuses an existing output without --force (exit 2, one line), replaces it with --force', async () => {
    const out = join(dir, 'forced.sqlite');
    writeFileSync(out, 'old');
    const refused = await runCli(['itho', 'convert-par', par, '--out', out]);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr, `wattline: ${out}: already exists (use --force to replace it)\n`);
    assert.equal(refused.stdout, '');
    const forced = await runCli(['itho', 'convert-par', par, '--out', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /forced\.sqlite: 2 versions/);
  });

  it('refuses a non-Itho Access database and a non-Access file, naming what is missing', async () => {
    const out = join(dir, 'never.sqlite');
    const numeric = await runCli(['itho', 'convert-par', fixture('access', 'V2000-numeric.mdb'), '--out', out]);
    assert.equal(numeric.code, 2);
    assert.equal(numeric.stderr, `wattline: ${fixture('access', 'V2000-numeric.mdb')}: not an Itho parameter database: table VersieBeheer not found\n`);
    const licence = await runCli(['itho', 'convert-par', fixture('access', 'LICENSE.mdb-reader'), '--out', out]);
    assert.equal(licence.code, 2);
    assert.match(licence.stderr, /^wattline: \S+LICENSE\.mdb-reader: not an Access database \([^\n]+\)\n$/);
    assert.equal(existsSync(out), false);
  });

  it('shows a progress bar on a terminal (through script(1), which gives the command a pty)', async () => {
    const d = mkdtempSync(join(dir, 'tty-'));
    const big = join(d, 'big.par');
    writeFileSync(big, writeJet4(generatedItho({ versions: 6, labels: 150, parameters: 40, handbed: 10, counters: 10 })));
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} itho convert-par ${JSON.stringify(big)} --out ${JSON.stringify(join(d, 'm.sqlite'))}`;
    const { stdout } = await promisify(execFile)('script', ['-qec', cmd, '/dev/null'], { cwd: d, timeout: 60_000 });
    assert.match(stdout, /convert \[[█░]+\] \d+% \d+\/1266 rows/);
    assert.match(stdout, /m\.sqlite: 6 versions, 25 tables, 1266 rows written/);
  });
});

describe('scripts/convert-itho-par.js', () => {
  it('takes the file directly, with --out and --force', async () => {
    const out = join(dir, 'script.sqlite');
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [SCRIPT, ...args]).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    const first = await run([par, '--out', out]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /script\.sqlite: 2 versions, 6 tables, 16 rows written/);
    const again = await run([par, '--out', out]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists \(use --force to replace it\)/);
    assert.equal((await run([par, '--out', out, '--force'])).code, 0);
    const missing = await run([join(dir, 'nope.par'), '--out', join(dir, 'x.sqlite')]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, `wattline: ${join(dir, 'nope.par')}: file not found\n`);
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')), 'no temporary files');
  });
});
