/**
 * `wattline run` as a service manager drives it: SIGHUP and `wattline reload` apply an edited
 * config without a restart, refuse a broken one in the words `config check` uses; `test` and
 * `once` beside the running worker go through it. Simulated PDU and ATS (none on this
 * machine); the port-holder message uses a real socat PTY held by flock(1).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';
import { startPtyPair } from '../helpers/pty.js';
import { sleep, until } from '../helpers/until.js';

let dir = '';
let config = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wl-reload-cli-'));
  config = join(dir, 'wattline.yaml');
});
after(() => rmSync(dir, { recursive: true, force: true }));

// The PDU's schedule never fires during the test: whatever reaches the outbox came from `once`.
const PDU = `  - driver: powerwalker-pdu
    name: pdu
    simulate: true
    schedule: "0 0 0 1 1 *"
`;
const ATS = `  - driver: powerwalker-ats
    name: ats
    simulate: true
    schedule: "* * * * * *"
`;
const write = (devices: string, extra = '') => writeFileSync(config, `outbox:\n  path: outbox.sqlite\n${extra}devices:\n${devices}`);

async function pending(): Promise<number> {
  const r = await runCli(['--config', config, 'buffer', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { rows: number }).rows;
}

describe('reload, and test/once beside a running worker (simulated PDU and ATS)', () => {
  it('SIGHUP and wattline reload apply an edited config; a broken one is refused with the config check message and the worker goes on', async () => {
    write(PDU);
    const worker = startCli(['--config', config, 'run', '--log-format', 'json']);
    const logs = () =>
      worker
        .output()
        .stderr.split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    try {
      await until('the worker', () => existsSync(join(dir, 'outbox.sqlite.sock')) && logs().some((l) => l.msg === 'worker started'), 20_000);

      // test: through the worker, lines printed, nothing committed.
      const t = await runCli(['--config', config, 'test', 'pdu']);
      assert.equal(t.code, 0, t.stderr);
      const lines = t.stdout.trim().split('\n');
      assert.match(lines[0]!, /^pdu(_outlet)?,device=pdu/);
      assert.equal(await pending(), 0);

      // once: through the worker, committed into its outbox.
      const o = await runCli(['--config', config, '--log-format', 'json', 'once', 'pdu']);
      assert.equal(o.code, 0, o.stderr);
      const collected = JSON.parse(o.stderr.split('\n').find((l) => l.includes('"collected"'))!) as { points: number };
      assert.ok(collected.points > 0);
      assert.equal(await pending(), collected.points);

      // SIGHUP after adding a device: it collects; the worker lives on.
      write(PDU + ATS);
      worker.child.kill('SIGHUP');
      await until('the reload', () => logs().some((l) => l.msg === 'config reloaded'), 10_000);
      assert.deepEqual(logs().find((l) => l.msg === 'config reloaded')!.added, ['ats']);
      const viaWorker = await runCli(['--config', config, 'test', 'ats']);
      assert.equal(viaWorker.code, 0, viaWorker.stderr);
      assert.match(viaWorker.stdout, /^ats,device=ats /m);
      const json = await runCli(['--config', config, 'test', 'ats', '--format', 'json']);
      assert.equal(json.code, 0, json.stderr);
      const device = (JSON.parse(json.stdout) as { devices: { device: string; ok: boolean; points: { measurement: string; tags: Record<string, string> }[] }[] }).devices[0]!;
      assert.deepEqual([device.device, device.ok, Object.keys(device).sort()], ['ats', true, ['device', 'ok', 'points']]);
      assert.ok(device.points.some((p) => p.measurement === 'ats' && p.tags.device === 'ats'));

      // A broken edit: `wattline reload` exits 2 with the message `config check` gives, the worker logs it once.
      write(PDU.replace('simulate: true', 'simulate: true\n    bogus: 1') + ATS);
      const check = await runCli(['--config', config, 'config', 'check']);
      assert.equal(check.code, 2);
      const message = check.stderr.trim().replace(/^wattline: /, '');
      const refused = await runCli(['--config', config, 'reload']);
      assert.equal(refused.code, 2);
      assert.equal(refused.stderr.trim(), check.stderr.trim());
      // The CLI itself could not load the file: that refusal never reached the worker. SIGHUP does.
      worker.child.kill('SIGHUP');
      await until('the refusal', () => logs().some((l) => /reload refused/.test(String(l.msg))), 10_000);
      const refusals = logs().filter((l) => /reload refused/.test(String(l.msg)));
      assert.equal(refusals.length, 1);
      assert.equal(refusals[0]!.msg, `config reload refused, the previous config keeps running: ${message}`);
      assert.equal(worker.child.exitCode, null, 'still running');

      // An edit the worker alone refuses (config check cannot know what runs: a setting only a
      // restart applies): `wattline reload` gets the worker's refusal.
      write(PDU + ATS, 'log:\n  format: json\n');
      const restart = await runCli(['--config', config, 'reload']);
      assert.equal(restart.code, 2, restart.stderr);
      assert.match(restart.stderr, /log\.format: changed, which needs a restart/);
      assert.equal(logs().filter((l) => /reload refused/.test(String(l.msg))).length, 2);

      // Fixed again: reload by command; the removed device stops.
      write(PDU);
      const ok = await runCli(['--config', config, 'reload']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /config reloaded: removed ats/);
    } finally {
      worker.child.kill('SIGTERM');
      await Promise.race([worker.exited, sleep(10_000)]);
      worker.child.kill('SIGKILL');
    }
    assert.equal(await worker.exited, 0);
  });

  it('wattline reload without a running worker says so (exit 1)', async () => {
    write(PDU);
    const r = await runCli(['--config', config, 'reload']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no running worker for the outbox .*outbox\.sqlite: nothing to reload/);
  });

  it('test names the process that holds a serial port (a socat PTY locked by flock)', async () => {
    const pty = await startPtyPair(dir);
    const holder = spawn('flock', [pty.b, 'sleep', '60'], { stdio: 'ignore' });
    try {
      await until('flock to take the lock', () => new RegExp(`FLOCK\\s+ADVISORY\\s+WRITE\\s+${holder.pid}\\s`).test(readFileSync('/proc/locks', 'utf8')), 5000);
      write(`  - driver: powerwalker-pdu\n    name: pdu\n    schedule: "* * * * *"\n    timeoutMs: 2000\n    port: { path: ${pty.b} }\n    options:\n      control: { allow: [on, off], outlets: [2] }\n`);
      const held = new RegExp(`wattline: pdu: ${pty.b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is held by process ${holder.pid} \\(flock `);
      const r = await runCli(['--config', config, 'test', 'pdu']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, held);
      const control = await runCli(['--config', config, 'pdu', 'pdu', 'off', '2']);
      assert.equal(control.code, 1);
      assert.match(control.stderr, held);
    } finally {
      holder.kill('SIGKILL');
      await pty.stop();
    }
  });
});
