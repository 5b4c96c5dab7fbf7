/**
 * A minimal Access (Jet 4, Access 2000) file writer, for test fixtures only: nothing on
 * these machines writes Access files, and the Itho converter must be tested on Itho-shaped
 * content. Layout from mdbtools' HACKING.md, limited to what both mdb-reader and mdbtools
 * walk to list tables and rows:
 *   page 0      database definition page (128 bytes RC4-masked at 0x18)
 *   page 1      a data page holding table usage maps (more such pages at the end if needed)
 *   page 2      the MSysObjects TDEF (readers hard-code page 2)
 *   then        per table: its TDEF page, then its data pages (contiguous, so a type-0
 *               inline usage map covers them)
 * Columns: Long, Integer, Double (fixed), Text and inline Memo (variable, UCS-2 uncompressed).
 * No indexes, no LVAL pages (a memo must fit in its row), no deleted rows.
 */

/** `ole` only as an always-null column (MSysObjects.LvProp, which mdbtools insists on binding). */
export type JetColumnType = 'long' | 'integer' | 'double' | 'text' | 'memo' | 'ole';
export type JetValue = string | number | null;

export interface JetColumn {
  name: string;
  type: JetColumnType;
  /**
   * Text and memo: store values with Jet 4 "Unicode compression" (0xFF 0xFE, then one byte
   * per character) when every character fits one byte, as Access does by default.
   */
  compressed?: boolean;
}

export interface JetTable {
  name: string;
  /** The Name written to MSysObjects when it must differ from `name` (null: a damaged catalog). */
  catalogName?: string | null;
  columns: readonly JetColumn[];
  rows: readonly (readonly JetValue[])[];
}

const PAGE = 4096;
const TYPE_CODE: Record<JetColumnType, number> = { long: 0x04, integer: 0x03, double: 0x07, text: 0x0a, memo: 0x0c, ole: 0x0b };
const FIXED_SIZE: Partial<Record<JetColumnType, number>> = { long: 4, integer: 2, double: 8 };
const TEXT_BYTES = 510; // 255 characters, UCS-2
const MEMO_OVERHEAD = 12; // 4-byte length|flags, 8 bytes page pointer (unused inline)
const DATA_HEADER = 14; // type, 1, free space(2), owner TDEF(4), 4 unknown, row count(2)
const MSYS_FLAGS_SYSTEM = 0x80000002;

interface Layout {
  table: JetTable;
  system: boolean;
  tdefPage: number;
  rows: Buffer[];
  pages: Buffer[][]; // rows per data page
  firstDataPage: number;
  usageMapRef: number; // pg_row of the usage map
  freeMapRef: number;
}

