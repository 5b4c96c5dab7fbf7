/**
 * Installed, not cloned: `npm pack` in a fresh copy of the repository (no dist/) builds first
 * and packs what runs and nothing of the tests; `npm install -g` of that tarball into a
 * temporary prefix gives a `wattline` that works from an empty folder (the migrations come
 * from the installed package, the demo's state goes under $XDG_STATE_HOME, the folder stays
 * empty); `systemd-analyze verify` (Debian's systemd) passes on the shipped unit pointed at
 * that installed command.
 *
 * The install takes the dependencies from npm's cache (filled by `npm ci`; the registry when
 * one is missing) with --ignore-scripts: the one native addon without prebuilt binaries in its
 * package (better-sqlite3, which compiles for about a minute) gets the binary this checkout
 * built for the same Node instead. serialport and node-hid load their shipped prebuilds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { STOP_GRACE_MS } from '../../src/cli/run.js';
import { ROOT } from '../helpers/paths.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
let tmp: string;
/** Set by the install test; the later tests need it. */
let installed: { bin: string; dir: string } | undefined;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'wattline-install-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A user's shell: none of the npm_* variables `npm test` sets (they would point npm at this checkout). */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return { ...env, PATH: `${dirname(process.execPath)}:${env.PATH ?? '/usr/bin:/bin'}`, ...extra };
}

