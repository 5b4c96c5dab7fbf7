/**
 * InfluxData's language-neutral line-protocol corpus (influxdata/line-protocol-corpus, MIT,
 * see test/fixtures/line-protocol/LICENSE.line-protocol-corpus): 115 encode cases, a point in
 * and the exact line (or an error) out, all at 1 ns precision. One test per case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { encodePoint, encodePoints, type Dropped } from '../../src/core/line-protocol.js';
import { int, uint, type FieldValue, type Point, type Precision } from '../../src/core/point.js';
import { fixture } from '../helpers/paths.js';

type CaseValue = { float: number } | { int: string } | { uint: string } | { string: string } | { bool: boolean };
interface Case {
  input: {
    implementation: string;
    about?: string;
    point: {
      name: string;
      tags: { key: string; value: string }[];
      fields: { key: string; value: CaseValue }[];
      time: string;
    };
    precision: string;
  };
  output: { result: string } | { error: string };
}

// int64 values and ns times beyond 2^53 would lose digits in JSON.parse: read them as strings.
// (A `"int":` key token cannot occur inside a JSON string, whose quotes are escaped.)
const text = readFileSync(fixture('line-protocol', 'encode-cases.json'), 'utf8').replace(/("(?:int|uint|time)"\s*:\s*)(-?\d+)/g, '$1"$2"');
const cases = JSON.parse(text) as Record<string, Case>;

const PRECISION: Record<string, Precision> = { '1ns': 'ns', '1us': 'us', '1ms': 'ms', '1s': 's' };

function value(v: CaseValue): FieldValue {
  if ('float' in v) return v.float;
  if ('int' in v) return int(BigInt(v.int));
  if ('uint' in v) return uint(BigInt(v.uint));
  if ('string' in v) return v.string;
  return v.bool;
}

function toPoint(c: Case): Point {
  const p = c.input.point;
  return {
    measurement: p.name,
    tags: Object.fromEntries(p.tags.map((t) => [t.key, t.value])),
    fields: Object.fromEntries(p.fields.map((f) => [f.key, value(f.value)])),
    time: BigInt(p.time),
  };
}

/*
 * Two cases differ from the corpus's Go encoder by design; their tests assert our documented
 * output instead (and say so in their names). Every other case must match byte for byte.
 */
// Go formats floats with %g: 6632243 -> `6.632243e+06`. We print ECMAScript's shortest form,
// as the official JS client does: `6632243`. InfluxDB reads both as the same float64.
const FLOAT_FORMAT = '34f17db4b263f6f2647d931eae615510';
// Go refuses the whole point for an empty tag value. We drop that tag with the same words in
// the reason and still write the reading.
const EMPTY_TAG_VALUE = '72fe529da6084a44692fe27cc2f105d1';

function shorten(s: string): string {
  const shown = JSON.stringify(s).slice(1, -1);
  return shown.length > 60 ? shown.slice(0, 57) + '...' : shown;
}

let count = 0;
for (const [key, c] of Object.entries(cases)) {
  count++;
  const out = c.output;
  const hint =
    key === FLOAT_FORMAT
      ? 'float 6632243 (by design: JS number format, not Go %g)'
      : key === EMPTY_TAG_VALUE
        ? `${c.input.about} (by design: tag dropped with the corpus's reason, point kept)`
        : shorten('result' in out ? out.result : out.error);
  test(`corpus ${key}: ${hint}`, () => {
    assert.equal(c.input.precision in PRECISION, true, `unknown precision ${c.input.precision}`);
    const precision = PRECISION[c.input.precision];
    const point = toPoint(c);

    if (key === EMPTY_TAG_VALUE) {
      assert.ok('error' in out);
      const dropped: Dropped[] = [];
      const line = encodePoint(point, precision, dropped);
      assert.equal(line, 'cpu value=42 0');
      assert.equal(dropped.length, 1);
      assert.equal(dropped[0].scope, 'tag');
      assert.ok(dropped[0].reason.includes(out.error), `"${dropped[0].reason}" has "${out.error}"`);
      assert.ok(dropped[0].reason.includes('"cpu"'), 'names the measurement');
      assert.deepEqual(encodePoints([point], precision), { lines: [line], dropped });
      return;
    }
    assert.ok('result' in out, `${key}: an error case nobody expected`);
    if (key === FLOAT_FORMAT) {
      assert.equal(out.result, 'cpu value=6.632243e+06 1000000000');
      assert.equal(encodePoint(point, precision), 'cpu value=6632243 1000000000');
      assert.equal(Number('6.632243e+06'), Number('6632243'));
      return;
    }
    assert.equal(encodePoint(point, precision), out.result);
  });
}

test('the corpus has all 115 cases, one of them an error', () => {
  assert.equal(count, 115);
  assert.deepEqual(
    Object.keys(cases).filter((k) => 'error' in cases[k].output),
    [EMPTY_TAG_VALUE],
  );
});
