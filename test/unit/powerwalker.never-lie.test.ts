/**
 * Issue 16, fuzz finding: a PowerWalker reply with a number token of 309 or more digits
 * became an Infinity field (decimal) or a RangeError from int() that failed the poll
 * (integer). Both are now FrameErrors naming the command and the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameError } from '../../src/core/errors.js';
import { decimal, integer } from '../../src/devices/powerwalker/protocol.js';
import { decodeEnergy, decodePowers } from '../../src/devices/powerwalker-pdu/codec.js';

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
