/**
 * One fuzz target per framer and decoder: how to seed it, how to mutate its
 * input, and how to run one input. run() returns the points the input produced (checked by
 * the harness) and may throw only the project's typed errors (WattlineError subclasses).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WattlineError } from '../../src/core/errors.js';
import { systemClock } from '../../src/core/clock.js';
import type { Point } from '../../src/core/point.js';
import { findDriver } from '../../src/devices/index.js';
import type { CaptureRecord, DecodeContext, Driver } from '../../src/devices/types.js';
import { decodeTelegram } from '../../src/devices/dsmr-p1/codec.js';
import { P1Framer } from '../../src/devices/dsmr-p1/framer.js';
import { telegramToPoints } from '../../src/devices/dsmr-p1/points.js';
import { crc16arc, formatCrc } from '../../src/devices/dsmr-p1/framer-crc.js';
import {
  checksum as ithoChecksum,
  PI_ADDRESS_BYTE,
  checkReply,
  CLASSES,
  compileLayout,
  decodeCounters,
  decodeDatalog,
  decodeDatatypeList,
  decodeManual,
  decodeNodeId,
  decodeSerial,
  decodeSetting,
  type MessageKind,
} from '../../src/devices/itho-wpu/codec.js';
import { decodeVariables, deviceInfo } from '../../src/devices/nut-ups/tables.js';
import { readingToPoint } from '../../src/devices/nut-ups/points.js';
import { ListReader } from '../../src/devices/nut-ups/codec.js';
import { LineFramer } from '../../src/devices/nut-ups/framer.js';
import { decodeAts, decodeAtsStatus, decodeRatings } from '../../src/devices/powerwalker-ats/codec.js';
import { decodeCountdowns, decodeEnergy, decodeModel, decodePowers, decodeStatus } from '../../src/devices/powerwalker-pdu/codec.js';
import { decodeFirmware, decodeProtocolId, replyPayload } from '../../src/devices/powerwalker/codec.js';
import { ReplyFramer } from '../../src/devices/powerwalker/framer.js';
import * as vebus from '../../src/devices/victron-vebus/codec.js';
import { VebusFramer } from '../../src/devices/victron-vebus/framer.js';
import { DEFAULT_VAR_INFO, SNAPSHOT_IDS } from '../../src/devices/victron-vebus/tables.js';
import { groupRecords, decodeGroup } from '../../src/backfill/replay.js';
import { parseInput } from '../../src/backfill/input.js';
import { formatCaptureLine } from '../../src/outbox/capture-format.js';
import { convertPar } from '../../src/itho-par/index.js';
import { HeldOpen } from '../../src/backfill/held.js';
import { smallItho } from '../helpers/itho-par-fixture.js';
import { parWithLval } from '../helpers/lval-chain.js';
import { writeJet4 } from '../helpers/jet4-writer.js';
import { withModbusCrc } from '../../src/simulators/hdhk.js';
import { mutate, Rng } from './mutate.js';
import { accessFiles, goldenFrames, p1Telegrams, recordPolls, sessionOptions } from './seeds.js';

export interface FuzzTarget<S> {
  name: string;
  /** Points whose time is outside InfluxDB's range are the input's (a capture file's own times), not the decoder's. */
  timesFromInput?: boolean;
  /** What the target covers, for the report. */
  covers: string;
  seeds: S[];
  mutate(seed: S, other: S, rng: Rng): S;
  run(input: S, rng: Rng): Point[];
  /** Size of an input in bytes, for the report. */
  size(input: S): number;
  /** The input's bytes, for a finding's sample. */
  bytes?(input: S): Buffer;
}

/**
 * Checksum repairs: half of the mutated inputs get a valid checksum again, so the decoders
 * behind the checks (VE.Bus sum, Modbus CRC, P1 CRC, Itho sum) see mutated values too.
 */
type Repair = (b: Buffer) => Buffer;

const repairVebus: Repair = (b) => {
  if (b.length < 4 || b.length - 2 > 0x7f) return b;
  const out = Buffer.from(b);
  out[0] = out.length - 2;
  out[out.length - 1] = vebus.checksum(out, out.length - 1);
  return out;
};