function run(file: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: opts.cwd, env: opts.env ?? userEnv(), timeout: opts.timeoutMs ?? 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('npm pack in a fresh clone builds first and packs what the command needs, without tests; npm install -g of it gives wattline', async () => {
  // A fresh clone: the sources without dist/ (node_modules as after `npm ci`).
  const clone = join(tmp, 'clone');
  const skip = new Set(['node_modules', 'dist', '.git', 'data']);
  cpSync(ROOT, clone, { recursive: true, filter: (src) => !skip.has(relative(ROOT, src).split('/')[0]!) });
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  const packed = await run('npm', ['pack', '--pack-destination', tmp], { cwd: clone });
  assert.equal(packed.code, 0, packed.stderr);
  const tarball = join(tmp, packed.stdout.trim().split('\n').at(-1)!);
  assert.equal(tarball, join(tmp, `${pkg.name}-${pkg.version}.tgz`));

  const listing = await run('tar', ['-tzf', tarball], { cwd: tmp });
  const files = listing.stdout
    .trim()
    .split('\n')
    .map((f) => f.replace(/^package\//, ''));
  for (const needed of [
    'dist/src/cli/main.js',
    'dist/src/runtime/worker.js',
    'migrations/outbox/001_outbox.sql',
    'migrations/itho-cache/001_identity.sql',
    'grafana/p1.json',
    'wattline.example.yaml',
    '.env.example',
    'README.md',
    'LICENSE',
    'CHANGELOG.md',
    'packaging/systemd/wattline.service',
    'packaging/udev/60-wattline.rules',
  ]) {
    assert.ok(files.includes(needed), `the package lacks ${needed}`);
  }
  const unwanted = files.filter((f) => /^(dist\/)?test\/|^src\/|\.map$|tsbuildinfo|^dist\/scripts\/bench\/|fixtures|^tsconfig/.test(f));
  assert.deepEqual(unwanted, []);

  const prefix = join(tmp, 'prefix');
  const install = await run('npm', ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: tmp });
  assert.equal(install.code, 0, install.stderr);
  const dir = join(prefix, 'lib', 'node_modules', pkg.name);
  const version = (path: string) => (JSON.parse(readFileSync(join(path, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(version(dir), version(ROOT), 'the installed better-sqlite3 is not the version this checkout built');
  const addon = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
  mkdirSync(dirname(join(dir, addon)), { recursive: true });
  copyFileSync(join(ROOT, addon), join(dir, addon));
  installed = { bin: join(prefix, 'bin', 'wattline'), dir };
  assert.ok(existsSync(installed.bin));
});

test('the installed wattline works from an empty folder and leaves it empty', async (t) => {
  if (!installed) return t.skip('the install test did not finish');
  const { bin, dir } = installed;
  const work = join(tmp, 'work');
  const state = join(tmp, 'state');
  mkdirSync(work);
  // The example's Itho parameter map must exist for config check (it is converted from the .par first).
  const parameterMap = join(tmp, 'heatpump.sqlite');
  writeFileSync(parameterMap, '');
  const env = userEnv({ HOME: join(tmp, 'home'), XDG_STATE_HOME: state, INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_DATABASE: 'energy', P1_PORT: '/dev/ttyUSB0', ITHO_PARAMETER_MAP: parameterMap });

  const version = await run(bin, ['--version'], { cwd: work, env });
  assert.deepEqual(version, { code: 0, stdout: `${pkg.version}\n`, stderr: '' });

  const check = await run(bin, ['config', 'check', '-c', join(dir, 'wattline.example.yaml')], { cwd: work, env });
  assert.equal(check.code, 0, check.stderr);

  if (!existsSync('/etc/wattline/wattline.yaml')) {
    const noConfig = await run(bin, ['run'], { cwd: work, env });
    assert.equal(noConfig.code, 2);
    assert.match(noConfig.stderr, /^wattline: config file not found; looked at .*\/etc\/wattline\/wattline\.yaml\. .*`wattline demo`\n$/);
  }

  // The demo: every simulator, lines on stdout, its outbox under $XDG_STATE_HOME/wattline.
  const demo = spawn(bin, ['demo', '--log-format', 'json'], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  demo.stdout.on('data', (c: Buffer) => (stdout += c));
  demo.stderr.on('data', (c: Buffer) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => demo.on('close', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    // Two collections of a poll device and of the P1 stream: the worker runs, not just starts.
    while ((stdout.match(/^p1,/gm)?.length ?? 0) < 2 || (stdout.match(/^hdhk,/gm)?.length ?? 0) < 2) {
      assert.ok(demo.exitCode === null, `demo exited: ${stderr}`);
      assert.ok(Date.now() < deadline, `no demo lines in time: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    demo.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  const outbox = join(state, 'wattline', 'data', 'demo-outbox.sqlite');
  const db = new Database(outbox, { readonly: true });
  try {
    // The outbox schema came from the installed package's migrations/, not from the folder it ran in.
    const migrations = readdirSync(join(dir, 'migrations', 'outbox')).filter((f) => f.endsWith('.sql')).length;
    assert.equal(db.pragma('user_version', { simple: true }), migrations);
    assert.ok((db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n > 0);
  } finally {
    db.close();
  }
  assert.deepEqual(readdirSync(work), []);
});

test('systemd-analyze verify passes on the shipped unit, pointed at the installed wattline', async (t) => {
  if (!installed) return t.skip('the install test did not finish');
  const unitText = readFileSync(join(ROOT, 'packaging', 'systemd', 'wattline.service'), 'utf8');
  assert.match(unitText, /^ExecStart=\/usr\/local\/bin\/wattline run --config \/etc\/wattline\/wattline\.yaml$/m);
  // systemd gives the worker TimeoutStopSec before SIGKILL: more than the worker's own stop promise.
  const stopSec = Number(/^TimeoutStopSec=(\d+)s$/m.exec(unitText)?.[1]);
  assert.ok(stopSec > STOP_GRACE_MS / 1000, `TimeoutStopSec=${stopSec}s is not above the worker's ${STOP_GRACE_MS} ms`);
  const unitDir = join(tmp, 'unit');
  mkdirSync(unitDir);
  const unit = join(unitDir, 'wattline.service');
  writeFileSync(unit, unitText.replace('/usr/local/bin/wattline', installed.bin));
  const verify = await run('systemd-analyze', ['verify', unit], { cwd: unitDir });
  assert.equal(verify.code, 0, verify.stderr);
  // verify exits 0 on unknown keys and bad values too; it names them on stderr.
  assert.equal(verify.stderr + verify.stdout, '');
});
