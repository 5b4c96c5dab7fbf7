/**
 * Access files whose memo value is stored on an LVAL page as a chain of rows (the Jet 4
 * "other pages" long value: each row starts with the page-row of the next, 0 at the end):
 * a proper chain, and chains that loop back (crafted damage; mdb-reader follows them with no
 * cycle check). Built from the Jet 4 writer's smallItho() file: its first inline memo
 * (Datalabel_V30's tooltip "Gemeten door de buitenvoeler") is turned into a reference to rows
 * on one page appended to the file.
 */
import { smallItho } from './itho-par-fixture.js';
import { writeJet4 } from './jet4-writer.js';

const PAGE = 4096; // Jet 4
const MEMO_TEXT = 'Gemeten door de buitenvoeler';

/** Row payloads (after the 4-byte next pointer) of the proper two-row chain: its UCS-2 text. */
export const CHAINED_TEXT = 'Gemeten door de buitenvoeler (LVAL)';

export type LvalShape = 'chain' | 'self-loop' | 'two-row-loop';

export function parWithLval(shape: LvalShape): Buffer {
  const file = writeJet4(smallItho());
  const at = file.indexOf(Buffer.from(MEMO_TEXT, 'utf16le'));
  const head = at - 12;
  if (at < 0 || file.readUIntLE(head, 3) !== MEMO_TEXT.length * 2 || file[head + 3] !== 0x80) throw new Error('lval-chain: the inline memo is not where expected');
  const page = file.length / PAGE;
  const pageRow = (row: number) => (page << 8) | row;
  const text = Buffer.from(CHAINED_TEXT, 'utf16le');
  const rows: { next: number; data: Buffer }[] =
    shape === 'chain'
      ? [
          { next: pageRow(1), data: text.subarray(0, 16) },
          { next: 0, data: text.subarray(16) },
        ]
      : shape === 'self-loop'
        ? [{ next: pageRow(0), data: Buffer.alloc(0) }] // a row of exactly its 4-byte pointer, naming itself
        : [
            { next: pageRow(1), data: Buffer.from('ABCDEFGH', 'latin1') },
            { next: pageRow(0), data: Buffer.from('IJKLMNOP', 'latin1') },
          ];
  const lval = Buffer.alloc(PAGE);
  lval[0] = 0x01; // data page
  lval[1] = 0x01;
  lval.write('LVAL', 4, 'latin1');
  lval.writeUInt16LE(rows.length, 12);
  let end = PAGE;
  rows.forEach((r, i) => {
    const start = end - 4 - r.data.length;
    lval.writeUInt32LE(r.next, start);
    r.data.copy(lval, start + 4);
    lval.writeUInt16LE(start, 14 + 2 * i);
    end = start;
  });
  // Length: the chain's text for the proper one; for the loops as long as a memo can be, so
  // only a cycle check stops the reading.
  file.writeUIntLE(shape === 'chain' ? text.length : 0xffffff, head, 3);
  file[head + 3] = 0x00; // "other pages"
  file.writeUInt32LE(pageRow(0), head + 4);
  return Buffer.concat([file, lval]);
}
