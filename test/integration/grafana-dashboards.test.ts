/**
 * Every dashboard under grafana/ is checked without Grafana (none runs here): its InfluxQL
 * queries, with Grafana's macros and variables expanded as Grafana would, run against a real
 * influxd 1.6.7 holding hours of history: one collection of every simulated device (the real
 * `wattline test`) written again at the family's poll period into the past, for two devices of
 * each family, with a 10-minute outage. Each query must return data at the dashboard's default
 * range and at 15 minutes, with few null buckets outside the outage, and the per-day energy bars
 * must equal the counters' difference per day, computed here independently.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDatabase, query, startInfluxd, type Influxd, type Series } from '../helpers/influxd.js';
import { ROOT } from '../helpers/paths.js';
import { simulatedLines, type ParsedLine } from '../helpers/simulated-lines.js';

interface Target {
  refId: string;
  query: string;
}
interface Panel {
  title: string;
  interval: string;
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query?: string;
  current?: { value?: string };
  allValue?: string;
}
interface Dashboard {
  title: string;
  time: { from: string };
  templating: { list: Variable[] };
  panels: Panel[];
}

const DB = 'dashboards';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Math.floor(Date.now() / 10_000) * 10_000;
/** The outage: no device wrote anything for these ten minutes. */
const GAP = { from: NOW - 3 * HOUR - 10 * 60_000, to: NOW - 3 * HOUR };
const TZ = 'Europe/Amsterdam';

/** How far back each measurement's history goes and at which poll period (ms). */
function history(measurement: string): { periods: { from: number; to: number; every: number }[] } {
  if (measurement === 'p1' || measurement === 'p1_mbus') {
    // Eight and a half days at one reading a minute, then the last 8 hours at the dashboard's 10 s:
    // the local day before the 7-day range's first day always has data, so the first day has its
    // bar at any hour of the run (from 7.5 days, it had none in the afternoon, Amsterdam time).
    return {
      periods: [
        { from: NOW - 8.5 * DAY, to: NOW - 8 * HOUR, every: 60_000 },
        { from: NOW - 8 * HOUR, to: NOW, every: 10_000 },
      ],
    };
  }
  if (measurement.startsWith('itho_wpu')) return { periods: [{ from: NOW - 26 * HOUR, to: NOW, every: 60_000 }] };
  return { periods: [{ from: NOW - 6.5 * HOUR, to: NOW, every: 10_000 }] };
}

const isCounter = (field: string) => field.endsWith('_kwh') || field.endsWith('_m3');
/**
 * A cumulative counter, always rising: a daily rhythm (more by day than by night) on a use that
 * grows from day to day, so that each day's total differs and a day boundary an hour off shows.
 */
function counter(base: number, tMs: number, scale: number): number {
  const h = (tMs - (NOW - 9 * DAY)) / HOUR;
  return base + scale * (0.5 * h + 0.005 * h * h - ((0.4 * 24) / (2 * Math.PI)) * Math.cos((2 * Math.PI * tMs) / DAY));
}
const round = (x: number) => Number(x.toFixed(4));

/** Every generated counter sample, per series key, for the independent per-day check. */
const samples = new Map<string, { t: number; v: number }[]>();

