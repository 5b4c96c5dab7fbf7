/**
 * The `wattline` command as users type it: exit codes, one-line errors, decode on recorded
 * telegrams, `test` writing nothing, `once` delivering to a real influxd 1.6.7.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli } from '../helpers/cli.js';
import { count, createDatabase, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { fixture } from '../helpers/paths.js';
import { openSqliteOutbox } from '../../src/outbox/sqlite-outbox.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-cli-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('bad input: one line per problem, exit 2, nothing written', () => {
  test('a config with a wrong type', async () => {
    const path = writeConfig('bad-type.yaml', 'outbox: { path: bad.sqlite }\ndevices:\n  - name: p1\n    driver: dsmr-p1\n    port: { path: /dev/null, baudRate: fast }\n');
    const r = await runCli(['--config', path, 'config', 'check']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /devices\[0\] \(p1\)\.port\.baudRate: expected a number/);
    assert.equal(existsSync(join(dir, 'bad.sqlite')), false);
  });

  test('run with an unknown driver does not start and writes no outbox', async () => {
    const path = writeConfig('bad-driver.yaml', 'outbox: { path: never.sqlite }\ndevices:\n  - name: x\n    driver: toaster\n    simulate: true\n');
    const r = await runCli(['--config', path, 'run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /devices\[0\] \(x\)\.driver: unknown driver "toaster"/);
    assert.equal(existsSync(join(dir, 'never.sqlite')), false);
  });

  test('a missing config file named with --config', async () => {
    const r = await runCli(['--config', join(dir, 'nope.yaml'), 'once']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope\.yaml: config file not found/);
  });

  test('an unknown verb and an unknown option', async () => {
    assert.equal((await runCli(['frobnicate'])).code, 2);
    assert.equal((await runCli(['drivers', '--colour'])).code, 2);
  });

  test('decode of a file that does not exist names it', async () => {
    const r = await runCli(['decode', 'dsmr-p1', join(dir, 'missing.txt')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read .*missing\.txt: no such file/);
  });

  test('a device that is not configured', async () => {
    const path = writeConfig('one.yaml', 'outbox: { path: one.sqlite }\ndevices:\n  - name: meter\n    driver: dsmr-p1\n    simulate: true\n');
    const r = await runCli(['--config', path, 'test', 'other']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no enabled device named "other" \(configured: meter\)/);
  });
});

test('--help answers on every verb', async () => {
  for (const verb of [[], ['run'], ['demo'], ['once'], ['test'], ['config', 'check'], ['config', 'schema'], ['devices'], ['buffer'], ['drain'], ['drivers'], ['decode'], ['ups']]) {
    const r = await runCli([...verb, '--help']);
    assert.equal(r.code, 0, `wattline ${verb.join(' ')} --help: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: wattline/);
  }
});

test('drivers lists the registered ids, one per line', async () => {
  const r = await runCli(['drivers']);
  assert.equal(r.code, 0);
  assert.ok(r.stdout.split('\n').includes('dsmr-p1'));
});

test('decode turns a recorded T211 telegram into the expected line, from a file and from stdin', async () => {
  const telegram = fixture('dsmr-p1', 't211-se-7945', 'telegram.txt');
  const expected = readFileSync(fixture('dsmr-p1', 't211-se-7945', 'expected.lp'), 'utf8').trim();
  const args = ['decode', 'dsmr-p1', '--device', 'meter', '--precision', 'ns', '-o', 'timestamps=meter', '-o', 'timezone=Europe/Stockholm'];
  const fromFile = await runCli([...args, telegram]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.equal(fromFile.stdout.trim(), expected);
  const fromStdin = await runCli([...args, '-'], { input: readFileSync(telegram, 'utf8') });
  assert.equal(fromStdin.stdout.trim(), expected);
});

test('decode reports a telegram with a bad CRC on one line and still prints the good ones', async () => {
  const good = readFileSync(fixture('dsmr-p1', 't211-se-7945', 'telegram.txt'), 'utf8');
  const bad = good.replace('240.3*V', '240.4*V');
  const r = await runCli(['decode', 'dsmr-p1', '-o', 'timestamps=meter', '-'], { input: good + bad + good });
  assert.equal(r.code, 1);
  assert.equal(r.stdout.trim().split('\n').length, 2);
  const errors = r.stderr.trim().split('\n');
  assert.equal(errors.length, 1);
  assert.match(errors[0], /telegram 2 .*CRC/i);
});

test('decode refuses a bad driver option with its name', async () => {
  const r = await runCli(['decode', 'dsmr-p1', '-o', 'timestamps=sundial', '-'], { input: '' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--option\.timestamps: expected one of "collection", "meter"/);
});

describe('with a real influxd', () => {
  let influxd: Influxd;
  before(async () => {
    influxd = await startInfluxd();
    await createDatabase(influxd.url, 'cli');
  });
  after(async () => {
    await influxd?.stop();
  });

  test('test prints line protocol and writes nothing; once delivers every collected point', async () => {
    const path = writeConfig(
      'once.yaml',
      [
        'outbox: { path: once.sqlite }',
        `influx: { version: 1, url: "${influxd.url}", database: cli }`,
        'devices:',
        '  - { name: a, driver: dsmr-p1, simulate: true }',
        '  - { name: b, driver: dsmr-p1, simulate: true }',
        '',
      ].join('\n'),
    );
    const t = await runCli(['--config', path, 'test']);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^p1,device=a /m);
    assert.match(t.stdout, /^p1,device=b /m);
    assert.equal(existsSync(join(dir, 'once.sqlite')), false, 'test must not create the outbox');
    assert.equal(await count(influxd.url, 'cli', 'p1', 'power_import_w'), 0);

    const j = await runCli(['--config', path, 'test', 'a', '--format', 'json']);
    const parsed = JSON.parse(j.stdout) as { devices: { device: string; points: { measurement: string; fields: Record<string, unknown> }[] }[] };
    assert.equal(parsed.devices.length, 1);
    assert.equal(typeof parsed.devices[0].points.find((p) => p.measurement === 'p1')?.fields.power_import_w, 'number');

    const o = await runCli(['--config', path, 'once']);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(await count(influxd.url, 'cli', 'p1', 'power_import_w'), 2);
    const b = await runCli(['--config', path, 'buffer', '--json']);
    assert.equal(JSON.parse(b.stdout).rows, 0);
  });

  test('once exits 1 when InfluxDB refuses (missing database) and keeps the points', async () => {
    const path = writeConfig(
      'nodb.yaml',
      ['outbox: { path: nodb.sqlite }', `influx: { version: 1, url: "${influxd.url}", database: nosuchdb, createDatabase: false }`, 'devices:', '  - { name: a, driver: dsmr-p1, simulate: true }', ''].join('\n'),
    );
    const o = await runCli(['--config', path, 'once']);
    assert.equal(o.code, 1);
    const b = await runCli(['--config', path, 'buffer', '--json']);
    assert.ok(JSON.parse(b.stdout).rows >= 1, 'points must stay in the outbox');
  });
});

test('an invalid cron expression is exit 2 before anything is opened or written', async () => {
  const path = writeConfig('bad-cron.yaml', 'outbox: { path: cron.sqlite }\ndevices:\n  - { name: m, driver: dsmr-p1, simulate: true, schedule: "61 * * * *" }\n');
  const r = await runCli(['--config', path, 'once']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /devices\[0\] \(m\)\.schedule: invalid cron expression '61 \* \* \* \*'/);
  assert.equal(existsSync(join(dir, 'cron.sqlite')), false);
});

test('run stops on SIGTERM with exit 0, and its log never shows a secret', async () => {
  const path = writeConfig(
    'term.yaml',
    [
      'echo: true',
      'log: { level: debug, format: json }',
      'outbox: { path: term.sqlite }',
      // Nothing listens on port 9 of loopback: the flusher fails and logs its configuration.
      'influx: { version: 1, url: "http://127.0.0.1:9", database: d, username: "${TERM_USER}", password: "${TERM_PASSWORD}", minRetryDelayMs: 50 }',
      'devices:',
      '  - { name: m, driver: dsmr-p1, simulate: true, schedule: "* * * * * *" }',
      '',
    ].join('\n'),
  );
  const worker = startCli(['--config', path, 'run'], { env: { TERM_USER: 'alice', TERM_PASSWORD: 'hunter2-very-secret' } });
  try {
    // Wait (bounded) until it has committed a point, then ask it to stop.
    for (let i = 0; i < 100 && !worker.output().stdout.includes('p1,'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(worker.output().stdout, /^p1,device=m /m);
    worker.child.kill('SIGTERM');
    const code = await Promise.race([worker.exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
    assert.equal(code, 0);
    const { stderr } = worker.output();
    assert.match(stderr, /"msg":"stopped"/);
    assert.ok(!stderr.includes('hunter2-very-secret'), 'the password appeared in the log');
  } finally {
    worker.child.kill('SIGKILL');
  }
  const c = await runCli(['--config', path, 'config', 'check'], { env: { TERM_USER: 'alice', TERM_PASSWORD: 'hunter2-very-secret' } });
  assert.equal(c.code, 0, c.stderr);
  assert.ok(!c.stdout.includes('hunter2-very-secret'));
});

test('buffer dead-letters, retry and purge act on the outbox the config names', async () => {
  const path = writeConfig('dl.yaml', 'outbox: { path: dl.sqlite }\ndevices: []\n');
  const outbox = openSqliteOutbox(join(dir, 'dl.sqlite'), { maxRows: 100, maxBytes: 1e6 });
  outbox.append(['m v=1 1', 'm v="x" 2'], 'ms');
  const rows = outbox.peek(10, 1e6)!.rows;
  outbox.deadLetter(
    rows.map((r) => r.id),
    400,
    'field type conflict',
  );
  outbox.close();

  const listed = await runCli(['--config', path, 'buffer', 'dead-letters']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /HTTP 400: field type conflict\n {4}m v=1 1\n/);
  const ids = [...listed.stdout.matchAll(/^#(\d+) /gm)].map((m) => m[1]!);
  assert.equal(ids.length, 2);

  assert.match((await runCli(['--config', path, 'buffer', 'retry', ids[0]!])).stdout, /requeued 1 dead letters/);
  let stats = JSON.parse((await runCli(['--config', path, 'buffer', '--json'])).stdout);
  assert.equal(stats.rows, 1);
  assert.equal(stats.deadLetters, 1);
  assert.match((await runCli(['--config', path, 'buffer', 'purge'])).stdout, /purged 1 dead letters/);
  stats = JSON.parse((await runCli(['--config', path, 'buffer', '--json'])).stdout);
  assert.equal(stats.deadLetters, 0);
  assert.equal(stats.rows, 1, 'purge leaves pending points alone');
});