/** The bytes of an Access 2000 file holding `tables` (names case-sensitive, as given). */
export function writeJet4(tables: readonly JetTable[]): Buffer {
  for (const t of tables) validateTable(t);
  const names = new Set<string>();
  for (const t of tables) {
    const key = t.name.toLowerCase();
    if (names.has(key) || key === 'msysobjects') throw new Error(`jet4-writer: table ${t.name} appears twice`);
    names.add(key);
  }

  // Page numbers: user tables first (their TDEF page numbers are MSysObjects' Ids), then
  // MSysObjects' own data pages, whose rows need those numbers.
  let next = 3;
  const user: Layout[] = tables.map((table) => {
    const rows = table.rows.map((r, i) => encodeRow(table, r, i));
    const pages = packRows(rows);
    const layout: Layout = { table, system: false, tdefPage: next, rows, pages, firstDataPage: next + 1, usageMapRef: 0, freeMapRef: 0 };
    next += 1 + pages.length;
    return layout;
  });
  const msysTable: JetTable = {
    name: 'MSysObjects',
    columns: [
      { name: 'Id', type: 'long' },
      { name: 'ParentId', type: 'long' },
      { name: 'Name', type: 'text' },
      { name: 'Type', type: 'integer' },
      { name: 'Flags', type: 'long' },
      { name: 'LvProp', type: 'ole' },
    ],
    rows: [[2, 0x0f000001, 'MSysObjects', 1, MSYS_FLAGS_SYSTEM, null], ...user.map((l) => [l.tdefPage, 0x0f000001, l.table.catalogName === undefined ? l.table.name : l.table.catalogName, 1, 0, null] as JetValue[])],
  };
  const msysRows = msysTable.rows.map((r, i) => encodeRow(msysTable, r, i));
  const msysPages = packRows(msysRows);
  const msys: Layout = { table: msysTable, system: true, tdefPage: 2, rows: msysRows, pages: msysPages, firstDataPage: next, usageMapRef: 0, freeMapRef: 0 };
  next += msysPages.length;

  // Usage maps: two rows per table (pages owned, pages with free space), on page 1 and,
  // when page 1 is full, on further map pages at the end.
  const all = [msys, ...user];
  const mapRows: Buffer[] = [];
  for (const l of all) {
    const bitmap = Buffer.alloc(Math.max(1, Math.ceil(l.pages.length / 8)));
    for (let i = 0; i < l.pages.length; i++) bitmap[i >> 3] |= 1 << (i & 7);
    const used = Buffer.concat([Buffer.from([0]), u32(l.firstDataPage), bitmap]);
    const free = Buffer.concat([Buffer.from([0]), u32(l.firstDataPage), Buffer.alloc(bitmap.length)]);
    mapRows.push(used, free);
  }
  const mapPageRows = packRows(mapRows);
  const mapPageNumbers = mapPageRows.map((_, i) => (i === 0 ? 1 : next + i - 1));
  next += mapPageRows.length - 1;
  let flat = 0;
  mapPageRows.forEach((pageRows, p) => {
    pageRows.forEach((_, r) => {
      const ref = mapPageNumbers[p] * 256 + r;
      const layout = all[flat >> 1];
      if (flat % 2 === 0) layout.usageMapRef = ref;
      else layout.freeMapRef = ref;
      flat++;
    });
  });

  const file = Buffer.alloc(next * PAGE);
  headerPage().copy(file, 0);
  mapPageRows.forEach((rows, i) => dataPage(0, rows).copy(file, mapPageNumbers[i] * PAGE));
  for (const l of all) {
    tdefPage(l).copy(file, l.tdefPage * PAGE);
    l.pages.forEach((rows, i) => dataPage(l.tdefPage, rows).copy(file, (l.firstDataPage + i) * PAGE));
  }
  return file;
}

function validateTable(t: JetTable): void {
  if (t.columns.length === 0) throw new Error(`jet4-writer: table ${t.name} has no columns`);
  t.rows.forEach((r, i) => {
    if (r.length !== t.columns.length) throw new Error(`jet4-writer: ${t.name} row ${i} has ${r.length} values for ${t.columns.length} columns`);
  });
}

/** Columns in definition order; fixed ones get byte offsets, variable ones an index. */
function columnSlots(t: JetTable): { fixedOffset: number[]; varIndex: number[]; fixedBytes: number; varCount: number } {
  const fixedOffset: number[] = [];
  const varIndex: number[] = [];
  let fixedBytes = 0;
  let varCount = 0;
  for (const c of t.columns) {
    const size = FIXED_SIZE[c.type];
    if (size !== undefined) {
      fixedOffset.push(fixedBytes);
      varIndex.push(0);
      fixedBytes += size;
    } else {
      fixedOffset.push(0);
      varIndex.push(varCount++);
    }
  }
  return { fixedOffset, varIndex, fixedBytes, varCount };
}

