/**
 * Golden folder test/fixtures/powerwalker (issue 16; SOURCES.md there): PDU and ATS replies
 * rebuilt from the tokens powerwalker-python-lib's README prints verbatim, through the reply
 * framer (serial: bytes + CR; HID: 8-byte NUL-padded reports) and the decoders, against the
 * README's values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeAts, decodeAtsStatus, ATS_STATUS_KEYS } from '../../src/devices/powerwalker-ats/codec.js';
import { decodeEnergy, decodeModel, decodePowers, decodeStatus } from '../../src/devices/powerwalker-pdu/codec.js';
import { replyPayload } from '../../src/devices/powerwalker/codec.js';
import { ReplyFramer } from '../../src/devices/powerwalker/framer.js';
import { fixture } from '../helpers/paths.js';

interface Recorded {
  id: string;
  command: string;
  reply: string;
  expect: Record<string, unknown>;
}
const { replies } = JSON.parse(readFileSync(fixture('powerwalker', 'replies.json'), 'utf8')) as { replies: Recorded[] };

/** The reply as 8-byte HID input reports, the last padded with NULs (docs/protocols/powerwalker.md §1.1). */
function hidReports(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += 8) {
    const r = Buffer.alloc(8);
    b.copy(r, 0, i, Math.min(i + 8, b.length));
    out.push(r);
  }
  return out;
}

function framedPayloads(r: Recorded): string[] {
  const wire = Buffer.from(`${r.reply}\r`, 'ascii');
  const serial = new ReplyFramer().push(wire);
  const hid = new ReplyFramer();
  const viaHid = hidReports(wire).flatMap((c) => hid.push(c));
  return [...serial, ...viaHid].map((f) => replyPayload(f, r.command));
}

for (const r of replies) {
  test(`powerwalker golden: ${r.id} (${r.command}) over serial and HID decodes to the README's values`, () => {
    const payloads = framedPayloads(r);
    assert.equal(payloads.length, 2);
    for (const p of payloads) {
      switch (r.command) {
        case 'QMD':
          assert.deepEqual(decodeModel(p), r.expect);
          break;
        case 'QGS': {
          const s = decodeStatus(p);
          assert.deepEqual(Object.fromEntries(Object.keys(r.expect).map((k) => [k, s[k as keyof typeof s]])), r.expect);
          assert.ok(Object.values(s.alarms).every((v) => v === 0));
          break;
        }
        case 'QPW':
        case 'QPVA':
          assert.deepEqual(decodePowers(p, r.command), r.expect);
          break;
        case 'QEC':
          assert.deepEqual(decodeEnergy(p), r.expect);
          break;
        case 'QATS':
          assert.deepEqual(decodeAts(p), r.expect);
          break;
        case 'QAS': {
          const { flags } = decodeAtsStatus(p);
          for (const k of ATS_STATUS_KEYS) assert.equal(flags[k], k === 'on_src1' ? r.expect.on_src1 : r.expect.others, k);
          break;
        }
        default:
          assert.fail(`unknown command ${r.command}`);
      }
    }
  });
}
