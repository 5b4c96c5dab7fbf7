/**
 * Golden folders: test/fixtures/dsmr-p1/<case>/telegram.txt is a real capture (see
 * SOURCES.md there); expected.lp was written by hand from the telegram's values, and
 * expected-error.txt holds the one-line errors decode() must report. options.json, when
 * present, overrides driver options (the meter's time zone). Timestamps come from the meter's
 * clock, or a fixed clock for telegrams without one (DSMR 2.2/3), so nothing depends on "now".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePoints } from '../../src/core/line-protocol.js';
import { dsmrP1Driver } from '../../src/devices/dsmr-p1/index.js';
import { fixture } from '../helpers/paths.js';
import { FakeClock } from '../helpers/fake-clock.js';

const DIR = fixture('dsmr-p1');
/** 2030-01-01T00:00:00Z: the "collection" time of telegrams that carry no clock; later than every telegram (a meter clock after the decode time is not believed). */
const FIXED_MS = 1_893_456_000_000;
const fixedClock = new FakeClock(FIXED_MS);

const cases = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);

test('dsmr-p1 fixtures: every folder has a telegram and an expected file', () => {
  assert.ok(cases.length >= 15, `only ${cases.length} fixture folders`);
  for (const c of cases) {
    assert.ok(existsSync(join(DIR, c, 'telegram.txt')), `${c}: telegram.txt missing`);
    assert.ok(existsSync(join(DIR, c, 'expected.lp')) || existsSync(join(DIR, c, 'expected-error.txt')), `${c}: no expected.lp or expected-error.txt`);
  }
  assert.ok(existsSync(join(DIR, 'SOURCES.md')), 'SOURCES.md missing');
});

for (const c of cases) {
  test(`dsmr-p1 golden: ${c}`, () => {
    const dir = join(DIR, c);
    const extra = existsSync(join(dir, 'options.json')) ? JSON.parse(readFileSync(join(dir, 'options.json'), 'utf8')) : {};
    const options = dsmrP1Driver.options.parse({ timestamps: 'meter', ...extra });
    const result = dsmrP1Driver.decode!(readFileSync(join(dir, 'telegram.txt')), { device: 'meter', options, tags: {}, clock: fixedClock });

    const expectedErrors = existsSync(join(dir, 'expected-error.txt')) ? lines(readFileSync(join(dir, 'expected-error.txt'), 'utf8')) : [];
    assert.deepEqual(result.errors, expectedErrors);

    const { lines: got, dropped } = encodePoints(result.points, 'ns');
    assert.deepEqual(dropped, []);
    const expected = existsSync(join(dir, 'expected.lp')) ? lines(readFileSync(join(dir, 'expected.lp'), 'utf8')) : [];
    assert.deepEqual(got, expected);
  });
}