const repairModbus: Repair = (b) => (b.length < 4 ? b : withModbusCrc(b.subarray(0, b.length - 2)));

const repairP1: Repair = (b) => {
  const bang = b.lastIndexOf(0x21);
  const slash = b.indexOf(0x2f);
  if (bang < 0 || slash < 0 || slash > bang) return b;
  return Buffer.concat([b.subarray(0, bang + 1), Buffer.from(`${formatCrc(crc16arc(b, slash, bang + 1))}\r\n`, 'latin1')]);
};

const repairItho: Repair = (b) => {
  if (b.length < 6 || b.length - 6 > 255) return b;
  const out = Buffer.from(b);
  out[4] = out.length - 6;
  out[out.length - 1] = ithoChecksum(out, PI_ADDRESS_BYTE, out.length - 1);
  return out;
};

const maybe = (repair: Repair | undefined, b: Buffer, rng: Rng): Buffer => (repair && rng.chance(0.5) ? repair(b) : b);

export const isTyped = (err: unknown): boolean => err instanceof WattlineError;

const FIXED_NOW = Date.UTC(2030, 0, 1);
const clock = { ...systemClock, now: () => FIXED_NOW, nowNs: () => BigInt(FIXED_NOW) * 1_000_000n };

function ctxFor(driver: Driver, options: unknown): DecodeContext<unknown> {
  return { device: 'fuzz', options: driver.options.parse(options), tags: { site: 'fuzz' }, clock };
}

/** Chunks of 1…64 bytes (how a serial port hands data over). */
function* chunks(b: Buffer, rng: Rng): Generator<Buffer> {
  for (let i = 0; i < b.length;) {
    const n = 1 + rng.int(rng.chance(0.5) ? 8 : 64);
    yield b.subarray(i, i + n);
    i += n;
  }
}

/** A poll's records mutated: one or more records' bytes, or the list itself. */
function mutateRecords(seed: CaptureRecord[], other: CaptureRecord[], rng: Rng, repair?: Repair): CaptureRecord[] {
  let out = seed.map((r) => ({ ...r }));
  const steps = 1 + rng.int(3);
  for (let s = 0; s < steps; s++) {
    const i = rng.int(out.length);
    switch (rng.int(6)) {
      case 0:
        if (out.length > 1) out.splice(i, 1); // a record lost
        break;
      case 1:
        out.splice(i, 0, { ...out[i]! }); // a record repeated
        break;
      case 2:
        out.splice(i, 0, { ...rng.pick(other) }); // a record of another poll
        break;
      case 3:
        out[i] = { ...out[i]!, direction: out[i]!.direction === 'rx' ? 'tx' : 'rx' };
        break;
      default: {
        const r = out[i]!;
        out[i] = { ...r, data: maybe(repair, mutate(r.data, rng.pick(other).data, rng), rng) };
      }
    }
    if (out.length === 0) out = [{ ...seed[0]! }];
  }
  return out;
}

const byteTarget = (name: string, covers: string, seeds: Buffer[], run: (b: Buffer, rng: Rng) => Point[], repair?: Repair): FuzzTarget<Buffer> => ({
  name,
  covers,
  seeds,
  mutate: (s, o, rng) => maybe(repair, mutate(s, o, rng), rng),
  run,
  size: (b) => b.length,
});

const recordTarget = (name: string, covers: string, driver: Driver, options: unknown, seeds: CaptureRecord[][], repair?: Repair): FuzzTarget<CaptureRecord[]> => {
  // Handles kept from input to input as in a backfill run (the capture-files target below
  // takes the per-call path); they go with the target's worker thread.
  const ctx = { ...ctxFor(driver, options), held: new HeldOpen() };
  return {
    name,
    covers,
    seeds,
    mutate: (s, o, rng) => mutateRecords(s, o, rng, repair),
    run: (records) => driver.decodeCapture!(records, ctx).points,
    size: (rs) => rs.reduce((n, r) => n + r.data.length, 0),
  };
};

