/**
 * mqtts:// against a real Mosquitto with a TLS listener, certificates from a throwaway CA
 * made with openssl. Each case is a real `wattline run` (the CLI, a config file whose TLS
 * paths are relative to it, started from another folder) with the simulated P1 meter polled
 * every second, read by a real TLS subscriber; the refused cases also deliver to a real influxd.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli } from '../helpers/cli.js';
import { count, createDatabase, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { subscribe, type Subscriber } from '../helpers/mqtt-subscriber.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';

let dir: string;
let elsewhere: string;
let pki: TestPki;
let serverTls: Mosquitto;
let mutualTls: Mosquitto;
let influxd: Influxd;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-mqtt-tls-'));
  // The CLI runs from here, so a path resolved against the working folder would miss.
  elsewhere = join(dir, 'cwd');
  mkdirSync(elsewhere);
  pki = makeTestPki(join(dir, 'certs'));
  const tls = { cafile: pki.ca, certfile: pki.serverCert, keyfile: pki.serverKey };
  // allSettled: whatever started is assigned (and stopped by after()) even when another fails.
  const [a, b, c] = await Promise.allSettled([startMosquitto({ tls }), startMosquitto({ tls: { ...tls, requireCertificate: true } }), startInfluxd()]);
  if (a.status === 'fulfilled') serverTls = a.value;
  if (b.status === 'fulfilled') mutualTls = b.value;
  if (c.status === 'fulfilled') influxd = c.value;
  for (const r of [a, b, c]) if (r.status === 'rejected') throw r.reason;
  await createDatabase(influxd.url, 'tls');
});
after(async () => {
  await Promise.all([serverTls?.stop(), mutualTls?.stop(), influxd?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pem = (path: string) => readFileSync(path);

interface Run {
  config: string;
  child: ReturnType<typeof startCli>['child'];
  exited: Promise<number | null>;
  logs(): Record<string, unknown>[];
  /** SIGTERM (by PID), the exit code; SIGKILL after 15 s. */
  stop(): Promise<number | null>;
}

