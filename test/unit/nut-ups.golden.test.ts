/**
 * Golden folders of real UPSes (test/fixtures/nut-ups/<case>/upsc.dev, `upsc` dumps from
 * NUT's device dump library, see SOURCES.md there): the variables as upsd lists them → the
 * `ups` point. expected.lp was written by hand from the dump's values and the mapping in
 * src/devices/nut-ups/README.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePoint } from '../../src/core/line-protocol.js';
import { decodeVariables, deviceInfo } from '../../src/devices/nut-ups/tables.js';
import { readingToPoint } from '../../src/devices/nut-ups/points.js';
import { fixture } from '../helpers/paths.js';

const DIR = fixture('nut-ups');
const TIME_MS = 1_772_289_738_000; // 2026-02-28T14:42:18Z, when the VFI dump was taken

/** `upsc` output (`name: value` lines; `#` comments and blank lines skipped). */
function parseUpsc(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(': ');
    assert.ok(colon > 0, `not a upsc line: ${line}`);
    vars.set(line.slice(0, colon), line.slice(colon + 2));
  }
  return vars;
}

const cases = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test('nut-ups fixtures: there are golden folders', () => assert.ok(cases.length >= 2));

for (const c of cases) {
  test(`nut-ups golden: ${c}`, () => {
    const vars = parseUpsc(readFileSync(join(DIR, c, 'upsc.dev'), 'utf8'));
    const decoded = decodeVariables(vars);
    assert.deepEqual(decoded.bad, []);
    const point = readingToPoint({ ups: 'ups', decoded, info: deviceInfo(vars), timeMs: TIME_MS }, { device: 'rack', tags: {}, infoTags: true })!;
    const expected = readFileSync(join(DIR, c, 'expected.lp'), 'utf8').trim();
    assert.equal(encodePoint(point, 'ns'), expected);
  });
}
