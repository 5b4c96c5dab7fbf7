/**
 * Issue 23 items 4 and 7, through the real `wattline` command: an outbox path that is a
 * folder or /dev/null, a garbage or damaged outbox file: one line naming the file, exit 2,
 * the file untouched; `buffer recover` puts a fresh outbox with every readable row in its
 * place, after which the verbs work again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteOutbox } from '../../src/outbox/sqlite-outbox.js';
import { runCli, startCli } from '../helpers/cli.js';
import { until } from '../helpers/until.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-integrity-cli-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function config(name: string, outboxPath: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `outbox: { path: ${JSON.stringify(outboxPath)} }\ndevices:\n  - { name: m, driver: dsmr-p1, simulate: true }\n`);
  return path;
}

const hash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function refusedBy(verb: string[], cfg: string, outbox: string, pattern: RegExp): Promise<void> {
  const r = await runCli(['--config', cfg, ...verb]);
  assert.equal(r.code, 2, `${verb.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  // Named as the outbox (`wattline: <outbox>: …`) or, where config check finds it first, as the
  // config's outbox.path (`wattline: <config>: outbox.path: <outbox> …`).
  assert.ok(lines[0]!.startsWith(`wattline: ${outbox}: `) || lines[0]!.includes(`outbox.path: ${outbox} `), lines[0]);
  assert.match(lines[0]!, pattern);
}

describe('an outbox path that is no outbox file', () => {
  test('/dev/null and a folder: one line with the path, exit 2', async () => {
    await refusedBy(['once'], config('devnull', '/dev/null'), '/dev/null', /not a regular file/);
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    await refusedBy(['buffer'], config('folder', folder), folder, /is a folder/);
  });

  test('garbage: refused by run and buffer before anything is written; recover makes a fresh outbox', async () => {
    const outbox = join(dir, 'garbage.sqlite');
    writeFileSync(outbox, Buffer.alloc(40_000, 0x61));
    const cfg = config('garbage', outbox);
    const before = hash(outbox);
    await refusedBy(['once'], cfg, outbox, /not an SQLite file/);
    await refusedBy(['buffer'], cfg, outbox, /buffer recover/);
    await refusedBy(['devices'], cfg, outbox, /not an SQLite file/);
    assert.equal(hash(outbox), before);
    assert.equal(existsSync(`${outbox}-wal`), false);

    const r = await runCli(['--config', cfg, 'buffer', 'recover']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /recovered 0 pending points and 0 dead letters/);
    const kept = /kept as (\S+)/.exec(r.stdout)![1]!;
    assert.equal(hash(kept), before);
    const b = await runCli(['--config', cfg, 'buffer', '--json']);
    assert.equal(b.code, 0, b.stderr);
    const stats = JSON.parse(b.stdout);
    assert.equal(stats.rows, 0);
    // The disk as the outbox sees it: the default margin is 5% of the filesystem, at most 1 GiB.
    const fs = statfsSync(dir);
    assert.equal(stats.refused, 0);
    assert.equal(stats.space.minFreeBytes, Math.min(1024 ** 3, Math.floor(fs.blocks * fs.bsize * 0.05)));
    assert.equal(stats.space.refusing, false);
    const text = await runCli(['--config', cfg, 'buffer']);
    assert.match(text.stdout, /^refused: {6}0 /m);
    assert.match(text.stdout, /^disk: {9}[\d.]+ MiB free, minFreeBytes [\d.]+ MiB: accepting points/m);
  });

  test('one damaged page: refused; recover saves the other rows and says how many', async () => {
    const outbox = join(dir, 'damaged.sqlite');
    const o = new SqliteOutbox(outbox, { maxRows: 1e7, maxBytes: 1e12 }, { reserveBytes: 0 });
    for (let i = 0; i < 10_000; i += 1000)
      o.append(
        Array.from({ length: 1000 }, (_, k) => `m value=${i + k} ${1_700_000_000 + i + k}`),
        's',
      );
    o.close();
    const fd = openSync(outbox, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(statSync(outbox).size / 4096 / 2) * 4096);
    closeSync(fd);
    const cfg = config('damaged', outbox);
    await refusedBy(['buffer'], cfg, outbox, /is damaged/);

    const r = await runCli(['--config', cfg, 'buffer', 'recover']);
    assert.equal(r.code, 0, r.stderr);
    const recovered = Number(/recovered (\d+) pending points/.exec(r.stdout)![1]);
    assert.ok(recovered > 9_500 && recovered < 10_000, r.stdout);
    const b = await runCli(['--config', cfg, 'buffer', '--json']);
    assert.equal(JSON.parse(b.stdout).rows, recovered);
    const again = await runCli(['--config', cfg, 'buffer', 'recover']);
    assert.match(again.stdout, /passes its integrity check; nothing to recover/);
  });

  test('buffer recover while a worker runs on the outbox: one line naming its PID, exit 2, nothing moved aside; once it stopped, recover runs', async () => {
    const outbox = join(dir, 'held', 'outbox.sqlite');
    const cfg = join(dir, 'held.yaml');
    writeFileSync(cfg, `log: { level: info, format: json }\noutbox: { path: ${JSON.stringify(outbox)} }\ndevices:\n  - { name: m, driver: dsmr-p1, simulate: true, schedule: "* * * * * *" }\n`);
    const worker = startCli(['--config', cfg, 'run']);
    try {
      await until('the worker runs', () => worker.output().stderr.includes('"worker started"') || worker.child.exitCode !== null);
      assert.equal(worker.child.exitCode, null, worker.output().stderr);
      const r = await runCli(['--config', cfg, 'buffer', 'recover']);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `wattline: ${outbox}: a wattline worker (PID ${worker.child.pid}) is running on this outbox; stop it before 'buffer recover' (it would go on writing the file being replaced)\n`);
      assert.deepEqual(
        readdirSync(join(dir, 'held')).filter((f) => f.includes('damaged')),
        [],
      );
    } finally {
      worker.child.kill('SIGTERM');
    }
    assert.equal(await worker.exited, 0, worker.output().stderr);
    const after = await runCli(['--config', cfg, 'buffer', 'recover']);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /passes its integrity check; nothing to recover/);
  });
});
