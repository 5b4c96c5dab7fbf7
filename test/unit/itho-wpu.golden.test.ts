/**
 * Golden folder test/fixtures/itho-wpu (issue 16): Itho I²C replies recorded in public issue
 * threads (SOURCES.md there), checked and decoded against the values the threads and the
 * protocol layout state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkReply, compileLayout, decodeDatalog, decodeDatatypeList, decodeNodeId, type MessageKind } from '../../src/devices/itho-wpu/codec.js';
import { fixture } from '../helpers/paths.js';

interface Recorded {
  id: string;
  source: string;
  kind: 'nodeid' | 'datatype' | 'datalog';
  hex: string;
  layoutFrom?: string;
  expect: Record<string, unknown>;
}

const { frames } = JSON.parse(readFileSync(fixture('itho-wpu', 'frames.json'), 'utf8')) as { frames: Recorded[] };
const byId = new Map(frames.map((f) => [f.id, f]));
const payload = (f: Recorded) => checkReply(Buffer.from(f.hex.replace(/ /g, ''), 'hex'), f.kind as MessageKind);

for (const f of frames) {
  test(`itho-wpu golden: ${f.id} (${f.source}) passes the reply checks and decodes to the stated values`, () => {
    const p = payload(f);
    if (f.kind === 'nodeid') {
      assert.deepEqual(decodeNodeId(p), f.expect);
    } else if (f.kind === 'datatype') {
      const codes = decodeDatatypeList(p);
      if (f.expect.codes) assert.deepEqual(codes, f.expect.codes);
      if (f.expect.runs)
        assert.deepEqual(
          codes,
          (f.expect.runs as [number, number][]).flatMap(([c, n]) => Array<number>(n).fill(c)),
        );
      assert.equal(compileLayout(codes).length, f.expect.datalogBytes);
    } else {
      const layout = compileLayout(decodeDatatypeList(payload(byId.get(f.layoutFrom!)!)));
      assert.deepEqual(decodeDatalog(p, layout), f.expect.values);
    }
  });
}

test('itho-wpu golden: a reply with one byte changed fails its checksum (the recorded checksums are what protects them)', () => {
  for (const f of frames) {
    const b = Buffer.from(f.hex.replace(/ /g, ''), 'hex');
    b[5] ^= 0x01;
    assert.throws(() => checkReply(b, f.kind as MessageKind), /checksum/, f.id);
  }
});
