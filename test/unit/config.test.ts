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

/** The lines of the ConfigError a config gives, each after its `<file>: `. */
function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  return configError(yaml, env)
    .split('\n')
    .map((line) => line.replace(/^.*?wattline\.yaml: /, ''));
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

test('a wrong type names the path and the device: devices[1] (meter2).port.baudRate: expected a number', () => {
  const msg = configError(P1 + `  - name: meter2\n    driver: dsmr-p1\n    port: { path: /dev/ttyUSB1, baudRate: fast }\n`);
  assert.match(msg, /devices\[1\] \(meter2\)\.port\.baudRate: expected a number, got the text "fast"/);
  assert.equal(msg.split('\n').length, 1);
});

test('unknown keys are errors, named with their path; a misspelt one gets the key meant', () => {
  const msg = configError(P1 + `    colour: blue\n`);
  assert.match(msg, /devices\[0\] \(meter\): unknown key "colour"$/);
  assert.deepEqual(problems(`outbox: { pth: x, maxrows: 5 }\n` + P1 + `    shedule: "* * * * *"\n    options: { timezon: UTC }\n`), [
    'outbox: unknown keys "pth", "maxrows" (did you mean "path" for "pth", "maxRows" for "maxrows"?)',
    'devices[0] (meter).options: unknown key "timezon" (did you mean "timezone"?)',
    'devices[0] (meter): unknown key "shedule" (did you mean "schedule"?)',
  ]);
});