function synthesize(line: ParsedLine, device: string, scale: number, tMs: number): string {
  const tags: Record<string, string> = { ...line.tags, device };
  const fields: string[] = [];
  for (const [name, token] of Object.entries(line.fields)) {
    let text = token;
    if (/^-?[\d.]+(e[-+]?\d+)?$/i.test(token)) {
      const base = Number(token);
      const value = isCounter(name) ? round(Math.max(base, 1) + counter(0, tMs, scale)) : round(base * scale * (1 + 0.05 * Math.sin(tMs / 600_000 + name.length)));
      text = String(value);
      if (isCounter(name)) {
        const key = `${line.measurement}/${device}/${tags.mbus_type ?? ''}/${name}`;
        const list = samples.get(key) ?? [];
        list.push({ t: tMs, v: value });
        samples.set(key, list);
      }
    }
    fields.push(`${name}=${text}`);
  }
  const tagText = Object.entries(tags)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${line.measurement},${tagText} ${fields.join(',')} ${tMs}`;
}

let influxd: Influxd;

before(async () => {
  influxd = await startInfluxd();
  await createDatabase(influxd.url, DB);
  const lines = await simulatedLines('dash');
  // A water meter on the second P1 device (the simulated meter has gas only).
  const gas = lines.find((l) => l.measurement === 'p1_mbus' && l.tags.mbus_type === 'gas');
  assert.ok(gas, 'the simulated P1 meter has a gas reading');
  const water: ParsedLine = { ...gas, tags: { ...gas.tags, mbus_type: 'water', channel: '2' } };

  let batch: string[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const res = await fetch(`${influxd.url}/write?db=${DB}&precision=ms`, { method: 'POST', body: batch.join('\n') });
    assert.equal(res.status, 204, await res.text());
    batch = [];
  };
  for (const [suffix, scale] of [
    ['', 1],
    ['-2', 1.3],
  ] as const) {
    for (const line of suffix ? [...lines, water] : lines) {
      const device = `${line.tags.device}${suffix}`;
      for (const p of history(line.measurement).periods) {
        // One reading a poll period, 1 s into it, so each bucket of that size holds one.
        for (let t = Math.ceil(p.from / p.every) * p.every + 1000; t < p.to; t += p.every) {
          if (t >= GAP.from && t < GAP.to) continue;
          batch.push(synthesize(line, device, scale, t));
          if (batch.length >= 5000) await flush();
        }
      }
    }
  }
  await flush();
});

after(async () => {
  await influxd?.stop();
});

// wattline.json shows the workers themselves (self-metrics): grafana-wattline.test.ts checks it.
const files = readdirSync(join(ROOT, 'grafana')).filter((f) => f.endsWith('.json') && f !== 'wattline.json');
const read = (file: string) => JSON.parse(readFileSync(join(ROOT, 'grafana', file), 'utf8')) as Dashboard;

const UNIT: Record<string, number> = { s: 1000, m: 60_000, h: HOUR, d: DAY };
const ms = (text: string) => Number(text.slice(0, -1)) * UNIT[text.slice(-1)]!;
/** Grafana rounds range / width to one of these, never below the panel's minimum interval. */
const NICE = ['1s', '2s', '5s', '10s', '15s', '30s', '1m', '2m', '5m', '10m', '15m', '30m', '1h', '3h', '6h', '12h', '1d'];
function intervalFor(rangeMs: number, minInterval: string): string {
  const raw = rangeMs / 1000;
  const nice = NICE.find((n) => ms(n) >= raw) ?? '1d';
  return ms(nice) >= ms(minInterval) ? nice : minInterval;
}

function variables(dash: Dashboard, devices: readonly string[]): Record<string, string> {
  const out: Record<string, string> = { device: `(${devices.map((d) => d.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})` };
  for (const v of dash.templating.list) {
    if (v.name === 'site' || v.name === 'host') out[v.name] = v.allValue ?? '.*';
    else if (v.type === 'textbox' || v.type === 'custom') out[v.name] = v.current?.value ?? v.query ?? '';
  }
  return out;
}

function expand(q: string, vars: Record<string, string>, range: { from: number; to: number }, interval: string): string {
  let out = q.replaceAll('$timeFilter', `time >= ${range.from}ms AND time <= ${range.to}ms`).replaceAll('$__interval', interval);
  for (const name of Object.keys(vars).sort((a, b) => b.length - a.length)) out = out.replaceAll(`$${name}`, vars[name]!);
  return out;
}

const values = (s: Series) => s.values.map((row) => ({ t: Date.parse(String(row[0])), v: row[1] }));

for (const file of files) {
  test(`grafana/${file}: every query returns data at the default range and at 15 minutes, few null buckets outside the outage`, async () => {
    const dash = read(file);
    const deviceVar = dash.templating.list.find((v) => v.name === 'device');
    assert.ok(deviceVar?.query, 'a device variable');
    const devices = [...new Set((await query(influxd.url, DB, deviceVar.query)).flatMap((s) => s.values.map((row) => String(row[1]))))];
    assert.ok(devices.length >= 2, `two devices of the family: ${devices.join(', ')}`);
    const vars = variables(dash, devices);
    const defaultRange = ms(dash.time.from.replace('now-', ''));
    const problems: string[] = [];
    for (const rangeMs of [defaultRange, 15 * 60_000]) {
      const range = { from: NOW - rangeMs, to: NOW };
      for (const panel of dash.panels) {
        const minInterval = panel.interval.startsWith('$') ? vars[panel.interval.slice(1)]! : panel.interval;
        const interval = intervalFor(rangeMs, minInterval);
        for (const t of panel.targets ?? []) {
          const q = expand(t.query, vars, range, interval);
          const where = `${file} "${panel.title}" ${t.refId} at ${rangeMs / 60_000} min`;
          let series: Series[];
          try {
            series = await query(influxd.url, DB, q);
          } catch (e) {
            problems.push(`${where}: ${(e as Error).message}`);
            continue;
          }
          const numbers = series.flatMap(values).filter((x) => typeof x.v === 'number');
          // Per-day bars of a 15-minute range may hold no finished day: nothing to draw is right.
          if (!numbers.length && !(interval === '1d' && rangeMs < DAY)) problems.push(`${where}: no numbers: ${q}`);
          if (!q.includes('fill(null)')) continue;
          const step = ms(interval);
          for (const s of series) {
            const inside = values(s).filter((x) => x.t > range.from && x.t + step < range.to && !(x.t + step > GAP.from && x.t < GAP.to));
            const nulls = inside.filter((x) => x.v === null).length;
            if (inside.length && nulls / inside.length > 0.1) problems.push(`${where}: ${nulls} of ${inside.length} buckets null (${JSON.stringify(s.tags)})`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });
}

/** The local date (in the dashboard's day zone) of a time. */
const day = (t: number) => new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(t);

test("grafana/p1.json: the per-day energy, gas and water bars equal each day's counter difference, midnight to midnight in the tz variable's zone", async () => {
  const dash = read('p1.json');
  const vars = variables(dash, ['dash-dsmr-p1', 'dash-dsmr-p1-2']);
  assert.equal(vars.tz, TZ);
  const range = { from: NOW - 7 * DAY, to: NOW };
  let checked = 0;
  for (const panel of dash.panels.filter((p) => p.interval === '1d')) {
    for (const t of panel.targets ?? []) {
      const field = /last\("([^"]+)"\)/.exec(t.query)![1]!;
      const measurement = /FROM "([^"]+)"/.exec(t.query)![1]!;
      const mbus = /"mbus_type" = '([^']+)'/.exec(t.query)?.[1] ?? '';
      for (const s of await query(influxd.url, DB, expand(t.query, vars, range, '1d'))) {
        const device = s.tags!.device!;
        const list = samples.get(`${measurement}/${device}/${mbus}/${field}`);
        assert.ok(list, `samples of ${device} ${field}`);
        // Independently: the last sample of each local day. InfluxDB reads one bucket before the
        // range for a difference, so the first day of the range has its bar too.
        const lastOfDay = new Map<string, number>();
        for (const x of list) if (x.t <= range.to) lastOfDay.set(day(x.t), x.v);
        const days = [...lastOfDay.keys()];
        const got = values(s).filter((x) => x.v !== null);
        assert.ok(got.length >= 7, `${panel.title} ${device}: ${got.length} days`);
        for (const x of got) {
          const d = day(x.t);
          const prev = days[days.indexOf(d) - 1];
          assert.ok(prev, `${panel.title} ${device}: a bar for ${d}, before any data`);
          const expected = lastOfDay.get(d)! - lastOfDay.get(prev)!;
          assert.ok(Math.abs((x.v as number) - expected) < 1e-6, `${panel.title} ${device} ${d}: ${x.v} vs ${expected}`);
          checked++;
        }
      }
    }
  }
  assert.ok(checked >= 7 * 2 * 6, `${checked} day bars checked`);
});
