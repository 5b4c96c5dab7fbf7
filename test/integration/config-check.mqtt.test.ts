/**
 * `wattline config check` on a config with an mqtt section: the summary (no secrets, the
 * commands each device's config lets MQTT reach), offline (a TCP listener at the broker URL
 * sees no connection; the `mqtt` package is made unloadable and check still answers), and a
 * TLS file that cannot be used is one line naming the option and the path, exit 2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/paths.js';
import { freePort } from '../helpers/ports.js';
import { makeSelfSigned, type SelfSigned } from '../helpers/self-signed.js';

let dir: string;
let cert: SelfSigned;
let listener: Server;
let port: number;
let connections = 0;
const denyMqtt = `--import=${join(ROOT, 'dist', 'test', 'helpers', 'deny-mqtt-import.js')}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-check-mqtt-'));
  cert = makeSelfSigned();
  mkdirSync(join(dir, 'certs'));
  copyFileSync(cert.certPath, join(dir, 'certs', 'ca.pem'));
  writeFileSync(join(dir, 'certs', 'client.pem'), cert.cert);
  writeFileSync(join(dir, 'certs', 'client.key'), cert.key);
  writeFileSync(join(dir, 'certs', 'garbage.pem'), 'not a certificate\n');
  // Where the config's broker URL points: check must never connect here.
  port = await freePort();
  listener = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', resolve));
});
after(async () => {
  await new Promise((r) => listener?.close(r));
  cert?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, mqtt: Record<string, unknown>, devices: unknown[] = []): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ site: 'home', outbox: { path: 'o.sqlite' }, mqtt, devices }, null, 2));
  return path;
}

const pdu = { name: 'pdu', driver: 'powerwalker-pdu', simulate: true, options: { control: { allow: ['on', 'off', 'test'], outlets: [2, 5] } } };
const inverter = { name: 'inverter', driver: 'victron-vebus', simulate: true, options: { control: { essPower: { min: -800, max: 2500 } } } };
const readOnly = { name: 'spare', driver: 'victron-vebus', simulate: true };
const meter = { name: 'meter', driver: 'dsmr-p1', simulate: true };

test('the mqtt summary: password redacted, default client id, TLS files, the commands each device allows; offline and without the mqtt package', async () => {
  const path = writeConfig(
    'full.yaml',
    {
      url: `mqtts://bob:\${MQTT_URL_PASSWORD}@127.0.0.1:${port}`,
      username: 'bob',
      password: '${MQTT_PASSWORD}',
      tls: { ca: 'certs/ca.pem', cert: 'certs/client.pem', key: 'certs/client.key' },
      compatibility: { mode: 'powerwalker' },
    },
    [meter, pdu, inverter, readOnly],
  );
  // From another folder: the TLS paths are relative to the config file.
  const r = await runCli(['--config', path, 'config', 'check'], { cwd: tmpdir(), env: { MQTT_URL_PASSWORD: 'url-secret-1', MQTT_PASSWORD: 'field-secret-2', NODE_OPTIONS: denyMqtt } });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(lines.includes(`mqtt: mqtts://bob:***@127.0.0.1:${port} client id wattline-home (default), user bob with a password, topic prefix wattline, qos 0, retain on, batch window 2000 ms`), r.stdout);
  assert.match(
    r.stdout,
    /^mqtt tls: ca certs\/ca\.pem \(CN=localhost, valid until \d{4}-\d\d-\d\d\); client certificate certs\/client\.pem \(CN=localhost, valid until [\d-]+\), key certs\/client\.key; broker certificate verified$/m,
  );
  assert.ok(lines.includes('mqtt discovery: on, prefix homeassistant'));
  assert.ok(lines.includes('mqtt commands: on'));
  assert.ok(lines.includes('  pdu (powerwalker-pdu): outlet switches: on/off outlet 2, 5'), r.stdout);
  assert.ok(lines.includes('  inverter (victron-vebus): ess-power number: ess-power -800..2500 W'), r.stdout);
  assert.ok(lines.includes('  spare (victron-vebus): ess-power number: none allowed (options.control)'), r.stdout);
  assert.ok(!lines.some((l) => l.includes('meter (dsmr-p1)')), 'a driver without MQTT commands is not listed');
  assert.ok(lines.includes('mqtt compatibility: powerwalker, prefix powerwalker, pdu pdu, ats none (no powerwalker-ats device)'), r.stdout);
  assert.ok(!r.stdout.includes('secret'), 'a password in the output');
  assert.equal(connections, 0, 'config check connected to the broker');
});

test('the deny-mqtt hook itself: a process that does import the mqtt package fails under it', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('mqtt')"], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: denyMqtt }, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /deny-mqtt: the mqtt package was imported/);
});

test('explicit settings: client id, qos/retain, discovery and commands off, no TLS; no mqtt lines without an mqtt section', async () => {
  const path = writeConfig('plain.yaml', { url: `mqtt://127.0.0.1:${port}`, clientId: 'fusebox', topicPrefix: 'home/power', qos: 1, retain: false, batchWindowMs: 0, discovery: { enabled: false }, commands: false }, [
    pdu,
  ]);
  const r = await runCli(['--config', path, 'config', 'check']);
  assert.equal(r.code, 0, r.stderr);
  const mqttLines = r.stdout.split('\n').filter((l) => l.startsWith('mqtt') || l.startsWith('  '));
  assert.deepEqual(mqttLines, [`mqtt: mqtt://127.0.0.1:${port} client id fusebox, topic prefix home/power, qos 1, retain off, batch window 0 ms`, 'mqtt discovery: off', 'mqtt commands: off', 'mqtt compatibility: off']);

  const none = join(dir, 'none.yaml');
  writeFileSync(none, JSON.stringify({ outbox: { path: 'o.sqlite' }, devices: [meter] }));
  const n = await runCli(['--config', none, 'config', 'check']);
  assert.equal(n.code, 0, n.stderr);
  assert.ok(!/^mqtt/m.test(n.stdout), n.stdout);
  assert.equal(connections, 0);
});

test('TLS files that cannot be used: one line naming the option and the path, exit 2, the same from run, which writes nothing', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ca: 'certs/missing-ca.pem' }, /^wattline: \S+-bad\.yaml: mqtt\.tls\.ca: cannot read certs\/missing-ca\.pem: ENOENT/],
    [{ ca: 'certs/ca.pem', cert: 'certs/client.pem', key: 'certs/nope.key' }, /^wattline: \S+-bad\.yaml: mqtt\.tls\.key: cannot read certs\/nope\.key: ENOENT/],
    [{ ca: 'certs/garbage.pem' }, /^wattline: \S+-bad\.yaml: mqtt\.tls\.ca: certs\/garbage\.pem is not a PEM certificate/],
    [{ cert: 'certs/client.pem' }, /^wattline: \S+-bad\.yaml: mqtt\.tls: cert is set but key is not/],
    [{ ca: 'certs/ca.pem', cert: 'certs/client.pem', key: 'certs/ca.pem' }, /^wattline: \S+-bad\.yaml: mqtt\.tls\.key: certs\/ca\.pem is not a PEM private key/],
  ];
  for (const [tls, expected] of cases) {
    const path = writeConfig('tls-bad.yaml', { url: `mqtts://127.0.0.1:${port}`, tls });
    const r = await runCli(['--config', path, 'config', 'check']);
    assert.equal(r.code, 2, `${JSON.stringify(tls)}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, expected);
    const run = await runCli(['--config', path, 'run']);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr, r.stderr);
    assert.equal(existsSync(join(dir, 'o.sqlite')), false, 'run created the outbox before refusing');
  }
  // A compatibility device that is not configured is the same kind of error.
  const path = writeConfig('compat-bad.yaml', { url: `mqtt://127.0.0.1:${port}`, compatibility: { mode: 'powerwalker', pdu: 'nope' } }, [pdu]);
  const r = await runCli(['--config', path, 'config', 'check']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^wattline: \S+-bad\.yaml: mqtt\.compatibility\.pdu: no enabled device named "nope"$/m);
  assert.equal(connections, 0);
});
