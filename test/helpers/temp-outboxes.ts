import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { openSqliteOutbox } from '../../src/outbox/sqlite-outbox.js';
import type { Outbox } from '../../src/outbox/types.js';

/**
 * Real SQLite outboxes in a temporary folder for one test file: registers before/after
 * hooks that make the folder and close and remove everything again.
 */
export function tempOutboxes(prefix: string): (name?: string) => Outbox {
  let dir = '';
  let seq = 0;
  const opened: Outbox[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  });
  after(async () => {
    for (const o of opened) o.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return (name = `outbox-${++seq}`) => {
    const o = openSqliteOutbox(join(dir, `${name}.db`), { maxRows: 10_000_000, maxBytes: 1e10 }, { synchronous: 'normal' });
    opened.push(o);
    return o;
  };
}
