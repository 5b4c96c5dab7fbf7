/**
 * `config check` is the whole truth: every config in the table below is refused by
 * `config check` and by `run` with the same lines on stderr and exit 2, and neither writes
 * anything (the folder holds only the config afterwards). The messages name the file, the place
 * and the device. A serial port that does not exist is a warning, not a refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

interface Case {
  what: string;
  /** The config file's text; `<dir>` is the case's folder. */
  yaml: string;
  env?: Record<string, string>;
  /** What the folder holds before (besides the config): files and folders the config points at. */
  setup?: (dir: string) => void;
  /** Each stderr line after `wattline: <config path>: `; `<dir>` is the case's folder. */
  lines: string[];
}

const SIM = 'simulate: true';
const CASES: Case[] = [
  {
    what: 'a schedule in words',
    yaml: `devices:\n  - { name: heat-pump, driver: dsmr-p1, ${SIM}, schedule: "every 5 minutes" }\n`,
    lines: ["devices[0] (heat-pump).schedule: invalid cron expression 'every 5 minutes': expected 5 fields (minute first) or 6 fields (second first), got 3"],
  },
  {
    what: 'a step larger than its field',
    yaml: `devices:\n  - { name: meter, driver: dsmr-p1, ${SIM}, schedule: "*/61 * * * * *" }\n`,
    lines: ["devices[0] (meter).schedule: invalid cron expression '*/61 * * * * *': Syntax error, steps cannot be greater than maximum value of part (60)"],
  },
  {
    what: 'a schedule that never fires',
    yaml: `devices:\n  - { name: a, driver: dsmr-p1, ${SIM} }\n  - { name: feb30, driver: dsmr-p1, ${SIM}, schedule: "0 0 30 2 *" }\n`,
    lines: ["devices[1] (feb30).schedule: invalid cron expression '0 0 30 2 *': it never fires"],
  },
  {
    what: 'a misspelt top-level key',
    yaml: `timeZone: Europe/Amsterdam\ndevices:\n  - { name: a, driver: dsmr-p1, ${SIM} }\n`,
    lines: ['(top level): unknown key "timeZone" (did you mean "timezone"?)'],
  },
  {
    what: 'a misspelt time zone, top level and per device',
    yaml: `timezone: Europe/Amsterdm\ndevices:\n  - { name: meter, driver: dsmr-p1, ${SIM}, options: { timezone: Europe/Stokholm } }\n`,
    lines: [
      "timezone: invalid time zone 'Europe/Amsterdm' (expected an IANA name such as Europe/Amsterdam)",
      'devices[0] (meter).options.timezone: not an IANA time zone (e.g. Europe/Amsterdam, Europe/Brussels, Europe/Stockholm)',
    ],
  },
  {
    what: 'a missing Itho parameter map',
    yaml: `devices:\n  - { name: heat-pump, driver: itho-wpu, options: { parameterMap: maps/wpu.sqlite } }\n`,
    lines: ['devices[0] (heat-pump).options.parameterMap: <dir>/maps/wpu.sqlite not found'],
  },
  {
    what: 'a NUT CA that is a folder, a missing MQTT CA',
    yaml: `mqtt: { url: "mqtts://127.0.0.1:1", tls: { ca: certs/broker-ca.pem } }\ndevices:\n  - { name: ups, driver: nut-ups, options: { ups: eaton, tls: { mode: starttls, ca: certs } } }\n`,
    setup: (dir) => mkdirSync(join(dir, 'certs')),
    lines: ["mqtt.tls.ca: cannot read certs/broker-ca.pem: ENOENT: no such file or directory, open '<dir>/certs/broker-ca.pem'", 'devices[0] (ups).options.tls.ca: <dir>/certs is a folder'],
  },
  {
    what: 'an outbox under a file, a capture archive that is a folder',
    yaml: `outbox: { path: state/outbox.sqlite }\ncapture: { path: captures }\ndevices:\n  - { name: meter, driver: dsmr-p1, ${SIM}, capture: on }\n`,
    setup: (dir) => {
      writeFileSync(join(dir, 'state'), 'a file, not a folder\n');
      mkdirSync(join(dir, 'captures'));
    },
    lines: ['outbox.path: cannot create <dir>/state/outbox.sqlite: <dir>/state is not a folder', 'capture.path: <dir>/captures is a folder'],
  },
  {
    what: 'an outbox on a device file',
    yaml: `outbox: { path: /dev/null }\ndevices:\n  - { name: meter, driver: dsmr-p1, ${SIM} }\n`,
    lines: ['outbox.path: /dev/null is not a regular file'],
  },
  {
    what: 'every unset variable at once',
    yaml: `influx: { version: 1, url: "\${INFLUX_URL}", database: "\${INFLUX_DB}", password: "\${INFLUX_PASSWORD}" }\ndevices:\n  - { name: meter, driver: dsmr-p1, port: { path: "\${P1_PORT}" } }\n`,
    lines: [
      'influx.url: ${INFLUX_URL} is not set (set it in the environment or in .env)',
      'influx.database: ${INFLUX_DB} is not set (set it in the environment or in .env)',
      'influx.password: ${INFLUX_PASSWORD} is not set (set it in the environment or in .env)',
      'devices[0] (meter).port.path: ${P1_PORT} is not set (set it in the environment or in .env)',
    ],
  },
  {
    what: 'durations a timer cannot wait, limits out of order',
    yaml: `influx: { version: 1, url: "http://127.0.0.1:9", database: d, timeoutMs: 3000000000, flushIntervalMs: 3000000000, minRetryDelayMs: 60000, maxRetryDelayMs: 1000 }\nmqtt: { url: "mqtt://127.0.0.1:1", reconnectMinMs: 5000, reconnectMaxMs: 1000 }\ndevices:\n  - { name: meter, driver: dsmr-p1, ${SIM}, timeoutMs: 2147483648 }\n`,
    lines: [
      'influx.flushIntervalMs: must be at most 86400000',
      'influx.timeoutMs: must be at most 600000',
      'influx.maxRetryDelayMs: must be at least minRetryDelayMs (1000 < 60000)',
      'mqtt.reconnectMaxMs: must be at least reconnectMinMs (1000 < 5000)',
      'devices[0] (meter).timeoutMs: must be at most 3600000',
    ],
  },
  {
    what: 'a token and basic auth in the URL',
    yaml: `influx: { version: 2, url: "http://vm:\${VM_PASSWORD}@127.0.0.1:9", bucket: b, token: "\${INFLUX_TOKEN}" }\ndevices: []\n`,
    env: { VM_PASSWORD: 'planted-vm-password', INFLUX_TOKEN: 'planted-token' },
    lines: ['influx.token: give either a token or a username/password (basic auth), not both'],
  },
  {
    what: 'every problem at once: driver, schema, schedule, files',
    yaml: [
      'outbox: { path: /dev/null }',
      'log: { level: loud }',
      'mqtt: { url: "mqtts://127.0.0.1:1", tls: { ca: certs/ca.pem } }',
      'devices:',
      `  - { name: meter, driver: dsmr-p1, ${SIM}, schedule: "61 * * * *" }`,
      '  - { name: heat-pump, driver: itho-wpu, options: { parameterMap: none.sqlite } }',
      '  - { name: toaster, driver: toaster }',
      // A device with a problem is not checked further: its files would only add noise.
      '  - { name: heat-pump-2, driver: itho-wpu, schedule: "@never", options: { parameterMap: none-2.sqlite } }',
      '',
    ].join('\n'),
    lines: [
      `devices[2] (toaster).driver: unknown driver "toaster" (known: dsmr-p1, hdhk, nut-ups, victron-vebus, itho-wpu, powerwalker-pdu, powerwalker-ats)`,
      'log.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got the text "loud"',
      "devices[0] (meter).schedule: invalid cron expression '61 * * * *': Invalid value for minute: 61",
      "devices[3] (heat-pump-2).schedule: invalid cron expression '@never': unknown nickname (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)",
      'outbox.path: /dev/null is not a regular file',
      "mqtt.tls.ca: cannot read certs/ca.pem: ENOENT: no such file or directory, open '<dir>/certs/ca.pem'",
      'devices[1] (heat-pump).options.parameterMap: <dir>/none.sqlite not found',
    ],
  },
];

