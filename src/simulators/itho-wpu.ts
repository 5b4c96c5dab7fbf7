/**
 * A simulated Itho WPU as the I²C peer behind the pigpiod simulator: it takes request
 * frames (what the Pi writes to 0x41) and answers with reply frames (what it writes to the
 * Pi's slave 0x40), built from the recorded replies and the tables in itho-wpu-data.ts.
 * Its framing and checksum are its own (a simulator never imports the driver's codec, or a codec bug would cancel itself out).
 */
import { remember } from './history.js';
import { DATALOG_RECORDED_START, DATATYPE_REPLY, DEMO_COUNTERS, DEMO_LABELS, DEMO_MANUAL, DEMO_RAW, DEMO_SETTINGS, NODEID_REPLY, SERIAL, SIM_WIDTHS } from './itho-wpu-data.js';

/** Sum of all bytes plus the address byte is 0 mod 256 (0x82 for requests, 0x80 for replies). */
function sum(bytes: Uint8Array, addressByte: number): number {
  let s = addressByte;
  for (const b of bytes) s += b;
  return s & 0xff;
}

/** A reply frame: 82 | class | 01 | len | payload | chk (chk makes the sum with 0x80 zero). */
export function wpuReply(classHi: number, classLo: number, payload: Uint8Array, source = 0x82): Buffer {
  const f = Buffer.alloc(payload.length + 6);
  f[0] = source;
  f[1] = classHi;
  f[2] = classLo;
  f[3] = 0x01;
  f[4] = payload.length;
  f.set(payload, 5);
  f[f.length - 1] = (256 - sum(f.subarray(0, f.length - 1), 0x80)) & 0xff;
  return f;
}

function be(value: number, width: number): number[] {
  const out: number[] = [];
  for (let i = width - 1; i >= 0; i--) out.push(Math.floor(value / 256 ** i) & 0xff);
  return out;
}

export interface SimulatedWpuOptions {
  /** Let temperatures wander by a few hundredths on every datalog. */
  vary?: boolean;
  random?: () => number;
}

export class SimulatedWpu {
  readonly codes: number[] = [...DATATYPE_REPLY.subarray(5, DATATYPE_REPLY.length - 1)];
  readonly settings = new Map(DEMO_SETTINGS.map((s) => [s.id, { ...s }]));
  readonly manual = new Map(DEMO_MANUAL.map((m) => [m.id, { ...m, override: false }]));
  readonly counters = DEMO_COUNTERS.map((c) => c[3]);
  /** The node-id reply (the recording; tests may swap it, e.g. for a firmware update). */
  nodeidReply: Buffer = Buffer.from(NODEID_REPLY);
  /** Request frames received, in order (hex); the last HISTORY_LIMIT or fewer. */
  readonly requests: string[] = [];
  private readonly raw: number[];
  private readonly random: () => number;

  constructor(private readonly options: SimulatedWpuOptions = {}) {
    this.random = options.random ?? Math.random;
    // Raw field values: the recorded start, then the table, then alternating flags.
    const raw: number[] = [];
    let off = 0;
    this.codes.forEach((code, i) => {
      const w = SIM_WIDTHS[code] ?? 1;
      const name = DEMO_LABELS[i]![0];
      if (off + w <= DATALOG_RECORDED_START.length) {
        let v = 0;
        for (let k = 0; k < w; k++) v = v * 256 + DATALOG_RECORDED_START[off + k]!;
        raw.push(v);
      } else raw.push(DEMO_RAW[name] ?? (code === 0x0c ? i % 2 : 0));
      off += w;
    });
    this.raw = raw;
  }

  /** The datalog payload: every field at the width its code has, big-endian. */
  datalogPayload(): Buffer {
    const bytes: number[] = [];
    this.codes.forEach((code, i) => {
      let v = this.raw[i]!;
      if (this.options.vary && code === 0x92 && i < 11) v = (v + Math.round((this.random() - 0.5) * 20) + 0x10000) & 0xffff;
      bytes.push(...be(v, SIM_WIDTHS[code] ?? 1));
    });
    return Buffer.from(bytes);
  }

  /** Answers one request frame; undefined when the WPU ignores it (bad checksum, unknown class). */
  handle(frame: Uint8Array): Buffer | undefined {
    remember(this.requests, Buffer.from(frame).toString('hex'));
    if (frame.length < 6 || frame[0] !== 0x80 || sum(frame, 0x82) !== 0 || frame[4] !== frame.length - 6) return undefined;
    const [hi, lo, type] = [frame[1]!, frame[2]!, frame[3]!];
    const p = frame.subarray(5, frame.length - 1);
    const reply = (payload: number[] | Buffer) => wpuReply(hi, lo, Buffer.from(payload));
    const key = `${hi.toString(16)}${lo.toString(16).padStart(2, '0')}`;
    switch (key) {
      case '90e0':
        return Buffer.from(this.nodeidReply);
      case '90e1':
        return reply(be(SERIAL, 3));
      case 'a400':
        // The recording as long as the codes are the recorded ones; tests may change them.
        return Buffer.from(this.codes).equals(DATATYPE_REPLY.subarray(5, -1)) ? Buffer.from(DATATYPE_REPLY) : reply(this.codes);
      case 'a401':
        return reply(this.datalogPayload());
      case '4210':
        return reply(this.counters.flatMap((c) => be(c, 2)));
      case 'a410': {
        const id = p[17]!;
        const s = this.settings.get(id);
        if (!s) return reply([...new Array<number>(16).fill(0), 0x00, id, 0]);
        if (type === 0x06) {
          const v = ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
          if (v >= Math.round(s.min * 10 ** (s.datatype & 0x0f)) && v <= Math.round(s.max * 10 ** (s.datatype & 0x0f))) s.raw = v;
        }
        const dec = 10 ** (s.datatype & 0x0f);
        return reply([...be(s.raw, 4), ...be(Math.round(s.min * dec), 4), ...be(Math.round(s.max * dec), 4), ...be(s.step, 4), s.datatype, id, 0]);
      }
      case '4030': {
        const id = (p[1]! << 8) | p[2]!;
        const m = this.manual.get(id);
        if (!m) return reply([1, p[1]!, p[2]!, 0, 0, 0]);
        if (type === 0x06) {
          m.raw = (p[4]! << 8) | p[5]!;
          m.override = p[6] === 1;
        }
        return reply([1, p[1]!, p[2]!, m.datatype, ...be(m.raw, 2)]);
      }
      default:
        return undefined;
    }
  }
}
