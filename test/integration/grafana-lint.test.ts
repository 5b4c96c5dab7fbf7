/**
 * The rules every dashboard in grafana/ keeps, read from the JSON files users import (no Grafana
 * runs here: the queries themselves run against a real influxd in grafana-dashboards.test.ts):
 * a unit for every series (the one the producing driver's field metadata declares, where it
 * declares one), a minimum interval, per-device grouping or a declared sum, the
 * device/site/host variables, fields that the simulated devices really produce, no hard-coded
 * datasource, no deprecated panel types, and the files equal to what scripts/dashboards writes.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS, dashboardText } from '../../scripts/dashboards/build.js';
import { drivers } from '../../src/devices/index.js';
import { byName, declaredField } from '../../src/devices/fields.js';
import { ROOT } from '../helpers/paths.js';
import { simulatedLines } from '../helpers/simulated-lines.js';

interface Target {
  refId: string;
  query: string;
  alias?: string;
  rawQuery?: boolean;
  datasource?: { uid?: string };
}
interface Override {
  matcher: { id: string; options: string };
  properties: { id: string; value: unknown }[];
}
interface Panel {
  id: number;
  type: string;
  title: string;
  interval?: string;
  datasource?: { uid?: string };
  fieldConfig?: { defaults?: { unit?: string }; overrides?: Override[] };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query?: string; datasource?: { uid?: string } }[] };
  panels: Panel[];
}

/** The workers' own dashboard (self-metrics), made by hand and checked by grafana-wattline.test.ts. */
const HAND_MADE = ['wattline.json'];
const files = readdirSync(join(ROOT, 'grafana')).filter((f) => f.endsWith('.json') && !HAND_MADE.includes(f));
const read = (file: string) => JSON.parse(readFileSync(join(ROOT, 'grafana', file), 'utf8')) as Dashboard;
/** measurement → the fields the simulated devices give it. */
const produced = new Map<string, Set<string>>();

before(async () => {
  for (const line of await simulatedLines('lint')) {
    const set = produced.get(line.measurement) ?? new Set<string>();
    for (const f of Object.keys(line.fields)) set.add(f);
    produced.set(line.measurement, set);
  }
});

test('every dashboard file is one scripts/dashboards writes, byte for byte (edit the spec, then npm run dashboards)', () => {
  assert.deepEqual(files.sort(), Object.keys(DASHBOARDS).sort());
  for (const [file, spec] of Object.entries(DASHBOARDS)) {
    assert.equal(readFileSync(join(ROOT, 'grafana', file), 'utf8'), dashboardText(spec), `grafana/${file} differs from scripts/dashboards`);
  }
});

/** The metadata's units (src/devices/<id>/fields.ts) as Grafana unit ids. */
const GRAFANA_UNIT: Record<string, string> = { W: 'watt', V: 'volt', A: 'amp', VA: 'voltamp', kWh: 'kwatth', Hz: 'hertz', '°C': 'celsius', '%': 'percent', s: 's', 'm³': 'm3' };

/**
 * The unit the producing driver declares for the one field a series shows (its innermost SELECT
 * is `agg("field")`, maybe inside a difference), or undefined for expressions and unknown fields.
 */