for (const c of CASES) {
  test(`config check and run refuse ${c.what} with the same lines, exit 2, nothing written`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattline-check-'));
    try {
      const path = join(dir, 'wattline.yaml');
      writeFileSync(path, c.yaml.replaceAll('<dir>', dir));
      c.setup?.(dir);
      const before = readdirSync(dir, { recursive: true }).sort();
      const expected = c.lines.map((line) => `wattline: ${path}: ${line.replaceAll('<dir>', dir)}`).join('\n') + '\n';
      const env = { INFLUX_URL: '', INFLUX_DB: '', INFLUX_PASSWORD: '', P1_PORT: '', ...c.env };
      const check = await runCli(['--config', path, 'config', 'check'], { env, cwd: dir });
      assert.equal(check.stderr, expected);
      assert.equal(check.code, 2);
      assert.equal(check.stdout, '');
      const run = await runCli(['--config', path, 'run'], { env, cwd: dir, timeoutMs: 30_000 });
      assert.equal(run.stderr, expected, 'run says what config check says');
      assert.equal(run.code, 2);
      assert.deepEqual(readdirSync(dir, { recursive: true }).sort(), before, 'something was written');
      for (const secret of Object.values(c.env ?? {})) assert.ok(!(check.stderr + run.stderr).includes(secret), 'a secret in a message');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the YAML alias bomb: one line naming the file, exit 2 from config check and run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-check-'));
  try {
    const levels = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++)
      levels.push(
        `l${i}: &l${i} [${Array(9)
          .fill(`*l${i - 1}`)
          .join(',')}]`,
      );
    const path = join(dir, 'bomb.yaml');
    writeFileSync(path, levels.join('\n') + '\n');
    for (const verb of [['config', 'check'], ['run']]) {
      const r = await runCli(['--config', path, ...verb], { cwd: dir, timeoutMs: 30_000 });
      assert.equal(r.stderr, `wattline: ${path}: not valid YAML: Excessive alias count indicates a resource exhaustion attack (more than 100 alias expansions)\n`);
      assert.equal(r.code, 2);
    }
    assert.deepEqual(readdirSync(dir), ['bomb.yaml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a serial port that does not exist (yet) is a warning from config check, not a refusal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-check-'));
  try {
    const path = join(dir, 'wattline.yaml');
    writeFileSync(
      path,
      'outbox: { path: o.sqlite }\ndevices:\n  - { name: meter, driver: dsmr-p1, port: { path: /dev/ttyWATTLINE-unplugged } }\n  - { name: net, driver: dsmr-p1, port: { path: "tcp://127.0.0.1:9" } }\n',
    );
    const r = await runCli(['--config', path, 'config', 'check'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `wattline: warning: ${path}: devices[0] (meter).port.path: /dev/ttyWATTLINE-unplugged does not exist (yet): the worker starts without it and keeps trying to open it\n`);
    assert.match(r.stdout, /^device meter: dsmr-p1 on \/dev\/ttyWATTLINE-unplugged, /m);
    assert.deepEqual(readdirSync(dir), ['wattline.yaml']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
