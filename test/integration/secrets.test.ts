/**
 * No secret is ever printed: secrets planted through `${VAR}` (a digits-only
 * InfluxDB password, a token, passwords in URLs, a NUT password, an MQTT password) are looked
 * for in everything the read-only verbs print and in every log line of short `run`s at trace
 * level: one delivering to a real influxd 1.6.7 with auth on (the digits-only password must
 * work, so it must stay text), one against refused InfluxDB v2 and MQTT URLs with credentials.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli } from '../helpers/cli.js';
import { count, createDatabase, query, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';

// Digits only (YAML would read it as a number), and long enough not to turn up in a timestamp by chance.
const SECRETS = {
  INFLUX_PASSWORD: '4711081547110815',
  INFLUX_TOKEN: 'planted-token-QmF3',
  URL_PASSWORD: 'planted-url-pw-7Yx',
  NUT_PASSWORD: '0x1F0x1F0x1F',
  MQTT_PASSWORD: 'true',
  MQTT_URL_PASSWORD: 'planted-mqtt-url-pw-Kd2',
};
// 'true' is a secret here too, but too common a word to look for in logs.
const LOOK_FOR = Object.values(SECRETS).filter((s) => s !== 'true');
const admin = { user: 'admin', pass: SECRETS.INFLUX_PASSWORD };

let dir: string;
let influx: Influxd;
let refused: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-secrets-'));
  influx = await startInfluxd({ authEnabled: true });
  await query(influx.url, '', `CREATE USER "admin" WITH PASSWORD '${SECRETS.INFLUX_PASSWORD}' WITH ALL PRIVILEGES`);
  await createDatabase(influx.url, 'secrets', admin);
  refused = await freePort();
});
after(async () => {
  await influx?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const nut = '  - { name: ups, driver: nut-ups, simulate: true, schedule: "* * * * * *", options: { ups: demo, username: monuser, password: "${NUT_PASSWORD}" } }';
const meter = '  - { name: meter, driver: dsmr-p1, simulate: true, schedule: "* * * * * *" }';

function writeConfig(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

function assertNoSecret(text: string, where: string): void {
  for (const secret of LOOK_FOR) assert.ok(!text.includes(secret), `${where} printed the secret ${secret}:\n${text.slice(0, 2000)}`);
}

/** `run` at trace level until `until` holds (bounded), then SIGTERM; everything it printed. */
async function shortRun(path: string, until: (out: string) => Promise<boolean> | boolean): Promise<string> {
  const worker = startCli(['--config', path, '--log-level', 'trace', '--log-format', 'json', 'run'], { env: SECRETS, cwd: dir });
  try {
    let done = false;
    for (let i = 0; i < 150 && !done; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const { stdout, stderr } = worker.output();
      done = await until(stdout + stderr);
    }
    assert.ok(done, `the run never got there:\n${worker.output().stderr.slice(-2000)}`);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  } finally {
    worker.child.kill('SIGKILL');
  }
  const { stdout, stderr } = worker.output();
  return stdout + stderr;
}

test('a run delivering to influxd with auth: the digits-only password works, no log line shows a secret', async () => {
  const path = writeConfig('auth.yaml', [
    'outbox: { path: auth.sqlite }',
    `influx: { version: 1, url: "${influx.url}", database: secrets, username: admin, password: "\${INFLUX_PASSWORD}", flushIntervalMs: 100 }`,
    'devices:',
    meter,
    nut,
  ]);
  const out = await shortRun(
    path,
    async () => (await count(influx.url, 'secrets', 'ups', 'battery_charge_pct', admin).catch(() => 0)) > 0 && (await count(influx.url, 'secrets', 'p1', 'power_import_w', admin).catch(() => 0)) > 0,
  );
  assert.match(out, /"level":20,/, 'debug lines were logged');
  assertNoSecret(out, 'run (influxd with auth)');
});

test('a run against refused URLs with credentials (InfluxDB v2 token, MQTT): no log line shows a secret', async () => {
  const path = writeConfig('refused.yaml', [
    'outbox: { path: refused.sqlite }',
    `influx: { version: 2, url: "http://127.0.0.1:${refused}", bucket: b, token: "\${INFLUX_TOKEN}", minRetryDelayMs: 50, maxRetryDelayMs: 200 }`,
    `mqtt: { url: "mqtt://bob:\${MQTT_URL_PASSWORD}@127.0.0.1:${refused}", username: bob, password: "\${MQTT_PASSWORD}", reconnectMinMs: 100, reconnectMaxMs: 200 }`,
    'devices:',
    meter,
    nut,
  ]);
  // Until the flusher and the MQTT connection have both failed more than once.
  const out = await shortRun(path, (text) => (text.match(/ECONNREFUSED/g) ?? []).length >= 4 && /"room":"mqtt"/.test(text) && /"room":"flusher"/.test(text));
  assertNoSecret(out, 'run (refused URLs)');
});

