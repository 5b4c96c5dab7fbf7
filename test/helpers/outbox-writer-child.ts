/**
 * Child process for the outbox crash and concurrency tests:
 *   outbox-writer-child <path> <round> [pause ms between batches]
 * writes to the outbox at <path> in a loop until it is SIGKILLed, and reports on stdout,
 * only after each call has returned:
 *   committed <round> <seq>       every line of this round with seq < <seq> is committed
 *   ack-intent <round> <seq>      about to ack every row up to and including this one
 *   acked <round> <seq>           that ack has committed
 * Lines are `crash,round=<round> seq=<seq>i`. Some rows are dead-lettered on the way.
 * writeSync on a pipe is synchronous, so a report that was printed is in the pipe when the
 * kill lands.
 */
import { writeSync } from 'node:fs';
import { openSqliteOutbox } from '../../src/outbox/sqlite-outbox.js';

const [path, roundArg, pauseArg] = process.argv.slice(2);
if (!path || !roundArg) throw new Error('usage: outbox-writer-child <path> <round> [pause-ms]');
const round = Number(roundArg);
const pauseMs = Number(pauseArg ?? 0);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const BATCH = 250;

const outbox = openSqliteOutbox(path, { maxRows: 100_000_000, maxBytes: 100_000_000_000 });
const report = (text: string) => writeSync(1, text + '\n');
report('ready');

function roundSeq(line: string): string {
  const match = /round=(\d+) seq=(\d+)i/.exec(line);
  if (!match) throw new Error(`unexpected line ${line}`);
  return `${match[1]} ${match[2]}`;
}

let seq = 0;
for (let i = 1; ; i++) {
  const lines = Array.from({ length: BATCH }, (_, k) => `crash,round=${round} seq=${seq + k}i`);
  outbox.append(lines, 'ns');
  seq += BATCH;
  report(`committed ${round} ${seq}`);

  if (i % 3 === 0) {
    const batch = outbox.peek(300, 1_000_000);
    if (batch) {
      report(`ack-intent ${roundSeq(batch.rows.at(-1)!.line)}`);
      outbox.ack(batch.rows.map((r) => r.id));
      report(`acked ${roundSeq(batch.rows.at(-1)!.line)}`);
    }
  }
  if (i % 4 === 0) {
    const batch = outbox.peek(10, 1_000_000);
    if (batch) outbox.deadLetter([batch.rows[0]!.id], 400, 'crash test');
  }
  // A synchronous pause: the loop never yields, so reports stay in step with commits.
  if (pauseMs > 0) Atomics.wait(sleeper, 0, 0, pauseMs);
}
