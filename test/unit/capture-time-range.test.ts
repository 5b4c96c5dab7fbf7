/**
 * Issue 16: a capture line whose time InfluxDB cannot hold (nanoseconds in int64: from
 * 1677-09-21T00:12:43.145224194Z to 2262-04-11T23:47:16.854775806Z) is refused where it is
 * read, naming the file and line — not decoded into points the encoder then drops, and not
 * a RangeError from `new Date(…)` further on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureLines, parseCaptureLine } from '../../src/outbox/capture-format.js';
import { parseInput } from '../../src/backfill/input.js';
import { findDriver } from '../../src/devices/index.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const line = (time: unknown) => JSON.stringify({ time, direction: 'rx', hex: '00' });

test('capture times at the ends of InfluxDB’s range are kept, one millisecond beyond is refused with file:line', () => {
  // The first and last whole milliseconds inside int64 nanoseconds (less one at each end).
  assert.equal(parseCaptureLine(line('1677-09-21T00:12:43.146Z'), 'c.jsonl:1').timeMs, -9223372036854);
  assert.equal(parseCaptureLine(line('2262-04-11T23:47:16.854Z'), 'c.jsonl:1').timeMs, 9223372036854);
  assert.equal(parseCaptureLine(line(9223372036854), 'c.jsonl:1').timeMs, 9223372036854);
  const outside = [line('1677-09-21T00:12:43.145Z'), line('2262-04-11T23:47:16.855Z'), line(9223372036855), line(-9223372036855), line('+275760-09-13T00:00:00.000Z'), line(1e300), line('0000-01-01T00:00:00Z')];
  for (const l of outside) assert.throws(() => parseCaptureLine(l, 'c.jsonl:7'), /^InputError: c\.jsonl:7: "time" .* is outside InfluxDB's range \(1677-09-21T00:12:43\.146Z to 2262-04-11T23:47:16\.854Z\)$/, l);
});

test('decode/backfill input: a far-future line stops the file before anything is decoded, naming its line', () => {
  const file = [line('2026-12-07T06:00:00.000Z'), line('2026-12-07T06:00:01.000Z'), line(1e15)].join('\n') + '\n';
  assert.throws(() => [...captureLines(Buffer.from(file), 'far.jsonl')], /far\.jsonl:3: "time" 1000000000000000 is outside InfluxDB's range/);
  assert.throws(() => parseInput(Buffer.from(file), 'far.jsonl', findDriver('hdhk')!), /^InputError: far\.jsonl:3: "time"/);
});

test('wattline decode: the far-future line is one error line, exit 2, no points printed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-capture-time-'));
  try {
    const file = join(dir, 'far.jsonl');
    writeFileSync(file, [line('2026-12-07T06:00:00.000Z'), line(1e15)].join('\n') + '\n');
    const r = await runCli(['decode', 'hdhk', file]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `wattline: ${file}:2: "time" 1000000000000000 is outside InfluxDB's range (1677-09-21T00:12:43.146Z to 2262-04-11T23:47:16.854Z)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
