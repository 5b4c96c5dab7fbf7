import { test } from 'node:test';
import assert from 'node:assert/strict';
import { int } from '../../src/core/point.js';
test('int() refuses a fraction', () => {
  assert.throws(() => int(1.5), /not an integer/);
  assert.equal(int(3).value, 3n);
});
