/**
 * Child process for the group-commit crash test:
 *   group-commit-child <path>
 * Four "jobs" append 50 lines each at once, over and over, through one GroupCommit, until
 * SIGKILLed. A job reports `acked <job> <seq>` only when its append resolved (its lines
 * `gc,job=<job> seq=<n>i` with n < seq are then promised to be on disk).
 */
import { writeSync } from 'node:fs';
import { GroupCommit } from '../../src/outbox/group-commit.js';
import { openSqliteOutbox } from '../../src/outbox/sqlite-outbox.js';

const [path] = process.argv.slice(2);
if (!path) throw new Error('usage: group-commit-child <path>');
const outbox = openSqliteOutbox(path, { maxRows: 100_000_000, maxBytes: 100_000_000_000 });
const commits = new GroupCommit(outbox);
const report = (text: string) => writeSync(1, text + '\n');
const LINES = 50;

async function job(id: number): Promise<never> {
  for (let seq = 0; ; seq += LINES) {
    await commits.append(
      Array.from({ length: LINES }, (_, k) => `gc,job=${id} seq=${seq + k}i`),
      'ns',
    );
    report(`acked ${id} ${seq + LINES}`);
    commits.record(`job${id}`, { ok: true, endMs: Date.now(), durationMs: 1, points: LINES });
  }
}
report('ready');
for (let id = 1; id <= 4; id++) void job(id);
