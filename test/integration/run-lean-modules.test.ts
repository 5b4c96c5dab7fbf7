/**
 * What a `wattline run` worker loads (issue 24: an every-device worker within 80 MB RSS): with
 * every simulated device and no InfluxDB, no TLS and no MQTT in its config, node:http,
 * node:https, node:tls and node:zlib (~2 MB resident together) are never loaded, and no
 * Intl.DateTimeFormat is made (the first maps ~6.4 MB of ICU data; the P1 meter's times come
 * from the system's tz database; with `timezone:` set the fixed-period schedules and the
 * self-metrics tick without croner's Intl, and the zone is checked against the tz database), and nothing collates (localeCompare, Intl.Collator: ~2 MB of
 * ICU collation data; HDHK's phase sums sorted with it). The real CLI in a child process, with every simulated
 * device (the project's own simulators); a preloaded module records what was loaded at exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { startCli } from '../helpers/cli.js';

const PROBE = `
import { writeFileSync } from 'node:fs';
const Original = Intl.DateTimeFormat;
let made = 0;
Intl.DateTimeFormat = new Proxy(Original, { construct(target, args) { made++; return new target(...args); } });
const compare = String.prototype.localeCompare;
let collations = 0;
String.prototype.localeCompare = function (...args) { collations++; return compare.apply(this, args); };
Intl.Collator = new Proxy(Intl.Collator, { construct(target, args) { collations++; return new target(...args); } });
process.on('exit', () => writeFileSync(process.env.LOADED_OUT, JSON.stringify({ builtins: process.moduleLoadList, dateTimeFormats: made, collations })));
`;

function committedPoints(outbox: string): number {
  if (!existsSync(outbox)) return 0;
  const db = new Database(outbox, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  } catch {
    return 0; // not created yet
  } finally {
    db.close();
  }
}

test('run, every simulated device, timezone set, no influx/TLS/MQTT: node:http, https, tls, zlib never load, no Intl.DateTimeFormat, no collation', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-lean-'));
  const probe = join(dir, 'probe.mjs');
  const out = join(dir, 'loaded.json');
  writeFileSync(probe, PROBE);
  const path = join(dir, 'wattline.yaml');
  // A zone for the schedules (fixed periods, as users write them; self-metrics on their default):
  // the scheduler and the self-metrics need no Intl for them either.
  writeFileSync(path, stringify({ timezone: 'Europe/Amsterdam', outbox: { path: 'outbox.sqlite' }, devices: simulatedDeviceEntries('sim', { schedule: '* * * * * *' }) }));
  const { child, output, exited } = startCli(['--config', path, '--log-level', 'warn', 'run'], {
    cwd: dir,
    env: { NODE_OPTIONS: `--import=${pathToFileURL(probe).href}`, LOADED_OUT: out },
  });
  try {
    // Until every device has committed a collection or two: the P1 meter's timestamps decoded.
    const deadline = Date.now() + 45_000;
    while (committedPoints(join(dir, 'outbox.sqlite')) < 100) {
      assert.ok(Date.now() < deadline, `no points committed in 45 s\n${output().stderr}`);
      assert.equal(child.exitCode, null, `the worker exited early\n${output().stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output().stderr);
    const loaded = JSON.parse(readFileSync(out, 'utf8')) as { builtins: string[]; dateTimeFormats: number; collations: number };
    assert.equal(loaded.collations, 0, 'localeCompare / Intl.Collator calls');
    const builtins = new Set(loaded.builtins.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)));
    assert.ok(builtins.has('net') && builtins.has('fs'), 'the list is the real one');
    assert.deepEqual(
      ['http', 'https', 'tls', '_tls_wrap', 'zlib'].filter((m) => builtins.has(m)),
      [],
    );
    // Without the system's tz database (no tzdata installed) the zones come from Intl after all.
    if (existsSync('/usr/share/zoneinfo/Europe/Amsterdam')) assert.equal(loaded.dateTimeFormats, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