/** Jet 4 row: column count, fixed data, variable data, then (backwards from the end) the null mask, variable count, offsets, end-of-data. */
function encodeRow(t: JetTable, values: readonly JetValue[], rowIndex: number): Buffer {
  const { fixedOffset, varIndex, fixedBytes, varCount } = columnSlots(t);
  const n = t.columns.length;
  const fixed = Buffer.alloc(fixedBytes);
  const varData: Buffer[] = new Array(varCount).fill(Buffer.alloc(0));
  const nullMask = Buffer.alloc(Math.ceil(n / 8));
  t.columns.forEach((c, i) => {
    const v = values[i];
    if (v === null || v === undefined) return;
    nullMask[i >> 3] |= 1 << (i & 7); // a set bit means "not null"
    const where = `${t.name} row ${rowIndex} column ${c.name}`;
    switch (c.type) {
      case 'long':
        fixed.writeInt32LE(asNumber(v, where) | 0, fixedOffset[i]); // | 0: flags like 0x80000002 wrap as Access stores them
        break;
      case 'integer':
        fixed.writeInt16LE(asNumber(v, where), fixedOffset[i]);
        break;
      case 'double':
        fixed.writeDoubleLE(asNumber(v, where), fixedOffset[i]);
        break;
      case 'text': {
        const bytes = encodeText(String(v), c.compressed);
        if (bytes.length > TEXT_BYTES) throw new Error(`jet4-writer: ${where}: text longer than 255 characters`);
        varData[varIndex[i]] = bytes;
        break;
      }
      case 'memo': {
        const bytes = encodeText(String(v), c.compressed);
        const head = Buffer.alloc(MEMO_OVERHEAD);
        head.writeUInt32LE((bytes.length | 0x80000000) >>> 0, 0); // inline: the value follows in the row
        varData[varIndex[i]] = Buffer.concat([head, bytes]);
        break;
      }
      case 'ole':
        throw new Error(`jet4-writer: ${where}: OLE values are not supported (null only)`);
    }
  });
  const parts: Buffer[] = [u16(n), fixed];
  let offset = 2 + fixedBytes;
  const offsets: number[] = [];
  for (const d of varData) {
    offsets.push(offset);
    parts.push(d);
    offset += d.length;
  }
  if (varCount > 0) {
    parts.push(u16(offset)); // end of variable data
    for (let i = varCount - 1; i >= 0; i--) parts.push(u16(offsets[i]));
    parts.push(u16(varCount));
  }
  parts.push(nullMask);
  const row = Buffer.concat(parts);
  if (row.length > PAGE - DATA_HEADER - 2) throw new Error(`jet4-writer: ${t.name} row ${rowIndex} is ${row.length} bytes; it must fit in one page (no LVAL pages)`);
  return row;
}

/**
 * UCS-2, or compressed: 0xFF 0xFE then one byte a character. Only strings whose characters
 * are all 1..255 are compressed, so no mode-switch bytes (0x00) are ever needed.
 */
function encodeText(v: string, compressed = false): Buffer {
  if (compressed && v.length > 0 && [...v].every((ch) => ch.charCodeAt(0) >= 1 && ch.charCodeAt(0) <= 255)) {
    return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(v, 'latin1')]);
  }
  return Buffer.from(v, 'utf16le');
}

function asNumber(v: JetValue, where: string): number {
  if (typeof v !== 'number') throw new Error(`jet4-writer: ${where}: expected a number, got ${JSON.stringify(v)}`);
  return v;
}

/** Rows into pages, in order, as many as fit; at most 255, as a row pointer keeps the row number in one byte. */
function packRows(rows: readonly Buffer[]): Buffer[][] {
  const pages: Buffer[][] = [];
  let current: Buffer[] = [];
  let used = DATA_HEADER;
  for (const row of rows) {
    if ((used + 2 + row.length > PAGE || current.length === 255) && current.length > 0) {
      pages.push(current);
      current = [];
      used = DATA_HEADER;
    }
    current.push(row);
    used += 2 + row.length;
  }
  if (current.length > 0 || pages.length === 0) pages.push(current);
  return pages;
}

