/**
 * `wattline control` / `wattline vebus` as a user types them: through a running
 * `wattline run` (its control endpoint) and directly when none runs, on the simulated
 * Multiplus (no MK3 here; the simulator plays it on a sim link).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';

let dir = '';
let config = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wl-control-cli-'));
  config = join(dir, 'wattline.yaml');
  writeFileSync(
    config,
    `outbox:
  path: outbox.sqlite
echo: true
devices:
  - driver: victron-vebus
    name: mp2
    simulate: true
    schedule: "* * * * * *"
    options:
      control:
        essPower: { min: -1000, max: 1000 }
  - driver: powerwalker-pdu
    name: pdu
    simulate: true
    schedule: "* * * * * *"
    options:
      control: { allow: [on, off], outlets: [2] }
`,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function waitFor(what: () => boolean, ms: number): Promise<void> {
  for (let waited = 0; !what() && waited < ms; waited += 100) await new Promise((r) => setTimeout(r, 100));
}

describe('wattline control verbs (simulated Multiplus and PDU: no MK3 or PDU on this machine)', () => {
  it('go through the running worker, which then reads the new set-point back', async () => {
    const worker = startCli(['--config', config, 'run', '--log-level', 'warn']);
    try {
      await waitFor(() => worker.output().stdout.includes('vebus,') && existsSync(join(dir, 'outbox.sqlite.sock')), 20_000);
      assert.match(worker.output().stdout, /ess_setpoint_w=0\b/);
      const r = await runCli(['--config', config, 'vebus', 'mp2', 'ess-power', '700', '--format', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.via, 'worker');
      assert.equal(out.data.watts, 700);
      const mark = worker.output().stdout.length;
      await waitFor(() => /ess_setpoint_w=700\b/.test(worker.output().stdout.slice(mark)), 5000);
      assert.match(worker.output().stdout.slice(mark), /ess_setpoint_w=700\b/);

      const refused = await runCli(['--config', config, 'control', 'mp2', 'ess-power', '1500']);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /outside the allowed range -1000…1000 W/);
      const notAllowed = await runCli(['--config', config, 'vebus', 'mp2', 'sleep']);
      assert.equal(notAllowed.code, 2);
      assert.match(notAllowed.stderr, /sleep/);

      // The PDU (simulated, no PDU here): outlet 2 off through the worker, seen by its next polls.
      const off = await runCli(['--config', config, 'pdu', 'pdu', 'off', '2', '--format', 'json']);
      assert.equal(off.code, 0, off.stderr);
      assert.equal(JSON.parse(off.stdout).via, 'worker');
      const mark2 = worker.output().stdout.length;
      // status 3 (shutdown imminent) for the PDU's warning seconds, then 0 (off).
      await waitFor(() => /pdu_outlet,device=pdu,outlet=2 [^\n]*status=[03]i/.test(worker.output().stdout.slice(mark2)), 5000);
      assert.match(worker.output().stdout.slice(mark2), /pdu_outlet,device=pdu,outlet=2 [^\n]*status=[03]i/);
      const refusedOutlet = await runCli(['--config', config, 'pdu', 'pdu', 'off', '3']);
      assert.equal(refusedOutlet.code, 2);
      assert.match(refusedOutlet.stderr, /outlet 3/);
      const wrongDriver = await runCli(['--config', config, 'pdu', 'mp2', 'off', '2']);
      assert.equal(wrongDriver.code, 2);
      assert.match(wrongDriver.stderr, /mp2 is a victron-vebus device, not powerwalker-pdu/);
    } finally {
      worker.child.kill('SIGTERM');
      await Promise.race([worker.exited, new Promise((r) => setTimeout(r, 10_000))]);
      worker.child.kill('SIGKILL');
    }
    // The worker removed its endpoint on the way out.
    assert.equal(existsSync(join(dir, 'outbox.sqlite.token')), false);
  });

  it('open the port themselves when no worker runs', async () => {
    const r = await runCli(['--config', config, 'vebus', 'mp2', 'ess-power', '-300', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).via, 'direct');
    assert.equal(JSON.parse(r.stdout).data.watts, -300);
  });

  it('name the device, the verb and the alternatives when they are wrong', async () => {
    const unknownDevice = await runCli(['--config', config, 'control', 'nope', 'ess-power', '1']);
    assert.equal(unknownDevice.code, 2);
    assert.match(unknownDevice.stderr, /no device named "nope" \(configured: mp2, pdu\)/);
    const unknownVerb = await runCli(['--config', config, 'control', 'mp2', 'explode']);
    assert.equal(unknownVerb.code, 2);
    assert.match(unknownVerb.stderr, /unknown verb "explode".*ess-power, sleep, wakeup/);
  });
});