/** Every PowerWalker decoder on one payload: each may refuse it with a FrameError. */
function powerwalkerPayload(payload: string): void {
  const all: ((p: string) => unknown)[] = [decodeStatus, (p) => decodePowers(p, 'QPW'), decodeEnergy, decodeCountdowns, decodeModel, decodeAts, decodeAtsStatus, decodeRatings, decodeProtocolId, decodeFirmware];
  for (const f of all) {
    try {
      assertFiniteDeep(f(payload), 'powerwalker');
    } catch (err) {
      if (!isTyped(err)) throw err;
    }
  }
}

/** Every VE.Bus reply decoder on one frame. */
function vebusFrame(f: vebus.VebusFrame): void {
  const all: ((f: vebus.VebusFrame) => unknown)[] = [
    vebus.decodeVersion,
    vebus.decodeAddress,
    vebus.decodeLeds,
    (x) => vebus.decodeAcInfo(x, DEFAULT_VAR_INFO),
    (x) => vebus.decodeDcInfo(x, DEFAULT_VAR_INFO),
    vebus.decodeVarInfo,
    vebus.decodeSnapshotRaw,
    (x) => vebus.decodeSnapshot(x, SNAPSHOT_IDS),
    vebus.decodeRamRead,
  ];
  for (const d of all) {
    try {
      const v = d(f);
      assertFiniteDeep(v, d.name);
    } catch (err) {
      if (!isTyped(err)) throw err;
    }
  }
}

