/**
 * What a reload changes besides devices, on a running in-process worker (simulated PDU: none
 * on this machine): outbox limits and the log level apply, the free-space margin too (on a real
 * tmpfs); changes only a restart can apply are refused whole, leaving everything as it was.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { validate, type LoadedConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { drivers } from '../../src/devices/index.js';
import { mountTmpfs } from '../helpers/tmpfs.js';
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

test('reload: outbox.minFreeBytes applies at once: refusing above the free space, accepting below it, back to the default when left out', async () => {
  const MiB = 1024 * 1024;
  const fs = mountTmpfs(8 * MiB);
  const cfg = (minFreeBytes?: number) => raw({ path: join(fs.dir, 'w.sqlite'), ...(minFreeBytes === undefined ? {} : { minFreeBytes }) });
  const next = (minFreeBytes?: number): LoadedConfig => ({ config: validate(cfg(minFreeBytes), drivers, 'test config'), path: null, dir, demo: false });
  const run = await startWorker(cfg(16 * MiB), drivers, dir);
  const { worker } = run;
  const outbox = worker.outbox!;
  /** The next collection's fate: refused (counted) or committed (rows grow). */
  const nextCollection = async (): Promise<'refused' | 'committed'> => {
    const before = { refused: outbox.stats().refused ?? 0, rows: outbox.stats().rows };
    const mark = run.reports.length;
    await until('the next collection', () => run.reports.length > mark, 5000);
    const after = outbox.stats();
    assert.notEqual((after.refused ?? 0) > before.refused, after.rows > before.rows, 'a collection is either refused or committed');
    return (after.refused ?? 0) > before.refused ? 'refused' : 'committed';
  };
  try {
    // 16 MiB free wanted on an 8 MiB filesystem: every collection refused.
    assert.equal(await nextCollection(), 'refused');
    assert.equal(outbox.spaceStatus!()!.minFreeBytes, 16 * MiB);

    await worker.reload(next(0));
    assert.equal(outbox.spaceStatus!()!.minFreeBytes, 0);
    assert.equal(await nextCollection(), 'committed');
    assert.equal(run.logged(/disk space is back/).length, 1);

    // Left out: the default, 5% of the filesystem, which the 8 MiB tmpfs has.
    await worker.reload(next());
    assert.equal(outbox.spaceStatus!()!.minFreeBytes, Math.floor(8 * MiB * 0.05));
    assert.equal(await nextCollection(), 'committed');

    await worker.reload(next(16 * MiB));
    assert.equal(await nextCollection(), 'refused');
    assert.equal(run.logged(/disk space low/).length, 2, 'each change of state logged once');
    assert.equal(run.logged(/config reloaded/).filter((l) => l.limits === true).length, 3);
  } finally {
    await run.stop();
    fs.unmount();
  }
});