function declaredUnit(q: string): { field: string; unit: string } | undefined {
  const selects = [...q.matchAll(/SELECT (.+?) AS "[^"]*" FROM "([^"]+)"/g)];
  const last = selects[selects.length - 1];
  if (!last) return undefined;
  const m = /^(?:non_negative_difference\()?(?:mean|last|max|min|spread)\("([^"]+)"\)\)?$/.exec(last[1]!);
  if (!m) return undefined;
  const measurement = last[2]!;
  const field = m[1]!;
  const driver = drivers.find((d) => d.fields?.measurements[measurement]);
  // A driver's own declaration (even one without a unit: the Itho map's names are no suffixes) wins.
  const spec = driver ? declaredField(driver.fields!.measurements[measurement], field) : byName(field);
  if (!spec) return undefined;
  return spec.unit ? { field: `${measurement}.${field}`, unit: spec.unit } : undefined;
}

/** The measurement and the fields a query reads (`"field"` inside an aggregate). */
function namesIn(q: string): { measurements: string[]; fields: string[] } {
  const measurements = [...q.matchAll(/FROM "([^"]+)"/g)].map((m) => m[1]!);
  const fields = [...q.matchAll(/\b(?:mean|last|max|min|sum|spread|first|count)\("([^"]+)"\)/g)].map((m) => m[1]!).filter((f) => f !== 'value');
  return { measurements, fields };
}

for (const file of files) {
  test(`grafana/${file}: every panel keeps the dashboard rules`, () => {
    const dash = read(file);
    const problems: string[] = [];
    assert.ok(dash.schemaVersion >= 39, `schemaVersion ${dash.schemaVersion}: Grafana 10.4/11 write 39 or later`);
    const vars = dash.templating.list;
    for (const name of ['datasource', 'device', 'site', 'host']) if (!vars.some((v) => v.name === name)) problems.push(`no $${name} variable`);
    for (const v of vars) if (v.datasource?.uid !== undefined && v.datasource.uid !== '${datasource}') problems.push(`variable ${v.name}: datasource uid ${v.datasource.uid} is hard-coded`);

    for (const p of dash.panels) {
      const where = `panel "${p.title}"`;
      if (['graph', 'singlestat', 'table-old'].includes(p.type)) problems.push(`${where}: deprecated panel type ${p.type}`);
      if (p.datasource?.uid !== '${datasource}') problems.push(`${where}: datasource uid ${p.datasource?.uid} is not \${datasource}`);
      if (!p.interval) problems.push(`${where}: no minimum interval`);
      const defaultUnit = p.fieldConfig?.defaults?.unit;
      for (const t of p.targets ?? []) {
        const at = `${where} target ${t.refId}`;
        if (t.datasource?.uid !== '${datasource}') problems.push(`${at}: datasource uid is hard-coded`);
        if (t.rawQuery !== true) problems.push(`${at}: not raw InfluxQL, so not checkable`);
        const override = p.fieldConfig?.overrides?.find((o) => o.matcher.id === 'byFrameRefID' && o.matcher.options === t.refId)?.properties.find((x) => x.id === 'unit');
        const unit = override?.value ?? defaultUnit;
        if (typeof unit !== 'string' || unit === '') problems.push(`${at}: no unit`);
        // The unit the driver declares for the field (docs/fields.md) is the one the panel shows.
        const declared = declaredUnit(t.query);
        const want = declared && GRAFANA_UNIT[declared.unit];
        if (want && unit !== want) problems.push(`${at}: ${declared.field} is in ${declared.unit} (the driver's metadata), shown as ${String(unit)}`);
        if (!t.alias || /\b(mean|last|max)\b/.test(t.alias)) problems.push(`${at}: legend "${t.alias}" is not in words`);
        if (t.query.includes('$device')) {
          // The outermost grouping decides (a sum's inner query groups by device on its way).
          const grouped = t.query.slice(t.query.lastIndexOf('GROUP BY')).includes('"device"');
          const declaredSum = /\bsum\("value"\)/.test(t.query) && /\bsum\b/i.test(p.title);
          if (!grouped && !declaredSum) problems.push(`${at}: filtered by $device but neither grouped by device nor a sum the title names`);
        }
        if (!t.query.includes('$site') || !t.query.includes('$host')) problems.push(`${at}: not filtered by $site and $host`);
        const { measurements, fields } = namesIn(t.query);
        for (const m of measurements) {
          const have = produced.get(m);
          if (!have) {
            problems.push(`${at}: measurement ${m} is not produced by any simulated device`);
            continue;
          }
          for (const f of fields) if (!have.has(f)) problems.push(`${at}: field ${m}.${f} is not produced by the simulated devices`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
}
