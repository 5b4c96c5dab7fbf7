/**
 * What a reload changes besides devices, on a running in-process worker (simulated PDU: none
 * on this machine): outbox limits and the log level apply; changes only a restart can apply
 * are refused whole, leaving everything as it was.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { validate, type LoadedConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { drivers } from '../../src/devices/index.js';
import { startWorker } from '../helpers/worker-run.js';
import { until } from '../helpers/until.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-reload-worker-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const raw = (outbox: Record<string, unknown> = {}) => ({
  outbox: { path: 'w.sqlite', synchronous: 'normal', ...outbox },
  devices: [{ name: 'pdu', driver: 'powerwalker-pdu', simulate: true, schedule: '* * * * * *' }],
});
const loaded = (outbox?: Record<string, unknown>): LoadedConfig => ({ config: validate(raw(outbox), drivers, 'test config'), path: null, dir, demo: false });

test('reload: new outbox limits drop the oldest beyond them; the log level follows; a restart-only change is refused whole', async () => {
  const run = await startWorker(raw(), drivers, dir);
  const { worker } = run;
  try {
    await until('a backlog', () => worker.outbox!.stats().rows > 20, 15_000);
    assert.equal(worker.outbox!.stats().dropped, 0);

    await worker.reload(loaded({ maxRows: 5 }), 'debug');
    const mark = run.reports.length;
    await until('the next collection', () => run.reports.length > mark, 5000);
    const stats = worker.outbox!.stats();
    assert.equal(stats.rows, 5);
    assert.ok(stats.dropped > 15, `dropped ${stats.dropped}`);
    // 'collected' is a debug line: it appears only at the new level.
    await until('a debug line', () => run.logged(/^collected$/).length > 0, 5000);

    const session = worker.devices.get('pdu')!.session;
    await assert.rejects(
      async () => worker.reload(loaded({ maxRows: 1000, path: 'elsewhere.sqlite' }), 'info'),
      (e: unknown) => e instanceof ConfigError && /^outbox\.path: changed, which needs a restart/.test(e.message),
    );
    assert.equal(worker.devices.get('pdu')!.session, session);
    const mark2 = run.reports.length;
    await until('a collection after the refusal', () => run.reports.length > mark2, 5000);
    assert.equal(worker.outbox!.stats().rows, 5, 'the limits of the refused config did not apply');
  } finally {
    await run.stop();
  }
});
