/**
 * The driver registry is complete (docs/adding-a-driver.md): every folder under src/devices/ is a
 * registered driver, a protocol family several drivers share, or the kit/blueprint; every driver
 * has a README with an example line, a simulator, field metadata and a dashboard; its files use
 * the one vocabulary; and the metadata covers every field its simulated device emits (each demo
 * device collected once, through the project's own simulators).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { declaredField, declaredFields } from '../../src/devices/fields.js';
import { drivers } from '../../src/devices/index.js';
import type { FieldSpec } from '../../src/devices/types.js';
import { demoDevices } from '../../src/simulators/index.js';
import { collectDemoPoints } from '../helpers/demo-points.js';
import { ROOT } from '../helpers/paths.js';
import { DASHBOARDS } from '../../scripts/dashboards/build.js';

/** Folders that hold a protocol family's shared code, not a driver of their own. */
const PROTOCOL_FAMILIES = ['powerwalker'];
/** Shared code and the folder to copy, registered nowhere (docs/adding-a-driver.md). */
const NOT_DRIVERS = ['kit', '_blueprint'];
/** A driver folder's file names: a role, or a part of one (`codec-values.ts`); docs/adding-a-driver.md, "One vocabulary". */
const ROLES = ['index', 'config', 'tables', 'framer', 'link', 'codec', 'session', 'points', 'fields', 'capture', 'control', 'errors', 'cache'];
const VOCABULARY = new RegExp(`^(?:${ROLES.join('|')})(?:-[a-z0-9]+)*\\.ts$`);
/** Renames proposed in docs/adding-a-driver.md, not made yet (other work held these folders). */
const VOCABULARY_PENDING: string[] = [];
/** Quantities that carry no unit. */
const UNITLESS = new Set(['count', 'number', 'state', 'flag', 'text', 'power_factor']);

const DEVICES = join(ROOT, 'src/devices');
const folders = readdirSync(DEVICES).filter((f) => statSync(join(DEVICES, f)).isDirectory());

test('registry: every driver folder is registered, every registered driver has a folder with a README and a simulator', () => {
  const ids = drivers.map((d) => d.id);
  assert.deepEqual(
    folders.filter((f) => !ids.includes(f) && !PROTOCOL_FAMILIES.includes(f) && !NOT_DRIVERS.includes(f)),
    [],
    'folders that are neither a registered driver, a protocol family, nor the kit or blueprint',
  );
  assert.ok(!ids.some((id) => NOT_DRIVERS.includes(id)), 'the kit and the blueprint are registered nowhere');
  const simulated = demoDevices().map((d) => d.driver);
  for (const id of ids) {
    assert.ok(folders.includes(id), `${id}: no folder src/devices/${id}`);
    assert.ok(existsSync(join(DEVICES, id, 'README.md')), `${id}: no README.md`);
    assert.ok(simulated.includes(id), `${id}: no simulator in src/simulators/index.ts`);
  }
});

test('registry: every driver folder (and its protocol family, and the blueprint) names its files in the one vocabulary', () => {
  for (const f of folders.filter((x) => x !== 'kit' && !VOCABULARY_PENDING.includes(x))) {
    const odd = readdirSync(join(DEVICES, f)).filter((n) => n !== 'README.md' && !VOCABULARY.test(n));
    assert.deepEqual(odd, [], `src/devices/${f}: files outside the vocabulary (${ROLES.join(', ')}, or <role>-<part>.ts)`);
  }
});

test('registry: every driver README shows an example line of one of its measurements', () => {
  for (const d of drivers) {
    const readme = readFileSync(join(DEVICES, d.id, 'README.md'), 'utf8');
    const measurements = Object.keys(d.fields?.measurements ?? {});
    const example = readme.split('\n').some((line) => measurements.some((m) => line.startsWith(`${m},`) && / \S+=\S/.test(line)));
    assert.ok(example, `${d.id}: README.md has no line-protocol example of ${measurements.join(' or ')}`);
  }
});

