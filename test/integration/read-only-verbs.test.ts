/**
 * Read-only verbs create no file and no folder anywhere, with a config and without one, and
 * `wattline test` writes nothing, the Itho identity cache included. The devices are the
 * project's simulators (a P1 meter, an Itho WPU behind the pigpiod simulator).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { fixture } from '../helpers/paths.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-readonly-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every file and folder under `root`, with size and modification time. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      const st = statSync(path);
      out.push(`${path.slice(root.length)} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk(root);
  return out;
}

const READ_ONLY = [
  ['config', 'check'],
  ['devices'],
  ['devices', '--json'],
  ['buffer'],
  ['buffer', '--json'],
  ['buffer', 'dead-letters'],
  ['test'],
  ['test', '--format', 'json'],
  ['decode', 'dsmr-p1', fixture('dsmr-p1', 't211-se-7945', 'telegram.txt')],
  ['drivers'],
  ['--help'],
  ['run', '--help'],
];

test("with a config: no outbox, no cache, no data/ folder appears; test prints the devices' lines", async () => {
  const site = join(dir, 'site');
  mkdirSync(site);
  writeFileSync(
    join(site, 'wattline.yaml'),
    [
      'outbox: { path: data/outbox.sqlite }',
      'devices:',
      '  - { name: meter, driver: dsmr-p1, simulate: true }',
      '  - { name: wpu, driver: itho-wpu, simulate: true, options: { parameterMap: map.sqlite, cacheDb: data/itho-cache.sqlite } }',
      '',
    ].join('\n'),
  );
  // The simulated WPU writes its demo parameter map on its first start (the simulator's doing,
  // as a real map would be the user's): once, before the snapshot.
  const first = await runCli(['test', 'wpu'], { cwd: site });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(readdirSync(site).sort(), ['map.sqlite', 'wattline.yaml']);

  const before = snapshot(site);
  for (const args of READ_ONLY) {
    const r = await runCli(args, { cwd: site });
    assert.equal(r.code, 0, `wattline ${args.join(' ')}: ${r.stderr}`);
    if (args[0] === 'test' && args.length === 1) {
      assert.match(r.stdout, /^p1,/m);
      assert.match(r.stdout, /^itho_wpu,/m);
    }
    assert.deepEqual(snapshot(site), before, `wattline ${args.join(' ')} changed the folder`);
  }
});

test('without a config: exit 2 (or the answer), and the folder stays empty', async () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const env = { WATTLINE_CONFIG: '' };
  for (const args of [...READ_ONLY, ['run'], ['once'], ['drain']]) {
    const r = await runCli(args, { cwd: empty, env });
    const needsConfig = !['decode', 'drivers', '--help'].includes(args[0]!) && !args.includes('--help');
    // A machine with a system-wide config (/etc/wattline) finds that one.
    if (needsConfig && !existsSync('/etc/wattline/wattline.yaml')) assert.equal(r.code, 2, `wattline ${args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(readdirSync(empty), [], `wattline ${args.join(' ')} created something`);
  }
});
