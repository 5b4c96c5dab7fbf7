/**
 * Zone offsets from the system's tz database (src/core/zone.ts) against Intl/ICU, the
 * reference the P1 codec used before: every 6 hours for two years on both sides of now, every
 * 4 days from 1975 to the end of next year, and the hours around each change. The POSIX rule
 * of each file's footer (what answers after its last transition) against the same file's own
 * transitions for 2020-2037, so a rule change announced after node's ICU was built cannot fail
 * the test. Zones: both hemispheres, negative DST (Dublin), half and quarter hours, 30-minute
 * DST (Lord Howe), a zone that dropped DST (Sao Paulo), none at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intlOffsetMs, isTimeZone, parsePosixTz, parseTzif, ruleOffset, zoneOffsetMs } from '../../src/core/zone.js';
import { decodeTelegram } from '../../src/devices/dsmr-p1/codec.js';
import { p1OptionsSchema } from '../../src/devices/dsmr-p1/config.js';
import { P1Simulator } from '../../src/simulators/dsmr-p1.js';
import { DSMR5_NL } from '../../src/simulators/dsmr-p1-recordings.js';

const ZONES = [
  'Europe/Amsterdam',
  'Europe/Stockholm',
  'Europe/London',
  'Europe/Dublin',
  'America/New_York',
  'America/St_Johns',
  'America/Sao_Paulo',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'UTC',
  'Etc/GMT+5',
];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const hasTzdata = existsSync('/usr/share/zoneinfo/Europe/Amsterdam');

test('system tz database and Intl give the same offsets (1975 to next year, both hemispheres, negative DST)', { skip: !hasTzdata && 'no /usr/share/zoneinfo on this machine' }, () => {
  const now = Date.now();
  for (const zone of ZONES) {
    const instants: number[] = [];
    for (let t = now - 2 * 365 * DAY; t < now + 2 * 365 * DAY; t += 6 * HOUR + 17_000) instants.push(t);
    for (let t = Date.UTC(1975, 0, 1); t < Date.UTC(new Date(now).getUTCFullYear() + 2, 0, 1); t += 4 * DAY + 7 * HOUR) instants.push(t);
    let checked = 0;
    for (const t of instants) {
      const ours = zoneOffsetMs(zone, t);
      const intl = intlOffsetMs(zone, t);
      assert.equal(ours, intl, `${zone} at ${new Date(t).toISOString()}`);
      // Around a change: every 15 minutes for 4 hours on both sides.
      if (zoneOffsetMs(zone, t - 6 * HOUR - 17_000) !== ours) {
        for (let u = t - 10 * HOUR; u < t + 4 * HOUR; u += 15 * 60_000) assert.equal(zoneOffsetMs(zone, u), intlOffsetMs(zone, u), `${zone} at ${new Date(u).toISOString()}`);
      }
      checked++;
    }
    assert.ok(checked > 10_000);
  }
});

test("each file's POSIX footer rule gives the offsets of the file's own transitions, 2020-2037", { skip: !hasTzdata && 'no /usr/share/zoneinfo on this machine' }, () => {
  for (const zone of ZONES) {
    const z = parseTzif(readFileSync(join('/usr/share/zoneinfo', zone)));
    assert.ok(z?.rule, `${zone}: a v2+ file with a footer`);
    const last = z.times.at(-1) ?? 0;
    let checked = 0;
    for (let t = Date.UTC(2020, 0, 1) / 1000; t < Math.min(last, Date.UTC(2038, 0, 1) / 1000); t += 30 * 60) {
      const tabled = zoneOffsetMs(zone, t * 1000) / 1000;
      assert.equal(ruleOffset(z.rule, t), tabled, `${zone} at ${new Date(t * 1000).toISOString()}`);
      checked++;
    }
    if (z.times.length > 0 && last > Date.UTC(2030, 0, 1) / 1000) assert.ok(checked > 300_000, `${zone}: ${checked}`);
  }
});

test('known offsets: Amsterdam summer/winter, Kathmandu +05:45, Dublin winter is its DST', { skip: !hasTzdata && 'no /usr/share/zoneinfo on this machine' }, () => {
  assert.equal(zoneOffsetMs('Europe/Amsterdam', Date.parse('2026-07-01T12:00:00Z')), 2 * HOUR);
  assert.equal(zoneOffsetMs('Europe/Amsterdam', Date.parse('2026-12-01T12:00:00Z')), HOUR);
  // 2026-03-29 01:00 UTC: clocks go from 02:00 to 03:00 in Amsterdam.
  assert.equal(zoneOffsetMs('Europe/Amsterdam', Date.parse('2026-03-29T00:59:59Z')), HOUR);
  assert.equal(zoneOffsetMs('Europe/Amsterdam', Date.parse('2026-03-29T01:00:00Z')), 2 * HOUR);
  assert.equal(zoneOffsetMs('Asia/Kathmandu', Date.parse('2026-01-01T00:00:00Z')), 5.75 * HOUR);
  assert.equal(zoneOffsetMs('Europe/Dublin', Date.parse('2090-01-15T00:00:00Z')), 0);
  assert.equal(zoneOffsetMs('Europe/Dublin', Date.parse('2090-07-15T00:00:00Z')), HOUR);
});

test('a P1 worker (config, demo meter, decoding its timestamps) makes no Intl.DateTimeFormat: the first maps ~6.4 MB of ICU data', { skip: !hasTzdata && 'no /usr/share/zoneinfo on this machine' }, async () => {
  const Original = Intl.DateTimeFormat;
  let made = 0;
  Intl.DateTimeFormat = new Proxy(Original, {
    construct(target, args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
      made++;
      return new target(...args);
    },
  });
  try {
    const options = p1OptionsSchema.parse({ timezone: 'Europe/Stockholm', timestamps: 'meter' });
    const bytes: Buffer[] = [];
    const sim = new P1Simulator({ write: async (b: Buffer) => void bytes.push(b), close: async () => {} }, { telegrams: [DSMR5_NL], vary: true, now: () => Date.UTC(2026, 9, 25, 0, 30), timezone: 'Europe/Stockholm' });
    await sim.tick();
    const text = Buffer.concat(bytes).toString('latin1');
    assert.match(text, /0-0:1\.0\.0\(261025023000S\)/, 'the demo meter writes Stockholm summer time');
    const t = decodeTelegram(text, { timezone: options.timezone });
    assert.equal(t.meterTime, Date.UTC(2026, 9, 25, 0, 30));
  } finally {
    Intl.DateTimeFormat = Original;
  }
  assert.equal(made, 0);
});

test('POSIX TZ footers: rules, names in <>, negative DST, all-year rules', () => {
  assert.deepEqual(parsePosixTz('CET-1CEST,M3.5.0,M10.5.0/3'), {
    std: 3600,
    dst: { offset: 7200, start: { kind: 'M', month: 3, week: 5, weekday: 0, time: 7200 }, end: { kind: 'M', month: 10, week: 5, weekday: 0, time: 10800 } },
  });
  assert.deepEqual(parsePosixTz('<+0545>-5:45'), { std: 20_700 });
  assert.deepEqual(parsePosixTz('IST-1GMT0,M10.5.0,M3.5.0/1')?.dst?.offset, 0);
  assert.deepEqual(parsePosixTz('<-02>2<-01>,M3.5.0/-1,M10.5.0/0')?.dst?.start, { kind: 'M', month: 3, week: 5, weekday: 0, time: -3600 });
  assert.deepEqual(parsePosixTz('EST5EDT,0/0,J365/25')?.dst?.end, { kind: 'J', day: 365, time: 90_000 });
  assert.equal(parsePosixTz('CET-1CEST,M3.5.0'), undefined);
  assert.equal(parsePosixTz('1'), undefined);
});

test('a file that is not TZif, a path instead of a name, an unknown zone: Intl answers or it is not a zone', () => {
  assert.equal(parseTzif(Buffer.from('not a tz file at all, but long enough to have a header of 44 bytes')), undefined);
  assert.equal(isTimeZone('../../etc/passwd'), false);
  assert.equal(isTimeZone('Europe/Atlantis'), false);
  assert.throws(() => zoneOffsetMs('Europe/Atlantis', 0), RangeError);
  // Intl's spelling rules (any case) still hold where no file has that name.
  assert.equal(isTimeZone('europe/amsterdam'), true);
  assert.equal(zoneOffsetMs('europe/amsterdam', Date.parse('2026-07-01T12:00:00Z')), 2 * HOUR);
});

test('TZDIR: a zone file of our own making is read (v2, one transition, then a footer rule)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-tzdir-'));
  const saved = process.env.TZDIR;
  try {
    writeFileSync(join(dir, 'Test_Zone'), tzif(Date.UTC(2000, 0, 1) / 1000, 'XST-3XDT,M4.1.0,M9.1.0'));
    process.env.TZDIR = dir;
    assert.equal(zoneOffsetMs('Test_Zone', Date.UTC(1999, 6, 1)), 2 * HOUR, 'before the transition: type 0');
    assert.equal(zoneOffsetMs('Test_Zone', Date.UTC(2030, 0, 15)), 3 * HOUR, 'after it, winter: the footer');
    assert.equal(zoneOffsetMs('Test_Zone', Date.UTC(2030, 5, 15)), 4 * HOUR, 'after it, summer: the footer');
  } finally {
    if (saved === undefined) delete process.env.TZDIR;
    else process.env.TZDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A minimal TZif v2: empty v1 block, then one transition from +02:00 (type 0) to +03:00 (type 1), and `footer`. */
function tzif(transition: number, footer: string): Buffer {
  const header = (timecnt: number, typecnt: number, charcnt: number) => {
    const h = Buffer.alloc(44);
    h.write('TZif2', 0, 'latin1');
    [0, 0, 0, timecnt, typecnt, charcnt].forEach((n, i) => h.writeUInt32BE(n, 20 + 4 * i));
    return h;
  };
  const v1 = Buffer.concat([header(0, 1, 1), Buffer.from([0, 0, 0x1c, 0x20, 0, 0]), Buffer.from([0])]);
  const time = Buffer.alloc(8);
  time.writeBigInt64BE(BigInt(transition));
  const types = Buffer.alloc(12);
  types.writeInt32BE(7200, 0);
  types.writeInt32BE(10_800, 6);
  const v2 = Buffer.concat([header(1, 2, 1), time, Buffer.from([1]), types, Buffer.from([0]), Buffer.from(`\n${footer}\n`, 'latin1')]);
  return Buffer.concat([v1, v2]);
}
