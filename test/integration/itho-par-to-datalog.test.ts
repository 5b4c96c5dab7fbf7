/**
 * The whole Itho path, end to end: an Itho-shaped `.par` (written by the test-only Jet 4
 * writer, whose output mdb-reader and mdbtools agree on) → `wattline itho convert-par` →
 * the SQLite map → a datalog from the simulated WPU behind the simulated pigpiod (no real
 * pigpiod or WPU here) decoded and labelled with the map's names, titles and units.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEMO_COUNTERS, DEMO_LABELS, DEMO_MANUAL, DEMO_SETTINGS, LIST_VERSION } from '../../src/simulators/itho-wpu-data.js';
import { runCli } from '../helpers/cli.js';
import { COUNTER_COLUMNS, DATALABEL_COLUMNS, HANDBED_COLUMNS, PARAMETER_COLUMNS, VERSIE_COLUMNS } from '../helpers/itho-par-fixture.js';
import { writeJet4 } from '../helpers/jet4-writer.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wl-itho-e2e-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('a converted .par labels the simulated WPU datalog (simulated pigpiod, Jet 4 test writer)', async () => {
  // Titles differ from the demo map's, so the output can only have come from this file.
  const par = writeJet4([
    { name: 'VersieBeheer', columns: VERSIE_COLUMNS, rows: [[LIST_VERSION, 12, 5, 3, 2]] },
    { name: 'Datalabel_V12', columns: DATALABEL_COLUMNS, rows: DEMO_LABELS.map(([name, title, unit], i) => [i, name, `PAR ${title}`, null, unit]) },
    { name: 'Parameterlijst_V5', columns: PARAMETER_COLUMNS, rows: DEMO_SETTINGS.map((s) => [s.id, s.name, s.name, s.min, s.max, s.raw, `PAR ${s.title}`, null, s.unit]) },
    { name: 'Handbed_V3', columns: HANDBED_COLUMNS, rows: DEMO_MANUAL.map((m) => [m.id, m.name, m.name, 0, 100, 0, `PAR ${m.title}`, null, m.unit]) },
    { name: 'Counters_V2', columns: COUNTER_COLUMNS, rows: DEMO_COUNTERS.map(([name, title, unit], i) => [i, name, `PAR ${title}`, null, unit]) },
  ]);
  const parPath = join(dir, '$_parameters_HeatPump.par');
  writeFileSync(parPath, par);
  const mapPath = join(dir, 'heatpump.sqlite');
  const converted = await runCli(['itho', 'convert-par', parPath, '--out', mapPath], { cwd: dir });
  assert.equal(converted.code, 0, converted.stderr);

  const config = join(dir, 'wattline.yaml');
  writeFileSync(
    config,
    `outbox: { path: outbox.sqlite }
devices:
  - driver: itho-wpu
    name: wpu
    simulate: true
    options:
      parameterMap: ${JSON.stringify(mapPath)}
      cacheDb: ${JSON.stringify(join(dir, 'cache.sqlite'))}
`,
  );
  const datalog = await runCli(['--config', config, 'itho', 'wpu', 'datalog', '--log-level', 'warn'], { cwd: dir });
  assert.equal(datalog.code, 0, datalog.stderr);
  // The simulated temperatures wander by hundredths; one on a whole degree prints without decimals (-10).
  assert.match(datalog.stdout, /^PAR Buitentemperatuur \(°C\) \(t_out\): -?\d+(\.\d+)?$/im);
  assert.equal(datalog.stdout.trim().split('\n').length, DEMO_LABELS.length);

  const lines = await runCli(['--config', config, 'test', '--log-level', 'warn'], { cwd: dir });
  assert.equal(lines.code, 0, lines.stderr);
  const point = lines.stdout.split('\n').find((l) => l.startsWith('itho_wpu,'));
  assert.ok(point, lines.stdout);
  for (const key of ['t_out', 't_boiltop', 'p_sens', 'state']) assert.match(point, new RegExp(`[ ,]${key}=`));
});
