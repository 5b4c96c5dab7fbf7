/**
 * Golden folder test/fixtures/victron-vebus (issue 16): MK2/MK3 frames recorded by other
 * projects (SOURCES.md there), with the values their sources state. Every reply goes through
 * the framer (whole, and one byte at a time) and its decoder; every request is rebuilt by the
 * driver's builders byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  addressRequest,
  decodeAcInfo,
  decodeAddress,
  decodeLeds,
  decodeRamRead,
  decodeSnapshotRaw,
  decodeVersion,
  infoRequest,
  int16,
  ledRequest,
  ramReadRequest,
  snapshotRead,
  snapshotTrigger,
  versionRequest,
  winmonCode,
  writeViaIdRequest,
  type VebusFrame,
} from '../../src/devices/victron-vebus/codec.js';
import { VebusFramer } from '../../src/devices/victron-vebus/framer.js';
import type { Letter } from '../../src/devices/victron-vebus/tables.js';
import { fixture } from '../helpers/paths.js';

interface Recorded {
  id: string;
  source: string;
  dir: 'rx' | 'tx';
  hex: string;
  kind?: string;
  expect?: Record<string, unknown>;
  build?: unknown[];
}

const { frames } = JSON.parse(readFileSync(fixture('victron-vebus', 'frames.json'), 'utf8')) as { frames: Recorded[] };
const bytes = (f: Recorded) => Buffer.from(f.hex.replace(/ /g, ''), 'hex');
const replies = frames.filter((f) => f.dir === 'rx');
const requests = frames.filter((f) => f.dir === 'tx');

function framed(chunks: Buffer[]): VebusFrame[] {
  const framer = new VebusFramer();
  const out: VebusFrame[] = [];
  for (const c of chunks) for (const e of framer.feed(c)) if (e.kind === 'frame') out.push(e.frame);
  assert.deepEqual(framer.counters, { frames: replies.length, checksumErrors: 0, garbageBytes: 0 });
  return out;
}

test('victron-vebus golden: every recorded reply is one frame, fed whole or byte by byte, nothing dropped', () => {
  assert.ok(replies.length >= 10 && requests.length >= 8);
  const stream = Buffer.concat(replies.map(bytes));
  const whole = framed([stream]);
  const byByte = framed([...stream].map((b) => Buffer.from([b])));
  assert.deepEqual(
    whole.map((f) => f.raw.toString('hex')),
    replies.map((f) => bytes(f).toString('hex')),
  );
  assert.deepEqual(
    byByte.map((f) => f.raw.toString('hex')),
    replies.map((f) => bytes(f).toString('hex')),
  );
});

for (const r of replies) {
  test(`victron-vebus golden: ${r.id} (${r.source}) decodes to the source's values`, () => {
    const [frame] = framed([bytes(r)].concat(replies.filter((o) => o !== r).map(bytes))); // the framer is the only way in
    const e = r.expect!;
    switch (r.kind) {
      case 'version':
        assert.deepEqual(decodeVersion(frame!), e);
        break;
      case 'address':
        assert.equal(decodeAddress(frame!), e.address);
        break;
      case 'leds':
        assert.deepEqual(decodeLeds(frame!), e);
        break;
      case 'ac': {
        const ac = decodeAcInfo(frame!);
        assert.deepEqual(Object.fromEntries(Object.keys(e).map((k) => [k, ac[k as keyof typeof ac]])), e);
        break;
      }
      case 'snapshot':
        assert.deepEqual(decodeSnapshotRaw(frame!).map(int16), e.values);
        break;
      case 'winmon':
        assert.equal(winmonCode(frame!), e.code);
        break;
      case 'ramread':
        assert.deepEqual(decodeRamRead(frame!), e.values);
        break;
      default:
        assert.fail(`${r.id}: unknown kind ${r.kind}`);
    }
  });
}

test('victron-vebus golden: the request builders give every recorded request byte for byte', () => {
  // The sources write the Winmon letter as a character (`Y`); the builders take its byte.
  const letter = (c: unknown) => (c as string).charCodeAt(0) as Letter;
  const build = ([what, ...args]: unknown[]): Buffer => {
    switch (what) {
      case 'version':
        return versionRequest();
      case 'address':
        return addressRequest(args[0] as number);
      case 'leds':
        return ledRequest();
      case 'info':
        return infoRequest(args[0] as number);
      case 'snapshotTrigger':
        return snapshotTrigger(args[0] as number[]);
      case 'snapshotRead':
        return snapshotRead(letter(args[0]));
      case 'ramRead':
        return ramReadRequest(letter(args[0]), args[1] as number, args[2] as number);
      case 'writeViaId':
        return writeViaIdRequest(letter(args[0]), args[1] as number, args[2] as number, args[3] as number);
      default:
        throw new Error(`unknown builder ${String(what)}`);
    }
  };
  for (const r of requests) assert.equal(build(r.build!).toString('hex'), bytes(r).toString('hex'), r.id);
});
