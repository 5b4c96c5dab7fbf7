/**
 * Control through the worker (Worker.control: prepare, then the session under the port lock)
 * on a simulated Multiplus (`simulate: true`: the project's simulator on a sim link; no
 * Multiplus can run here): the set-point written is the one the next poll reads back, and
 * refusals never reach the device.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ConfigError, InputError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { loadConfig } from '../../src/config/load.js';
import { drivers } from '../../src/devices/index.js';
import { Worker } from '../../src/runtime/worker.js';

let dir: string;
let worker: Worker;
const signal = () => new AbortController().signal;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-vebus-worker-'));
  const path = join(dir, 'wattline.yaml');
  writeFileSync(
    path,
    stringify({
      outbox: { path: 'outbox.sqlite' },
      devices: [
        { name: 'mp2', driver: 'victron-vebus', simulate: true, options: { control: { essPower: { min: -1000, max: 1000 } } } },
        { name: 'mp2-readonly', driver: 'victron-vebus', simulate: true },
      ],
    }),
  );
  worker = new Worker({ loaded: loadConfig({ drivers, path, env: {} }), drivers, log: silentLogger(), dryRun: true });
});

after(async () => {
  await worker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const setpoint = (points: { tags: Record<string, string>; fields: Record<string, unknown> }[]) => points.find((p) => !p.tags.phase)?.fields.ess_setpoint_w;

test('Worker.control on the simulated Multiplus: ess-power is written and read back by the next poll', async () => {
  const [first] = await worker.runOnce(['mp2']);
  assert.ok(first?.ok, first?.error);
  assert.equal(setpoint(first.points), 0);
  const { request, result } = await worker.control('mp2', 'ess-power', ['-400'], signal());
  assert.equal(request.summary, 'ESS set-point -400 W (feed), RAM only');
  assert.match(result.message, /-400 W written to RAM id 131/);
  const [next] = await worker.runOnce(['mp2']);
  assert.equal(setpoint(next!.points), -400);
});

test('Worker.control refuses outside the limits, and on a device without control config', async () => {
  await assert.rejects(worker.control('mp2', 'ess-power', ['1001'], signal()), (e: unknown) => e instanceof InputError && /-1000…1000 W/.test(e.message));
  await assert.rejects(worker.control('mp2-readonly', 'ess-power', ['10'], signal()), ConfigError);
  await assert.rejects(worker.control('mp2', 'reboot', [], signal()), /unknown verb "reboot" for driver victron-vebus \(verbs: ess-power, sleep, wakeup\)/);
  const [next] = await worker.runOnce(['mp2']);
  assert.equal(setpoint(next!.points), -400, 'unchanged by the refusals');
});