test('every read-only verb, on good and on broken configs: no secret in what it prints', async () => {
  const good = writeConfig('good.yaml', [
    'outbox: { path: good.sqlite }',
    `influx: { version: 1, url: "http://admin:\${URL_PASSWORD}@127.0.0.1:${refused}/?u=admin&p=\${INFLUX_PASSWORD}", database: d, username: admin, password: "\${INFLUX_PASSWORD}" }`,
    `mqtt: { url: "mqtts://bob:\${MQTT_URL_PASSWORD}@127.0.0.1:${refused}", username: bob, password: "\${MQTT_PASSWORD}" }`,
    'devices:',
    meter,
    nut,
  ]);
  const v2 = writeConfig('v2.yaml', ['outbox: { path: good.sqlite }', `influx: { version: 2, url: "http://vm:\${URL_PASSWORD}@127.0.0.1:${refused}", bucket: b }`, 'devices: []']);
  const broken = [
    // A secret where the schema wants something else, or a secret in a place with another problem.
    writeConfig('bad-type.yaml', [
      'influx: { version: 1, url: "http://127.0.0.1:1", database: d, password: [ "${INFLUX_PASSWORD}" ], username: "${INFLUX_PASSWORD}x", batchSize: "${INFLUX_PASSWORD}", gzip: "x${INFLUX_PASSWORD}", precision: "${INFLUX_PASSWORD}" }',
    ]),
    writeConfig('bad-url.yaml', [`influx: { version: 1, url: "ftp://admin:\${URL_PASSWORD}@127.0.0.1:1", database: d }`, `mqtt: { url: "http://bob:\${MQTT_URL_PASSWORD}@h", password: 4711081547110815 }`]),
    writeConfig('bad-both.yaml', [`influx: { version: 2, url: "http://vm:\${URL_PASSWORD}@127.0.0.1:1", bucket: b, token: "\${INFLUX_TOKEN}" }`]),
    // A device address takes no credentials (docs/network.md): refused without echoing them.
    writeConfig('bad-link.yaml', ['devices:', `  - { name: gateway, driver: dsmr-p1, enabled: false, port: { path: "tcp://p1:\${URL_PASSWORD}@127.0.0.1:${refused}" } }`]),
    writeConfig('bad-key.yaml', [`influx: { version: 1, url: "http://127.0.0.1:1", database: d, token: "\${INFLUX_TOKEN}", retentionPolicy: "\${NUT_PASSWORD}", timeoutMs: "\${INFLUX_PASSWORD}" }`]),
  ];
  const verbs = [
    ['config', 'check'],
    ['devices'],
    ['buffer'],
    ['buffer', '--json'],
    ['buffer', 'dead-letters'],
    ['test'],
    ['test', '--format', 'json'],
    ['drivers'],
    ['drivers', '--long'],
    ['config', 'schema'],
    ['--help'],
    ['run', '--help'],
  ];
  let printed = 0;
  // A broken config stops every verb at the same place (loading it), and the v2 config differs
  // from the good one only in its influx section: three verbs say enough for them.
  const few = [['config', 'check'], ['devices'], ['test']];
  for (const config of [good, v2, ...broken]) {
    for (const verb of config === good ? verbs : few) {
      const r = await runCli(['--config', config, ...verb], { env: SECRETS, cwd: dir, timeoutMs: 30_000 });
      assertNoSecret(r.stdout + r.stderr, `wattline ${verb.join(' ')} (${config})`);
      printed += r.stdout.length + r.stderr.length;
      if (broken.includes(config) && verb[0] === 'config' && verb[1] === 'check') assert.equal(r.code, 2, `${config}: ${r.stderr}`);
    }
  }
  // The good config's check shows where points go, with the credentials masked.
  const check = await runCli(['--config', good, 'config', 'check'], { env: SECRETS, cwd: dir });
  assert.equal(check.code, 0, check.stderr);
  assert.ok(check.stdout.includes(`influx: v1 http://admin:***@127.0.0.1:${refused}/?u=admin&p=*** database d`), check.stdout);
  assert.ok(check.stdout.includes(`mqtt: mqtts://bob:***@127.0.0.1:${refused} `), check.stdout);
  const v2check = await runCli(['--config', v2, 'config', 'check'], { env: SECRETS, cwd: dir });
  assert.ok(v2check.stdout.includes(`influx: v2 http://vm:***@127.0.0.1:${refused}/ bucket b`), v2check.stdout);
  assert.ok(printed > 10_000, 'the verbs printed next to nothing');
});
