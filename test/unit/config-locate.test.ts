/** Where the config comes from (config/locate.ts): --config, $WATTLINE_CONFIG, ./wattline.yaml, /etc/wattline/wattline.yaml. */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateConfig, notFoundMessage, SYSTEM_CONFIG_PATH } from '../../src/config/locate.js';

let dir: string;
let cwd: string;
let system: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-locate-'));
  cwd = join(dir, 'cwd');
  mkdirSync(cwd);
  mkdirSync(join(dir, 'etc'));
  system = join(dir, 'etc', 'wattline.yaml');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const touch = (path: string) => writeFileSync(path, 'devices: []\n');

test('the system-wide default is /etc/wattline/wattline.yaml', () => {
  assert.equal(SYSTEM_CONFIG_PATH, '/etc/wattline/wattline.yaml');
});

test('each place wins over the ones after it', () => {
  touch(system);
  assert.deepEqual(locateConfig({ cwd, env: {}, systemPath: system }), { found: true, path: system, name: system });
  touch(join(cwd, 'wattline.yaml'));
  assert.deepEqual(locateConfig({ cwd, env: {}, systemPath: system }), { found: true, path: join(cwd, 'wattline.yaml'), name: 'wattline.yaml' });
  touch(join(dir, 'env.yaml'));
  assert.deepEqual(locateConfig({ cwd, env: { WATTLINE_CONFIG: '../env.yaml' }, systemPath: system }), { found: true, path: join(dir, 'env.yaml'), name: '../env.yaml' });
  touch(join(cwd, 'flag.yaml'));
  assert.deepEqual(locateConfig({ path: 'flag.yaml', cwd, env: { WATTLINE_CONFIG: '../env.yaml' }, systemPath: system }), { found: true, path: join(cwd, 'flag.yaml'), name: 'flag.yaml' });
});

test('a file the user named that is missing is an error, never a reason to look further', () => {
  touch(join(cwd, 'wattline.yaml'));
  touch(system);
  const byFlag = locateConfig({ path: 'nope.yaml', cwd, env: {}, systemPath: system });
  assert.equal(byFlag.found, false);
  assert.equal(notFoundMessage(byFlag as Extract<typeof byFlag, { found: false }>), `${join(cwd, 'nope.yaml')}: config file not found (named by --config; copy wattline.example.yaml there)`);
  const byEnv = locateConfig({ cwd, env: { WATTLINE_CONFIG: '/nowhere/w.yaml' }, systemPath: system });
  assert.equal(byEnv.found, false);
  assert.match(notFoundMessage(byEnv as Extract<typeof byEnv, { found: false }>), /^\/nowhere\/w\.yaml: config file not found \(named by \$WATTLINE_CONFIG;/);
});

test('nothing found: one line naming every place searched and the demo; nothing created', () => {
  const located = locateConfig({ cwd, env: {}, systemPath: system });
  assert.equal(located.found, false);
  assert.equal(
    notFoundMessage(located as Extract<typeof located, { found: false }>),
    `config file not found; looked at --config (not given), $WATTLINE_CONFIG (not set), ${join(cwd, 'wattline.yaml')}, ${system}. ` +
      'Copy wattline.example.yaml to one of those places, or try the simulated devices with `wattline demo`',
  );
  assert.deepEqual(readdirSync(cwd), []);
});