/** `wattline run` on a config file in `dir` (JSON is YAML), started from another folder. */
function run(name: string, mqtt: Record<string, unknown>, influx = false): Run {
  const config = join(dir, `${name}.yaml`);
  const cfg = {
    site: 'tls-test',
    outbox: { path: `${name}.sqlite`, synchronous: 'normal' },
    ...(influx ? { influx: { version: 1, url: influxd.url, database: 'tls', flushIntervalMs: 200 } } : {}),
    mqtt: { clientId: `wattline-${name}`, topicPrefix: name, reconnectMinMs: 200, reconnectMaxMs: 1000, ...mqtt },
    devices: [{ name: 'meter', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *', tags: { run: name } }],
  };
  writeFileSync(config, JSON.stringify(cfg, null, 2));
  const cli = startCli(['--config', config, '--log-level', 'debug', 'run'], { cwd: elsewhere });
  let stopped: Promise<number | null> | null = null;
  return {
    config,
    child: cli.child,
    exited: cli.exited,
    logs: () =>
      cli
        .output()
        .stderr.split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop() {
      stopped ??= (async () => {
        if (cli.child.exitCode === null && cli.child.signalCode === null) process.kill(cli.child.pid!, 'SIGTERM');
        const timer = setTimeout(() => cli.child.kill('SIGKILL'), 15_000);
        const code = await cli.exited;
        clearTimeout(timer);
        return code;
      })();
      return stopped;
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, r: Run, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (r.child.exitCode !== null) throw new Error(`wattline exited (${r.child.exitCode}) while waiting for ${what}; log:\n${JSON.stringify(r.logs().slice(-10), null, 1)}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; log:\n${JSON.stringify(r.logs().slice(-10), null, 1)}`);
    await sleep(100);
  }
}

const mqttWarnings = (r: Run) => r.logs().filter((l) => l.room === 'mqtt' && l.level === 40);
// Debug level: each collection logs `collected`.
const collections = (r: Run) => r.logs().filter((l) => l.msg === 'collected' && l.device === 'meter');

/** The CA, client certificate and key as the test subscriber needs them (it may watch every broker). */
const subscriberTls = () => ({ ca: pem(pki.ca), cert: pem(pki.clientCert), key: pem(pki.clientKey) });

/** Stop the run and the subscriber (both, whatever fails), then: a clean stop exits 0. */
async function finish(r: Run, sub: Subscriber): Promise<void> {
  const [code] = await Promise.allSettled([r.stop(), sub.close()]);
  assert.equal(code.status === 'fulfilled' ? code.value : code.reason, 0, 'wattline run exit code after SIGTERM');
}

async function expectNothingFrom(sub: Subscriber, prefix: string, ms: number): Promise<void> {
  await sleep(ms);
  assert.deepEqual(
    sub.messages.filter((m) => m.topic.startsWith(`${prefix}/`) || m.topic.includes(`/${prefix}/`)).map((m) => m.topic),
    [],
    `nothing under ${prefix} may reach the broker`,
  );
}

test('mqtts:// with tls.ca relative to the config file: a real wattline run connects; discovery and state reach a real TLS subscriber', async () => {
  const sub = await subscribe(serverTls.url, ['homeassistant/#', 'tlsa/#'], { ca: pem(pki.ca) });
  const r = run('tlsa', { url: serverTls.url, tls: { ca: 'certs/ca.pem' } });
  try {
    const config = await sub.waitFor((m) => m.topic === 'homeassistant/sensor/tlsa/tlsa_meter_p1_power_import_w/config', 'the P1 power discovery config', { timeoutMs: 20_000 });
    const c = JSON.parse(config.payload) as Record<string, unknown>;
    assert.equal(c.state_topic, 'tlsa/meter/p1');
    assert.equal(c.unit_of_measurement, 'W');
    const state = JSON.parse((await sub.waitFor((m) => m.topic === 'tlsa/meter/p1', 'a P1 state message')).payload) as Record<string, unknown>;
    assert.equal(typeof state.power_import_w, 'number');
    assert.equal((await sub.waitFor((m) => m.topic === 'tlsa/status', 'availability')).payload, 'online');
    assert.ok(
      r.logs().some((l) => l.msg === 'mqtt connected' && l.clientId === 'wattline-tlsa'),
      'the worker logs its connection',
    );
    assert.deepEqual(mqttWarnings(r), [], 'no MQTT warning on a good TLS connection');
  } finally {
    await finish(r, sub);
  }
});

test('require_certificate: tls.cert + tls.key connect; without them the broker refuses, the worker warns and keeps collecting and delivering to influxd', async () => {
  const sub = await subscribe(mutualTls.url, ['homeassistant/#', 'tlsb1/#', 'tlsb2/#'], subscriberTls());
  // With the client certificate: connected, state arrives.
  const good = run('tlsb1', { url: mutualTls.url, tls: { ca: 'certs/ca.pem', cert: 'certs/client.pem', key: 'certs/client.key' } });
  try {
    await sub.waitFor((m) => m.topic === 'tlsb1/meter/p1', 'a state message from the worker with a client certificate', { timeoutMs: 20_000 });
    assert.ok(good.logs().some((l) => l.msg === 'mqtt connected'));
  } catch (err) {
    await finish(good, sub);
    throw err;
  }
  assert.equal(await good.stop(), 0);

  // Without it: refused on every retry; collection and the outbox → influxd path go on.
  const bare = run('tlsb2', { url: mutualTls.url, tls: { ca: 'certs/ca.pem' } }, true);
  const influxPoints = () => count(influxd.url, 'tls', 'p1', 'power_import_w');
  try {
    await until('an MQTT warning', () => mqttWarnings(bare).length > 0, bare);
    const first = await influxPoints();
    await until('influxd to receive 3 more P1 points while MQTT is refused', async () => (await influxPoints()) >= first + 3, bare);
    const warnings = mqttWarnings(bare);
    const text = warnings.map((w) => `${String(w.msg)} ${String(w.err ?? '')}`).join('\n');
    assert.match(text, /mqtt broker not reachable; collection and InfluxDB go on/);
    assert.match(text, /TLS: the broker requires a client certificate: set mqtt\.tls\.cert and mqtt\.tls\.key/, 'the warning names the missing certificate and the options');
    assert.ok(!bare.logs().some((l) => l.msg === 'mqtt connected'), 'never connected');
    assert.equal(bare.child.exitCode, null, 'still running');
    assert.deepEqual(
      bare.logs().filter((l) => (l.level as number) >= 50),
      [],
      'no error-level log: the broker is not the worker’s failure',
    );
    await expectNothingFrom(sub, 'tlsb2', 300);
  } finally {
    await finish(bare, sub);
  }
  // Everything collected reached influxd: the outbox is empty after the clean stop.
  const buffer = await runCli(['--config', bare.config, 'buffer', '--json'], { cwd: elsewhere });
  assert.equal(buffer.code, 0, buffer.stderr);
  assert.equal((JSON.parse(buffer.stdout) as { rows: number }).rows, 0, 'points left in the outbox');
});

test('a wrong CA: the broker certificate is refused with a logged error naming the certificate problem; the process goes on', async () => {
  const sub = await subscribe(serverTls.url, ['homeassistant/#', 'tlsc/#'], { ca: pem(pki.ca) });
  const r = run('tlsc', { url: serverTls.url, tls: { ca: 'certs/other-ca.pem' } });
  try {
    await until('the TLS error in the log', () => r.logs().some((l) => l.msg === 'mqtt client error'), r);
    const err = String(r.logs().find((l) => l.msg === 'mqtt client error')!.err);
    assert.match(
      err,
      /^TLS: the broker's certificate is not trusted: self-signed certificate in certificate chain \(SELF_SIGNED_CERT_IN_CHAIN\); check mqtt\.tls\.ca \(certs\/other-ca\.pem\)/,
      `names the certificate problem: ${err}`,
    );
    // Retries keep failing the same way: said once, collection goes on.
    const seen = collections(r).length;
    await until('two more collections', () => collections(r).length >= seen + 2, r);
    assert.equal(r.logs().filter((l) => l.msg === 'mqtt client error').length, 1, 'the same error is logged once');
    assert.ok(!r.logs().some((l) => l.msg === 'mqtt connected'));
    assert.equal(r.child.exitCode, null, 'still running');
    await expectNothingFrom(sub, 'tlsc', 0);
  } finally {
    await finish(r, sub);
  }
});

test('rejectUnauthorized: false connects to the TLS broker without its CA', async () => {
  const sub = await subscribe(serverTls.url, ['tlsd/#'], { ca: pem(pki.ca) });
  const r = run('tlsd', { url: serverTls.url, tls: { rejectUnauthorized: false } });
  try {
    const state = JSON.parse((await sub.waitFor((m) => m.topic === 'tlsd/meter/p1', 'a P1 state message', { timeoutMs: 20_000 })).payload) as Record<string, unknown>;
    assert.equal(typeof state.power_import_w, 'number');
    assert.ok(r.logs().some((l) => l.msg === 'mqtt connected'));
  } finally {
    await finish(r, sub);
  }
});