/** A data page: row 0 ends at the page end, each next row ends where the previous starts. */
function dataPage(owner: number, rows: readonly Buffer[]): Buffer {
  const page = Buffer.alloc(PAGE);
  page[0] = 0x01;
  page[1] = 0x01;
  page.writeUInt32LE(owner, 4);
  page.writeUInt16LE(rows.length, 12);
  let end = PAGE;
  rows.forEach((row, i) => {
    const start = end - row.length;
    row.copy(page, start);
    page.writeUInt16LE(start, DATA_HEADER + i * 2);
    end = start;
  });
  page.writeUInt16LE(end - (DATA_HEADER + rows.length * 2), 2); // free space
  return page;
}

function tdefPage(l: Layout): Buffer {
  const t = l.table;
  const { fixedOffset, varIndex, varCount } = columnSlots(t);
  const head = Buffer.alloc(63);
  head[0] = 0x02;
  head[1] = 0x01;
  head.write('VC', 2, 'latin1');
  head.writeUInt32LE(0, 4); // no continuation page
  head.writeUInt32LE(t.rows.length, 16);
  head[40] = l.system ? 0x53 : 0x4e;
  head.writeUInt16LE(t.columns.length, 41); // max_cols
  head.writeUInt16LE(varCount, 43);
  head.writeUInt16LE(t.columns.length, 45);
  head.writeUInt32LE(0, 47); // logical indexes
  head.writeUInt32LE(0, 51); // real indexes
  head.writeUInt32LE(l.usageMapRef, 55);
  head.writeUInt32LE(l.freeMapRef, 59);
  const cols = t.columns.map((c, i) => {
    const e = Buffer.alloc(25);
    const fixed = FIXED_SIZE[c.type] !== undefined;
    e[0] = TYPE_CODE[c.type];
    e.writeUInt16LE(i, 5); // column number
    e.writeUInt16LE(varIndex[i], 7);
    e.writeUInt16LE(i, 9);
    if (c.type === 'text' || c.type === 'memo') e.writeUInt16LE(0x0409, 11); // General sort order
    if (c.compressed) e[16] = 0x01; // compressed unicode
    e[15] = (fixed ? 0x01 : 0) | 0x02; // fixed length, nullable
    e.writeUInt16LE(fixedOffset[i], 21);
    e.writeUInt16LE(fixed ? FIXED_SIZE[c.type]! : c.type === 'text' ? TEXT_BYTES : 0, 23);
    return e;
  });
  const names = t.columns.map((c) => {
    const b = Buffer.from(c.name, 'utf16le');
    return Buffer.concat([u16(b.length), b]);
  });
  const def = Buffer.concat([head, ...cols, ...names, u16(0xffff)]);
  if (def.length > PAGE) throw new Error(`jet4-writer: the definition of ${t.name} does not fit one page`);
  def.writeUInt32LE(def.length - 8, 8); // tdef_len
  const page = Buffer.alloc(PAGE);
  def.copy(page);
  return page;
}

function headerPage(): Buffer {
  const page = Buffer.alloc(PAGE);
  page.writeUInt32LE(0x00000100, 0);
  page.write('Standard Jet DB\0', 4, 'latin1');
  page.writeUInt32LE(1, 0x14); // Jet 4
  // The masked region, written in clear and then masked below. Creation date 0 leaves
  // the password mask zero, so the zero password bytes read as "no password".
  page.writeUInt16LE(0x04e4, 0x3c); // code page 1252
  page.writeUInt32LE(0, 0x3e); // database key 0: pages are not encrypted
  page.writeUInt16LE(0x0409, 0x6e); // sort order: General
  rc4(Buffer.from([0xc7, 0xda, 0x39, 0x6b]), page.subarray(0x18, 0x18 + 128));
  return page;
}

/** RC4 in place (the header mask is its own inverse). */
function rc4(key: Buffer, data: Buffer): void {
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i] + key[i % key.length]) & 0xff;
    [s[i], s[j]] = [s[j], s[i]];
  }
  for (let k = 0, i = 0, j = 0; k < data.length; k++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]) & 0xff;
    [s[i], s[j]] = [s[j], s[i]];
    data[k] ^= s[(s[i] + s[j]) & 0xff];
  }
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
