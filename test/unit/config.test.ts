import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/schema.js';
import { ConfigError } from '../../src/core/errors.js';
import { drivers } from '../../src/devices/index.js';
import { demoDevices } from '../../src/simulators/index.js';
import { ROOT } from '../helpers/paths.js';

function withConfig(yaml: string, fn: (path: string, dir: string) => void, dotenv?: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-config-'));
  try {
    const path = join(dir, 'wattline.yaml');
    writeFileSync(path, yaml);
    if (dotenv !== undefined) writeFileSync(join(dir, '.env'), dotenv);
    fn(path, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function configError(yaml: string, env: NodeJS.ProcessEnv = {}): string {
  let message = '';
  withConfig(yaml, (path) => {
    assert.throws(
      () => loadConfig({ drivers, path, env }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
        message = err.message;
        return true;
      },
    );
  });
  return message;
}

const P1 = `devices:\n  - name: meter\n    driver: dsmr-p1\n    port: { path: /dev/ttyUSB0 }\n`;

test('a valid file loads with defaults filled in', () => {
  withConfig(P1, (path) => {
    const { config, demo } = loadConfig({ drivers, path, env: {} });
    assert.equal(demo, false);
    assert.equal(config.devices.length, 1);
    assert.equal(config.devices[0].schedule, '*/10 * * * * *');
    // Driver options are parsed through the driver's schema even when absent: its defaults appear.
    assert.equal((config.devices[0].options as { mode?: string }).mode, 'latest');
    assert.equal(config.outbox.path, 'data/outbox.sqlite');
    assert.equal(config.influx, undefined);
  });
});

test('a wrong type names the path: devices[1].port.baudRate: expected a number', () => {
  const msg = configError(P1 + `  - name: meter2\n    driver: dsmr-p1\n    port: { path: /dev/ttyUSB1, baudRate: fast }\n`);
  assert.match(msg, /devices\[1\]\.port\.baudRate: expected a number, got the text "fast"/);
  assert.equal(msg.split('\n').length, 1);
});

test('unknown keys are errors, named with their path', () => {
  const msg = configError(P1 + `    colour: blue\n`);
  assert.match(msg, /devices\[0\]: unknown key "colour"/);
});

test('an unknown driver lists the known ones', () => {
  const msg = configError(`devices:\n  - name: x\n    driver: toaster\n    simulate: true\n`);
  assert.match(msg, /devices\[0\]\.driver: unknown driver "toaster" \(known: .*dsmr-p1/);
});

test('a device without port or simulate is refused', () => {
  const msg = configError(`devices:\n  - name: x\n    driver: dsmr-p1\n`);
  assert.match(msg, /devices\[0\]\.port: needs a port \(port\.path\) or simulate: true/);
});

test('duplicate device names are refused', () => {
  const msg = configError(P1 + `  - name: meter\n    driver: dsmr-p1\n    simulate: true\n`);
  assert.match(msg, /devices\[1\]\.name: duplicate device name "meter" \(also devices\[0\]\)/);
});

test('broken YAML is one line with file, line and column', () => {
  const msg = configError(`devices:\n  - name: [unclosed\n`);
  assert.match(msg, /wattline\.yaml:\d+:\d+: not valid YAML: /);
  assert.equal(msg.split('\n').length, 1);
});

test('${VAR} comes from the environment, then .env; whole-value refs keep their type', () => {
  const yaml = `influx:\n  version: \${V}\n  url: \${URL}\n  database: \${DB:-energy}\n  password: \${PW}\n` + P1;
  withConfig(
    yaml,
    (path) => {
      const { config } = loadConfig({ drivers, path, env: { URL: 'http://127.0.0.1:9999' } });
      assert.equal(config.influx?.version, 1);
      assert.equal(config.influx?.url, 'http://127.0.0.1:9999');
      assert.ok(config.influx?.version === 1);
      assert.equal(config.influx.database, 'energy');
      assert.equal(config.influx.password, 's3cret');
    },
    'V=1\nURL=http://from-dotenv:1\nPW=s3cret\n',
  );
});

test('an unset ${VAR} without default names the variable and where it is used', () => {
  const msg = configError(`devices:\n  - name: meter\n    driver: dsmr-p1\n    port:\n      path: \${P1_PORT}\n`);
  assert.match(msg, /devices\[0\]\.port\.path: \$\{P1_PORT\} is not set/);
});

test('a missing explicit config file is a ConfigError; the demo config only when asked for', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-config-'));
  try {
    assert.throws(() => loadConfig({ drivers, path: join(dir, 'nope.yaml'), env: {} }), /config file not found/);
    assert.throws(() => loadConfig({ drivers, cwd: dir, env: {}, systemPath: join(dir, 'etc.yaml') }), /config file not found/);
    const demo = loadConfig({ drivers, cwd: dir, env: {}, demo: true, demoDevices: demoDevices() });
    assert.equal(demo.demo, true);
    assert.equal(demo.config.influx, undefined);
    // Every registered driver has a simulator in the demo, with options valid for its schema.
    assert.deepEqual(
      demo.config.devices.map((d) => d.driver),
      drivers.map((d) => d.id),
    );
    const withInflux = loadConfig({ drivers, cwd: dir, env: { INFLUX_URL: 'http://127.0.0.1:8086' }, demo: true, demoDevices: demoDevices() });
    assert.equal(withInflux.config.influx?.url, 'http://127.0.0.1:8086');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the JSON Schema comes from the same source: strict, with every driver', () => {
  const schema = JSON.stringify(configJsonSchema(drivers));
  assert.match(schema, /"additionalProperties":false/);
  for (const d of drivers) assert.ok(schema.includes(`"${d.id}"`), `schema lacks driver ${d.id}`);
  assert.ok(schema.includes('baudRate'));
});

test('wattline.example.yaml is valid as shipped (with its ${VAR}s set)', () => {
  const { config } = loadConfig({ drivers, path: join(ROOT, 'wattline.example.yaml'), env: { INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_DATABASE: 'energy', P1_PORT: '/dev/ttyUSB0' } });
  assert.deepEqual(
    config.devices.map((d) => d.driver),
    ['dsmr-p1', 'hdhk', 'nut-ups', 'powerwalker-pdu', 'victron-vebus', 'itho-wpu'],
  );
});

test('file paths in driver options are relative to the config file, absolute ones stay', () => {
  withConfig(
    `devices:
  - { name: wpu, driver: itho-wpu, simulate: true, options: { parameterMap: maps/heatpump.sqlite, cacheDb: /var/lib/w/cache.sqlite } }
  - { name: ups, driver: nut-ups, options: { ups: u, tls: { mode: starttls, ca: certs/ca.pem } } }
`,
    (path, dir) => {
      const { config } = loadConfig({ drivers, path, env: {} });
      const [wpu, ups] = config.devices as { options: any }[];
      assert.equal(wpu!.options.parameterMap, join(dir, 'maps', 'heatpump.sqlite'));
      assert.equal(wpu!.options.cacheDb, '/var/lib/w/cache.sqlite');
      assert.equal(ups!.options.tls.ca, join(dir, 'certs', 'ca.pem'));
    },
  );
});