test('registry: every driver has a dashboard (scripts/dashboards/) that charts one of its measurements', () => {
  const charted = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'measurement' && typeof x === 'string') charted.add(x);
        else walk(x);
      }
    }
  };
  walk(Object.values(DASHBOARDS));
  for (const d of drivers) {
    const measurements = Object.keys(d.fields?.measurements ?? {});
    assert.ok(
      measurements.some((m) => charted.has(m)),
      `${d.id}: no dashboard in scripts/dashboards/ charts ${measurements.join(' or ')}`,
    );
  }
});

test('registry: every declared field has a unit or is a count, number, state, flag, text or power factor, and its range and words fit its quantity', () => {
  const check = (where: string, spec: FieldSpec) => {
    assert.ok(spec.unit !== undefined || UNITLESS.has(spec.quantity), `${where}: quantity ${spec.quantity} needs a unit`);
    if (spec.unit !== undefined) assert.ok(!UNITLESS.has(spec.quantity), `${where}: a ${spec.quantity} has no unit`);
    if (spec.min !== undefined && spec.max !== undefined) assert.ok(spec.min < spec.max, `${where}: min ${spec.min} ≥ max ${spec.max}`);
    if (spec.states) assert.ok(spec.quantity === 'state' || spec.quantity === 'flag', `${where}: state words on a ${spec.quantity}`);
    if (spec.flag) assert.equal(spec.quantity, 'flag', `${where}: a flag meaning on a ${spec.quantity}`);
  };
  for (const d of drivers) {
    assert.ok(d.fields, `${d.id}: no field metadata (src/devices/${d.id}/fields.ts)`);
    assert.ok(Object.keys(d.fields.measurements).length > 0, `${d.id}: no measurement declared`);
    for (const [m, f, spec] of declaredFields(d.fields)) check(`${d.id} ${m}.${f}`, spec);
    for (const [m, mf] of Object.entries(d.fields.measurements)) for (const [re, spec] of mf.patterns ?? []) if (typeof spec !== 'function') check(`${d.id} ${m} ${re}`, spec);
  }
});

test('registry: the MQTT entities a driver declares name control verbs it has', () => {
  for (const d of drivers) {
    for (const e of d.fields?.entities ?? []) {
      const verbs = e.component === 'switch' ? [e.onVerb, e.offVerb] : [e.verb];
      for (const v of verbs)
        assert.ok(
          d.control?.verbs.some((x) => x.name === v),
          `${d.id}: entity ${e.path} uses verb ${v}, which the driver does not offer`,
        );
      const m = e.component === 'switch' ? e.measurement : e.stateFrom?.measurement;
      if (m) assert.ok(d.fields!.measurements[m], `${d.id}: entity ${e.path} reads measurement ${m}, which the driver does not declare`);
    }
  }
});

test('registry (through the simulators): every measurement and field each simulated device emits is declared by its driver', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wl-registry-'));
  try {
    const reports = await collectDemoPoints(dir);
    assert.deepEqual(reports.map((r) => r.driver).sort(), drivers.map((d) => d.id).sort(), 'one demo device per driver');
    for (const r of reports) {
      const fields = drivers.find((d) => d.id === r.driver)!.fields!;
      assert.ok(r.points.length > 0, `${r.device}: no points`);
      const missing = new Set<string>();
      for (const p of r.points) {
        const m = fields.measurements[p.measurement];
        if (!m) {
          missing.add(p.measurement);
          continue;
        }
        for (const f of Object.keys(p.fields)) if (!declaredField(m, f)) missing.add(`${p.measurement}.${f}`);
        // A series tag the driver names is one its points carry (the device-level point of a measurement may lack it).
        for (const t of m.series ?? [])
          assert.ok(
            r.points.some((q) => q.measurement === p.measurement && q.tags[t] !== undefined),
            `${r.device}: series tag ${t} of ${p.measurement} on no point`,
          );
      }
      assert.deepEqual([...missing], [], `${r.driver}: emitted but not declared in src/devices/${r.driver}/fields.ts`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