test('an unknown driver lists the known ones', () => {
  const msg = configError(`devices:\n  - name: x\n    driver: toaster\n    simulate: true\n`);
  assert.match(msg, /devices\[0\] \(x\)\.driver: unknown driver "toaster" \(known: .*dsmr-p1/);
});

test('a device without port or simulate is refused', () => {
  const msg = configError(`devices:\n  - name: x\n    driver: dsmr-p1\n`);
  assert.match(msg, /devices\[0\] \(x\)\.port: needs a port \(port\.path\) or simulate: true/);
});

test('duplicate device names are refused', () => {
  const msg = configError(P1 + `  - name: meter\n    driver: dsmr-p1\n    simulate: true\n`);
  assert.match(msg, /devices\[1\] \(meter\)\.name: duplicate device name "meter" \(also devices\[0\]\)/);
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
  assert.match(msg, /devices\[0\] \(meter\)\.port\.path: \$\{P1_PORT\} is not set/);
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

test('a whole ${VAR} stays text where the schema wants text: digits, true, 0x1F, 1e5 are passwords like any other', () => {
  const yaml =
    `influx:\n  version: \${V}\n  url: http://127.0.0.1:8086\n  database: d\n  username: \${U}\n  password: \${PW}\n  batchSize: \${BS}\n  gzip: \${GZ}\n` +
    P1.replace('/dev/ttyUSB0 }', '/dev/ttyUSB0, baudRate: "${BAUD}" }') +
    `    capture: \${CAP}\n`;
  for (const pw of ['271828182', 'true', '0x1F', '1e5', '007', 'null', '~']) {
    withConfig(yaml, (path) => {
      const { config } = loadConfig({ drivers, path, env: { V: '1', U: '1234', PW: pw, BS: '0x10', GZ: 'false', BAUD: '9600', CAP: 'on' } });
      assert.ok(config.influx?.version === 1);
      assert.equal(config.influx.password, pw, `password ${pw}`);
      assert.equal(config.influx.username, '1234');
      // Where the schema wants a number or a boolean, the text is read as YAML reads it.
      assert.equal(config.influx.batchSize, 16);
      assert.equal(config.influx.gzip, false);
      assert.equal((config.devices[0] as { port: { baudRate: number } }).port.baudRate, 9600);
      assert.equal((config.devices[0] as { capture: boolean }).capture, true);
    });
  }
});

test('a secret is never echoed in a message: its type is said instead', () => {
  const msg = configError(`influx: { version: 1, url: "http://127.0.0.1:8086", database: d, password: 271828182 }\nmqtt: { url: "mqtt://h", password: [1], username: u }\n` + P1);
  assert.match(msg, /influx\.password: expected a string, got a number \(not shown: a secret; quote it in the YAML\)/);
  assert.doesNotMatch(msg, /271828182/);
  const viaEnv = configError(`influx: { version: "\${V}", url: "http://127.0.0.1:8086", database: d, token: "\${T}" }\n` + P1, { V: '1', T: 'tok-123' });
  assert.match(viaEnv, /influx: unknown key "token"/);
  assert.doesNotMatch(viaEnv, /tok-123/);
  // A value from the environment is not shown in a message whatever its key: secrets live there.
  const fromEnv = problems(`log: { level: "\${LEVEL}" }\n` + P1.replace('/dev/ttyUSB0 }', '/dev/ttyUSB0, baudRate: "x${PIN}" }'), { LEVEL: 'pin-9911', PIN: '9911' });
  assert.deepEqual(fromEnv, [
    'log.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got the value of ${LEVEL} (not shown: it may be a secret)',
    'devices[0] (meter).port.baudRate: expected a number, got the value of ${PIN} (not shown: it may be a secret)',
  ]);
  const url = configError(`devices:\n  - { name: m, driver: dsmr-p1, port: { path: /dev/x, baudRate: "http://u:pw-456@h/" } }\n`);
  assert.match(url, /got the text "http:\/\/u:\*\*\*@h\/"/);
});

test('every unset ${VAR} and every other problem at once, each naming its place', () => {
  const msg = problems(
    `influx: { version: 1, url: "\${INFLUX_URL}", database: "\${DB}", batchSize: 0 }\ndevices:\n  - { name: meter, driver: dsmr-p1, port: { path: "\${P1_PORT}" } }\n  - { name: t, driver: toaster }\n  - { name: heat-pump, driver: dsmr-p1, simulate: true, schedule: "every 5 minutes" }\n`,
  );
  assert.deepEqual(msg, [
    'influx.url: ${INFLUX_URL} is not set (set it in the environment or in .env)',
    'influx.database: ${DB} is not set (set it in the environment or in .env)',
    'devices[0] (meter).port.path: ${P1_PORT} is not set (set it in the environment or in .env)',
    `devices[1] (t).driver: unknown driver "toaster" (known: ${drivers.map((d) => d.id).join(', ')})`,
    'influx.batchSize: must be at least 1',
    "devices[2] (heat-pump).schedule: invalid cron expression 'every 5 minutes': expected 5 fields (minute first) or 6 fields (second first), got 3",
  ]);
});

test('durations a timer cannot wait, and limits out of order, are refused', () => {
  const msg = problems(
    `influx: { version: 1, url: "http://h:8086", database: d, timeoutMs: 3000000000, flushIntervalMs: 3000000000, minRetryDelayMs: 5000, maxRetryDelayMs: 1000 }\nmqtt: { url: "mqtt://h", reconnectMinMs: 5000, reconnectMaxMs: 200 }\ndevices:\n  - { name: m, driver: dsmr-p1, simulate: true, timeoutMs: 2147483648, options: { reopenMinMs: 5000, reopenMaxMs: 100 } }\n`,
  );
  assert.deepEqual(msg, [
    'influx.flushIntervalMs: must be at most 86400000',
    'influx.timeoutMs: must be at most 600000',
    'influx.maxRetryDelayMs: must be at least minRetryDelayMs (1000 < 5000)',
    'mqtt.reconnectMaxMs: must be at least reconnectMinMs (200 < 5000)',
    'devices[0] (m).timeoutMs: must be at most 3600000',
    'devices[0] (m).options.reopenMaxMs: must be at least reopenMinMs (100 < 5000)',
  ]);
});

test('cron expressions and time zones are checked when the config is read', () => {
  const msg = problems(
    `timezone: Europe/Amsterdm\ndevices:\n  - { name: a, driver: dsmr-p1, simulate: true, schedule: "*/61 * * * * *" }\n  - { name: b, driver: dsmr-p1, simulate: true, schedule: "0 0 30 2 *", options: { timezone: Europe/Stokholm } }\n  - { name: c, driver: dsmr-p1, simulate: true, schedule: "@hourly" }\n  - { name: d, driver: dsmr-p1, simulate: true, schedule: "0 0 29 2 *" }\n`,
  );
  assert.deepEqual(msg, [
    "timezone: invalid time zone 'Europe/Amsterdm' (expected an IANA name such as Europe/Amsterdam)",
    "devices[0] (a).schedule: invalid cron expression '*/61 * * * * *': Syntax error, steps cannot be greater than maximum value of part (60)",
    "devices[1] (b).schedule: invalid cron expression '0 0 30 2 *': it never fires",
    'devices[1] (b).options.timezone: not an IANA time zone (e.g. Europe/Amsterdam, Europe/Brussels, Europe/Stockholm)',
  ]);
  assert.deepEqual(problems(`timeZone: UTC\n` + P1), ['(top level): unknown key "timeZone" (did you mean "timezone"?)']);
});

test('a YAML alias bomb is one line naming the file', () => {
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const msg = configError(levels.join('\n') + '\n');
  assert.match(msg, /^\/.*\/wattline\.yaml: not valid YAML: Excessive alias count indicates a resource exhaustion attack \(more than 100 alias expansions\)$/);
});
