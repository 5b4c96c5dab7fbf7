/**
 * Issue 16, fuzz finding: a PowerWalker reply with a number token of 309 or more digits
 * became an Infinity field (decimal) or a RangeError from int() that failed the poll
 * (integer). Both are now FrameErrors naming the command and the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameError } from '../../src/core/errors.js';
import { decimal, integer } from '../../src/devices/powerwalker/codec.js';
import { IntField } from '../../src/core/point.js';
import type { FieldProblem } from '../../src/devices/problems.js';
import { decodeEnergy, decodePowers, decodeStatus } from '../../src/devices/powerwalker-pdu/codec.js';
import { pduPoints } from '../../src/devices/powerwalker-pdu/points.js';

const HUGE = '9'.repeat(309);

test('a 309-digit token is a FrameError, never Infinity or a RangeError', () => {
  assert.equal(Number(HUGE), Infinity, 'the premise: 309 nines overflow a double');
  const isFrameError = (re: RegExp) => (e: unknown) => e instanceof FrameError && re.test(e.message);
  assert.throws(() => decimal(HUGE, 'QEC', 'input'), isFrameError(/^QEC: input is out of range: "9{59}9…"$/));
  assert.throws(() => integer(HUGE, 'QPW', 'input'), isFrameError(/^QPW: input is out of range/));
  // 17 digits: finite, but no longer an exact integer.
  assert.throws(() => integer('12345678901234567', 'QPW', 'outlet 1'), isFrameError(/outlet 1 is out of range/));
  assert.throws(() => decodeEnergy(`${HUGE} 0 0 0 0 0 0 0 0`), FrameError);
  assert.throws(() => decodePowers(`0 ${HUGE} 0 0 0 0 0 0 0`, 'QPW'), FrameError);
  // What the PDU really sends still reads.
  assert.equal(decimal('0231.4', 'QGS', 'field 1'), 231.4);
  assert.equal(integer('-0012', 'QPW', 'input'), -12);
});

test("a QGS outlet status code outside the table (7) costs only that outlet's status field, counted; the rest of the reply goes out", () => {
  const s = decodeStatus('0000000011111117 225.5 49.8 2.1 0.4 0.5 0.3 0.1 0.2 0.2 0.3 0.0 36.0');
  assert.deepEqual(s.outletStatus, [1, 1, 1, 1, 1, 1, 1, 7], 'the raw codes, as sent');
  const problems: FieldProblem[] = [];
  const points = pduPoints({ status: s }, { device: 'pdu', tags: {} }, 1_700_000_000_000, problems);
  const pdu = points.find((p) => p.measurement === 'pdu')!;
  assert.equal(pdu.fields.input_v, 225.5);
  assert.equal(pdu.fields.temperature_c, 36);
  const outlet = (n: string) => points.find((p) => p.tags.outlet === n)!;
  assert.deepEqual(outlet('7').fields.status, new IntField(1n));
  assert.equal('status' in outlet('8').fields, false);
  assert.equal(outlet('8').fields.current_a, 0);
  assert.deepEqual(problems, [{ reason: 'unknown outlet status', detail: 'outlet 8: status code 7 is not in the table (0-6)' }]);
});
