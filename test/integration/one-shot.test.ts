/**
 * One-shot commands speak one-shot: `once`, `test` and `drain` never promise a retry that no
 * process will make ("will retry", "reopening by itself", "retrying"), print each failure
 * once, and `once` exits 1 when InfluxDB refused lines into the dead letters. Real influxd
 * 1.6.7 (a field type conflict makes it refuse the P1 meter's lines), a simulated P1 meter,
 * and a serial port that does not exist.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { createDatabase, startInfluxd, type Influxd } from '../helpers/influxd.js';
import { freePort } from '../helpers/ports.js';

const RETRY_TALK = /will retry|reopening|retrying/i;
let influxd: Influxd;
let dir: string;

before(async () => {
  influxd = await startInfluxd();
  await createDatabase(influxd.url, 'oneshot');
  // current_l1_a as a string first, in this week's shard: every float the meter sends is then a type conflict (400).
  const res = await fetch(`${influxd.url}/write?db=oneshot&precision=ms`, { method: 'POST', body: `p1,device=meter current_l1_a="text" ${Date.now()}` });
  assert.equal(res.status, 204);
  dir = mkdtempSync(join(tmpdir(), 'wattline-oneshot-'));
});
after(async () => {
  await influxd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function config(name: string, url: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      'log: { format: json }',
      `outbox: { path: ${name}.sqlite }`,
      `influx: { version: 1, url: "${url}", database: oneshot, precision: ms, minRetryDelayMs: 50 }`,
      'devices:',
      '  - { name: meter, driver: dsmr-p1, simulate: true }',
      `  - { name: absent, driver: dsmr-p1, port: { path: ${JSON.stringify(join(dir, 'ttyNONE'))} } }`,
      '',
    ].join('\n'),
  );
  return path;
}

const mentions = (text: string, word: string) => text.split('\n').filter((l) => l.includes(word)).length;

test('once: each failure once, no retry talk, exit 1 for dead letters', async () => {
  const path = config('once.yaml', influxd.url);
  const r = await runCli(['--config', path, 'once']);
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, RETRY_TALK);
  assert.equal(mentions(r.stderr, '"device":"absent"'), 1, r.stderr);
  assert.match(r.stderr, /ttyNONE: no such serial port/);
  assert.match(r.stderr, /"msg":"InfluxDB refused lines: moved to the dead letters \(wattline buffer dead-letters\)"/);
  const listed = await runCli(['--config', path, 'buffer', 'dead-letters']);
  assert.match(listed.stdout, /^#\d+ .* HTTP 400: .*field type conflict/m);
  // The id the log line gave is the one buffer retry takes (the outbox row id it had is another number).
  const refused = r.stderr
    .split('\n')
    .filter((l) => l.includes('moved to dead letters'))
    .map((l) => JSON.parse(l) as { id: number });
  assert.ok(refused.length > 0, r.stderr);
  const listedIds = [...listed.stdout.matchAll(/^#(\d+) /gm)].map((m) => Number(m[1]));
  assert.deepEqual(
    refused.map((l) => l.id).sort((a, b) => a - b),
    listedIds,
  );
  const retried = await runCli(['--config', path, 'buffer', 'retry', String(refused[0]!.id)]);
  assert.equal(retried.stdout, 'requeued 1 dead letters\n');
});

test('test: each failure once on stderr, no retry talk', async () => {
  const r = await runCli(['--config', config('test.yaml', influxd.url), 'test']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^p1,device=meter /m);
  assert.doesNotMatch(r.stderr, RETRY_TALK);
  assert.equal(mentions(r.stderr, 'absent'), 1, r.stderr);
});

test('drain against a server that is not there: why it stopped, once, no retry talk', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const path = config('drain.yaml', closed);
  // Something to drain: once collects into the outbox and cannot send it.
  const once = await runCli(['--config', path, 'once', 'meter']);
  assert.equal(once.code, 1);
  assert.doesNotMatch(once.stderr, RETRY_TALK);
  assert.equal(mentions(once.stderr, 'not everything reached InfluxDB'), 1, once.stderr);
  const r = await runCli(['--config', path, 'drain', '--no-progress']);
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stderr, RETRY_TALK);
  assert.equal(mentions(r.stderr, 'drain stopped'), 1, r.stderr);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 2, r.stderr);
});