/** Decoded values must be finite numbers (no Infinity scale, no NaN). */
export function assertFiniteDeep(v: unknown, where: string): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${where}: decoded a non-finite number ${v}`);
  } else if (v instanceof Map) for (const x of v.values()) assertFiniteDeep(x, where);
  else if (Array.isArray(v)) for (const x of v) assertFiniteDeep(x, where);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) assertFiniteDeep(x, where);
}

/** The Itho reply decoders on one frame of each class. */
function ithoFrame(frame: Buffer, layoutCodes: number[]): void {
  for (const kind of Object.keys(CLASSES) as MessageKind[]) {
    try {
      const payload = checkReply(frame, kind);
      const decoded =
        kind === 'nodeid'
          ? decodeNodeId(payload)
          : kind === 'serial'
            ? decodeSerial(payload)
            : kind === 'datatype'
              ? compileLayout(decodeDatatypeList(payload))
              : kind === 'datalog'
                ? decodeDatalog(payload, compileLayout(layoutCodes))
                : kind === 'setting'
                  ? decodeSetting(payload)
                  : kind === 'manual'
                    ? decodeManual(payload)
                    : decodeCounters(payload);
      assertFiniteDeep(decoded, kind);
    } catch (err) {
      if (!isTyped(err)) throw err;
    }
  }
}

/** All targets with their seeds; `dir` holds files some seeds need (the Itho map). */
export async function buildTargets(dir: string, fastDir: string): Promise<FuzzTarget<any>[]> {
  const dsmr = findDriver('dsmr-p1')!;
  const telegrams = p1Telegrams();
  const p1Meter = ctxFor(dsmr, { timestamps: 'meter' });
  const p1Options = dsmr.options.parse({ timestamps: 'meter', mode: 'every' });

  const polls: Record<string, CaptureRecord[][]> = {};
  for (const id of ['victron-vebus', 'hdhk', 'nut-ups', 'itho-wpu', 'powerwalker-pdu', 'powerwalker-ats']) polls[id] = await recordPolls(id, dir, 3);
  const rxOf = (id: string) => polls[id]!.flatMap((p) => p.filter((r) => r.direction === 'rx').map((r) => r.data));

  // HID: replies in 8-byte reports padded with NUL (docs/protocols/powerwalker.md §1.1).
  const hidStream = (replies: Buffer[]) => Buffer.concat(replies.flatMap((r) => Array.from({ length: Math.ceil(r.length / 8) }, (_, i) => Buffer.concat([r.subarray(i * 8, i * 8 + 8), Buffer.alloc(8)]).subarray(0, 8))));
  // Recorded by the simulators' sessions, and the golden folders' recordings from other projects.
  const pwReplies = [...rxOf('powerwalker-pdu'), ...rxOf('powerwalker-ats'), ...goldenFrames('powerwalker')];

  const ithoReplies = [...rxOf('itho-wpu'), ...goldenFrames('itho-wpu')];
  const datatypeReply = ithoReplies
    .map((r) =>
      (() => {
        try {
          return decodeDatatypeList(checkReply(r, 'datatype'));
        } catch {
          return undefined;
        }
      })(),
    )
    .find((x) => x);

  // Capture files: every driver's polls as the JSON lines `wattline decode` and backfill read.
  const captureFile = (driverId: string, groups: CaptureRecord[][], text: boolean) =>
    Buffer.from(
      groups.flatMap((g, cycle) => g.map((r) => formatCaptureLine({ timeMs: r.timeMs, device: 'fuzz', driver: driverId, cycle: text ? null : cycle, direction: r.direction, text, data: r.data }))).join('\n') + '\n',
    );
  const captureFiles: { driver: Driver; file: Buffer }[] = [
    { driver: dsmr, file: captureFile('dsmr-p1', [telegrams.slice(0, 4).map((t, i) => ({ timeMs: FIXED_NOW - 1000 * (4 - i), direction: 'rx' as const, data: t }))], true) },
    ...Object.entries(polls).map(([id, groups]) => ({ driver: findDriver(id)!, file: captureFile(id, groups, false) })),
  ];
  const fileCtx = new Map(captureFiles.map((c) => [c.driver.id, ctxFor(c.driver, sessionOptions(c.driver.id, dir))]));

  // With memos on LVAL rows: a proper chain (mutations make it loop) and a looping one.
  const parSeeds = [...accessFiles(), writeJet4(smallItho()), parWithLval('chain'), parWithLval('two-row-loop')];
  // The converter reads a file and fsyncs its map: fastDir is on tmpfs where there is one.
  const parIn = join(fastDir, 'fuzz.par');
  const parOut = join(fastDir, 'fuzz-map.sqlite');

  const targets: FuzzTarget<any>[] = [
    byteTarget(
      'dsmr-p1 framer + OBIS parser (live path, chunked)',
      'P1Framer.feed in serial-sized chunks → decodeTelegram → telegramToPoints',
      telegrams,
      (b, rng) => {
        const framer = new P1Framer(8192);
        const points: Point[] = [];
        const events = [...chunks(b, rng)].flatMap((c) => framer.feed(c));
        for (const ev of [...events, ...framer.flush()]) {
          if (ev.kind !== 'telegram') continue;
          points.push(...telegramToPoints(decodeTelegram(ev.text, { timezone: 'Europe/Amsterdam' }), { device: 'fuzz', tags: {}, options: p1Options, receivedAtMs: FIXED_NOW, problems: [] }));
        }
        return points;
      },
      repairP1,
    ),
    byteTarget('dsmr-p1 telegram log (decode/backfill)', "the driver's decode(): framer, OBIS parser, points, line numbers", telegrams, (b) => dsmr.decode!(b, p1Meter).points, repairP1),
    byteTarget(
      'victron-vebus framer + codec',
      'VebusFramer.feed in chunks → every reply decoder on every frame',
      [...rxOf('victron-vebus'), ...goldenFrames('victron-vebus')],
      (b, rng) => {
        const framer = new VebusFramer();
        for (const c of chunks(b, rng)) for (const ev of framer.feed(c)) if (ev.kind === 'frame') vebusFrame(ev.frame);
        try {
          vebusFrame(vebus.parseFrame(b));
        } catch (err) {
          if (!isTyped(err)) throw err;
        }
        return [];
      },
      repairVebus,
    ),
    recordTarget('victron-vebus poll captures', "decodeCapture: reply matching, 0x36 scales, the poll's points", findDriver('victron-vebus')!, sessionOptions('victron-vebus', dir), polls['victron-vebus']!, repairVebus),
    recordTarget('hdhk Modbus RTU poll captures', 'decodeCapture: FC03 request/reply frames, CRC, registers → points', findDriver('hdhk')!, sessionOptions('hdhk', dir), polls.hdhk!, repairModbus),
    recordTarget('powerwalker-pdu serial poll captures', 'decodeCapture: replies to QGS QPW QPVA QEC QSR QMD … → points', findDriver('powerwalker-pdu')!, {}, polls['powerwalker-pdu']!),
    recordTarget('powerwalker-ats serial poll captures', 'decodeCapture: ATS replies → points', findDriver('powerwalker-ats')!, {}, polls['powerwalker-ats']!),
    byteTarget('powerwalker HID reports', 'NUL-padded 8-byte reports → ReplyFramer → replyPayload → every PDU/ATS decoder', [hidStream(pwReplies), ...pwReplies], (b) => {
      const framer = new ReplyFramer();
      for (let i = 0; i < b.length; i += 8) {
        for (const frame of framer.push(b.subarray(i, i + 8))) {
          try {
            powerwalkerPayload(replyPayload(frame, 'FUZZ'));
          } catch (err) {
            if (!isTyped(err)) throw err;
          }
        }
      }
      return [];
    }),
    byteTarget('nut-ups line protocol', 'LineFramer → ListReader (LIST VAR) → decodeVariables → the ups point', rxOf('nut-ups').length > 0 ? [Buffer.concat(rxOf('nut-ups'))] : [], (b, rng) => {
      const framer = new LineFramer();
      const reader = new ListReader('VAR', 'demo');
      for (const c of chunks(b, rng)) {
        for (const line of framer.push(c)) {
          const out = reader.push(line);
          if (!out.done) continue;
          if (!out.ok) return [];
          const point = readingToPoint({ ups: 'demo', decoded: decodeVariables(out.entries), info: deviceInfo(out.entries), timeMs: FIXED_NOW }, { device: 'fuzz', tags: {}, infoTags: true });
          return point ? [point] : [];
        }
      }
      return [];
    }),
    recordTarget('nut-ups poll captures', 'decodeCapture: LIST VAR reply reassembled from chunks', findDriver('nut-ups')!, sessionOptions('nut-ups', dir), polls['nut-ups']!),
    byteTarget(
      'itho-wpu I2C replies (pigpio)',
      'checkReply for every class → node id, serial, datatype list, datalog, setting, manual, counters',
      ithoReplies,
      (b) => {
        ithoFrame(b, datatypeReply ?? []);
        return [];
      },
      repairItho,
    ),
    recordTarget('itho-wpu datalog captures', 'decodeCapture: replies + the parameter map → the datalog and counter points', findDriver('itho-wpu')!, sessionOptions('itho-wpu', dir), polls['itho-wpu']!, repairItho),
    {
      name: 'capture files (decode/backfill input)',
      covers: 'parseInput (JSON lines) → groupRecords → decodeGroup, for every driver',
      seeds: captureFiles,
      mutate: (s: { driver: Driver; file: Buffer }, o: { driver: Driver; file: Buffer }, rng: Rng) => ({ driver: s.driver, file: mutate(s.file, o.file, rng) }),
      run: (s: { driver: Driver; file: Buffer }) => {
        const parsed = parseInput(s.file, 'fuzz.jsonl', s.driver, 'fuzz');
        if (parsed.kind !== 'captures') return s.driver.decode ? s.driver.decode(parsed.data, fileCtx.get(s.driver.id)!).points : [];
        const points: Point[] = [];
        for (const g of groupRecords(s.driver, parsed.records)) points.push(...decodeGroup(s.driver, g, fileCtx.get(s.driver.id)!).points);
        return points;
      },
      size: (s: { file: Buffer }) => s.file.length,
      bytes: (s: { file: Buffer }) => s.file,
      timesFromInput: true,
    },
    byteTarget('.par converter (Access reader path)', 'convertPar: mdb-reader catalog, tables, columns, rows → the SQLite map', parSeeds, (b) => {
      writeFileSync(parIn, b);
      convertPar(parIn, { out: parOut, force: true });
      return [];
    }),
  ];
  return targets.filter((t) => t.seeds.length > 0);
}
