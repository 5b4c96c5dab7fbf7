/**
 * Writes grafana/*.json from the specs beside this file: `npm run dashboards`. The JSON files are
 * what users import; test/integration/grafana-lint.test.ts fails when they differ from what this
 * writes, so a hand edit of a dashboard is made here instead and every dashboard keeps the rules.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hdhk } from './hdhk.js';
import { home } from './home.js';
import { itho } from './itho.js';
import { dashboard, type DashboardSpec } from './kit.js';
import { p1 } from './p1.js';
import { powerwalker } from './powerwalker.js';
import { ups } from './ups.js';
import { vebus } from './vebus.js';

/** File name (in grafana/) → spec. */
export const DASHBOARDS: Record<string, DashboardSpec> = {
  'home.json': home,
  'p1.json': p1,
  'hdhk.json': hdhk,
  'ups.json': ups,
  'powerwalker.json': powerwalker,
  'vebus.json': vebus,
  'itho.json': itho,
};

export function dashboardText(spec: DashboardSpec): string {
  return `${JSON.stringify(dashboard(spec), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // dist/scripts/dashboards/build.js → the repository's grafana/
  const out = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'grafana');
  for (const [file, spec] of Object.entries(DASHBOARDS)) {
    writeFileSync(join(out, file), dashboardText(spec));
    console.log(`wrote ${join(out, file)}`);
  }
}
