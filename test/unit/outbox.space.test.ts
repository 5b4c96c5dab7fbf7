/**
 * The free-space reading appends use (space.ts): trusted for a few seconds far above the
 * margin, asked afresh near it, after a refusal and after a new margin. On the real
 * filesystem of the temp folder (a 32 MiB file moves statfs's answer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboxSpace } from '../../src/outbox/space.js';

const MiB = 1024 * 1024;

function writeFile(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(MiB, 1);
  for (let n = 0; n < bytes; n += MiB) writeSync(fd, block);
  fsyncSync(fd);
  closeSync(fd);
}

test('an append reuses a reading far above the margin, and asks again near it, after distrust() and after a new margin', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-space-'));
  try {
    const space = new OutboxSpace(join(dir, 'outbox.sqlite'), 0, 0);
    const before = space.appendable();
    if (before < 256 * MiB) return t.skip('needs 256 MiB free in the temp folder');
    writeFile(join(dir, 'filler'), 32 * MiB);
    const now = space.freeBytes();
    assert.ok(now <= before - 16 * MiB, `statfs sees the 32 MiB file (${before} -> ${now})`);
    assert.equal(space.appendable(), before, 'trusted: far above a margin of 0');
    space.distrust();
    const fresh = space.appendable();
    assert.ok(Math.abs(fresh - now) < 8 * MiB, 'asked again after distrust()');
    // A margin within 64 MiB of what is free: every append asks.
    space.setMinFreeBytes(fresh - MiB);
    rmSync(join(dir, 'filler'));
    const freed = space.appendable();
    assert.ok(freed >= fresh + 16 * MiB, `near the margin the file's removal is seen at once (${fresh} -> ${freed})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
