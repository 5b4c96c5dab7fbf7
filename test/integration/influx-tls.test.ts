/**
 * influx.tls ({ ca, rejectUnauthorized }) against real servers serving HTTPS with a certificate
 * from a throwaway CA (test/helpers/tls-certs.ts): influxd 1.6.7 (`https-enabled`) through
 * `wattline config check / once / drain`, and VictoriaMetrics 1.79 (`-tls`) through the v2
 * writer. With the CA the points arrive; without it (or with the wrong one) one line names
 * influx.tls.ca and every point stays in the outbox; rejectUnauthorized false delivers. The
 * CA path is relative to the config file. Read-back goes through undici's own fetch trusting
 * the test CA (not through the code under test).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { InfluxV2Writer } from '../../src/influx/v2-writer.js';
import { runCli } from '../helpers/cli.js';
import { query, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { exportSeries, startVictoria, type Victoria } from '../helpers/victoria.js';

let dir: string;
let pki: TestPki;
let trusting: typeof fetch;
let agent: Agent;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-influx-tls-'));
  pki = makeTestPki(join(dir, 'pki'));
  agent = new Agent({ connect: { ca: readFileSync(pki.ca) } });
  trusting = ((input: string, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher: agent } as never)) as unknown as typeof fetch;
});
after(async () => {
  await agent?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const lines = (text: string, pattern: RegExp) => text.split('\n').filter((l) => pattern.test(l));
const collected = (stderr: string) => lines(stderr, /"msg":"collected"/).reduce((n, l) => n + (JSON.parse(l) as { points: number }).points, 0);

describe('influxd 1.6.7 serving HTTPS', () => {
  let influxd: Influxd;
  before(async () => {
    influxd = await startInfluxd({ https: { cert: pki.serverCert, key: pki.serverKey } });
  });
  after(async () => {
    await influxd?.stop();
  });

  /** A config beside the pki folder: `tls` as YAML flow text, or none. The outbox is named by `outbox`. */
  function config(name: string, db: string, tls: string | null, outbox = name): string {
    const path = join(dir, `${name}.yaml`);
    const influx = `version: 1, url: "${influxd.url}", database: ${db}, precision: ms${tls ? `, tls: ${tls}` : ''}`;
    writeFileSync(path, ['log: { format: json }', `outbox: { path: ${outbox}.sqlite }`, `influx: { ${influx} }`, 'devices:', '  - { name: meter, driver: dsmr-p1, simulate: true }', ''].join('\n'));
    return path;
  }
  const pointsIn = async (db: string) => (await query(influxd.url, db, 'SELECT * FROM /.*/', undefined, trusting)).reduce((n, s) => n + (s.values ?? []).length, 0);
  const pending = async (path: string) => (JSON.parse((await runCli(['--config', path, 'buffer', '--json'])).stdout) as { rows: number }).rows;

  test('config check: the CA relative to the config file, TLS on in the summary', async () => {
    const r = await runCli(['--config', config('check', 'x', '{ ca: pki/ca.pem }'), 'config', 'check']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^influx: v1 https://127\\.0\\.0\\.1:${influxd.port} database x \\(created if missing\\), precision ms, batches of 5000, TLS on \\(ca ${join(dir, 'pki', 'ca.pem').replace(/[.]/g, '\\.')}\\)$`, 'm'),
    );
    const off = await runCli(['--config', config('check-off', 'x', '{ rejectUnauthorized: false }'), 'config', 'check']);
    assert.match(off.stdout, /, TLS on \(server certificate NOT verified: rejectUnauthorized false\)$/m);
  });

  test('config check and once refuse a CA file that cannot be read or is no certificate: one line, exit 2, nothing written', async () => {
    const cases: [string, RegExp][] = [
      ['{ ca: pki/missing.pem }', /: influx\.tls\.ca: \S+\/pki\/missing\.pem not found$/],
      ['{ ca: pki/server.key }', /: influx\.tls\.ca: \S+\/pki\/server\.key is not a PEM certificate \(/],
      ['{ ca: pki }', /: influx\.tls\.ca: \S+\/pki is a folder$/],
    ];
    for (const [i, [tls, message]] of cases.entries()) {
      const path = config(`bad-ca-${i}`, 'x', tls);
      for (const verb of [['config', 'check'], ['once']]) {
        const r = await runCli(['--config', path, ...verb]);
        assert.equal(r.code, 2, `${tls} ${verb.join(' ')}: ${r.stderr}`);
        const said = r.stderr.trim().split('\n');
        assert.equal(said.length, 1, r.stderr);
        assert.match(said[0]!, message);
      }
      assert.equal(existsSync(join(dir, `bad-ca-${i}.sqlite`)), false);
    }
    const http = join(dir, 'http.yaml');
    writeFileSync(http, `influx: { version: 1, url: "http://127.0.0.1:1", database: x, tls: { ca: pki/ca.pem } }\ndevices: []\n`);
    const r = await runCli(['--config', http, 'config', 'check']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /influx\.tls: tls settings need an https:\/\/ url/);
  });

  test('without the CA: one line naming influx.tls.ca, exit 1, the points stay; with it, drain delivers them', async () => {
    const path = config('untrusted', 'kept', null, 'kept');
    const r = await runCli(['--config', path, 'once']);
    assert.equal(r.code, 1, r.stderr);
    const said = lines(r.stderr, /certificate/);
    assert.equal(said.length, 1, r.stderr);
    assert.match(said[0]!, /TLS: the InfluxDB server's certificate is not trusted: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); set influx\.tls\.ca to the CA that signed it/);
    const kept = collected(r.stderr);
    assert.ok(kept > 0);
    assert.equal(await pending(path), kept);

    const wrong = await runCli(['--config', config('wrong-ca', 'kept', '{ ca: pki/other-ca.pem }', 'kept'), 'once']);
    assert.equal(wrong.code, 1, wrong.stderr);
    assert.match(wrong.stderr, /certificate is not trusted: .*; check influx\.tls\.ca \(\S+\/pki\/other-ca\.pem\) is the CA that signed it/);

    const fixed = config('fixed', 'kept', '{ ca: pki/ca.pem }', 'kept');
    const d = await runCli(['--config', fixed, 'drain', '--no-progress']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(await pending(fixed), 0);
    // The database was created over TLS too (createDatabase), and holds both runs' points.
    assert.equal(await pointsIn('kept'), kept + collected(wrong.stderr));
  });

  test('with the CA: once delivers; rejectUnauthorized false delivers too', async () => {
    for (const [name, tls] of [
      ['trusted', '{ ca: pki/ca.pem }'],
      ['unverified', '{ rejectUnauthorized: false }'],
    ] as const) {
      const path = config(name, name, tls);
      const r = await runCli(['--config', path, 'once']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /certificate/);
      assert.equal(await pointsIn(name), collected(r.stderr));
      assert.equal(await pending(path), 0);
    }
  });
});

describe('VictoriaMetrics 1.79 serving HTTPS: the v2 writer', () => {
  let vm: Victoria;
  before(async () => {
    vm = await startVictoria({ tls: { cert: pki.serverCert, key: pki.serverKey, via: trusting } });
  });
  after(async () => {
    await vm?.stop();
  });

  test('no CA: fatal, one line naming influx.tls.ca; the CA or rejectUnauthorized false: written and read back', async () => {
    const base = { url: vm.url, org: '', bucket: 'energy', token: '', timeoutMs: 10_000, gzip: true };
    const cases = [
      ['none', undefined],
      ['wrong CA', { ca: pki.otherCa, rejectUnauthorized: true }],
      ['CA', { ca: pki.ca, rejectUnauthorized: true }],
      ['unverified', { rejectUnauthorized: false }],
    ] as const;
    const outcomes: Record<string, unknown> = {};
    for (const [i, [what, tls]] of cases.entries()) {
      const w = new InfluxV2Writer({ ...base, ...(tls ? { tls } : {}) });
      try {
        outcomes[what] = await w.write([`tls,case=c${i} v=${i + 1} ${1_700_000_000_000 + i}`], 'ms');
      } finally {
        await w.close();
      }
    }
    assert.deepEqual(outcomes['none'], {
      kind: 'fatal',
      status: null,
      message: "TLS: the InfluxDB server's certificate is not trusted: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE); set influx.tls.ca to the CA that signed it",
    });
    assert.match((outcomes['wrong CA'] as { message: string }).message, /^TLS: .*check influx\.tls\.ca \(\S+other-ca\.pem\) is the CA that signed it$/);
    assert.deepEqual(outcomes['CA'], { kind: 'ok', status: 204 });
    assert.deepEqual(outcomes['unverified'], { kind: 'ok', status: 204 });
    const series = await exportSeries(vm, '{__name__="tls_v"}');
    assert.deepEqual(series.map((s) => [s.metric.case, s.values]).sort(), [
      ['c2', [3]],
      ['c3', [4]],
    ]);
  });
});
