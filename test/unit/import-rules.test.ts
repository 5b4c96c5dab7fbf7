/**
 * The room rules of docs/architecture.md, checked against the code: every import under src/
 * (static, `export … from`, lazy `import()`, type-only included, read by TypeScript's own
 * pre-processor) must be allowed by the page's table, only the registry may import a driver,
 * and no file may reach itself through its imports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { drivers } from '../../src/devices/index.js';
import { ROOT } from '../helpers/paths.js';

const SRC = join(ROOT, 'src');
const PAGE = join(ROOT, 'docs', 'architecture.md');

/** Every .ts file under src/, as a path relative to src/ (`runtime/worker.ts`). */
function sources(dir = SRC): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [relative(SRC, path)] : [];
  });
}

/** The relative imports of one file, resolved to paths relative to src/ (the compiled `.js` named back to its `.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(SRC, resolve(SRC, dirname(file), spec)).replace(/\.js$/, '.ts'));
}

const driverIds = new Set(drivers.map((d) => d.id));

/** The room a file lives in: its first folder, and for driver folders `devices/<id>` or `devices/<family>`. */
function roomOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) return '(src)';
  if (parts[0] === 'devices' && parts.length > 2) return driverIds.has(parts[1]!) ? 'devices/<id>' : 'devices/<family>';
  return parts[0]!;
}

/** The table under "Which room may import which": room → the rooms it may import. */
function allowedFromPage(): Map<string, Set<string>> {
  const page = readFileSync(PAGE, 'utf8');
  const section = page.split(/^## /m).find((s) => s.startsWith('Which room may import which'));
  assert.ok(section, `${PAGE}: no "## Which room may import which" section`);
  const rules = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const room = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!room) continue;
    rules.set(room, new Set([...(cells[2] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!)));
  }
  return rules;
}

const files = sources();
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rules = allowedFromPage();

test('import rules: the architecture page has a rule for every room under src/, and names no room that is not there', () => {
  assert.ok(rules.size >= 15, `only ${rules.size} rooms read from ${PAGE}`);
  const present = new Set(files.map(roomOf));
  assert.deepEqual(
    [...present].filter((r) => !rules.has(r)),
    [],
    'rooms under src/ that docs/architecture.md does not list',
  );
  assert.deepEqual(
    [...rules.keys()].filter((r) => !present.has(r)),
    [],
    'rooms docs/architecture.md lists that are not under src/',
  );
  for (const [room, may] of rules) {
    assert.deepEqual(
      [...may].filter((r) => !rules.has(r)),
      [],
      `${room}: may import rooms the page does not define`,
    );
  }
});

test('import rules: every import between rooms is one the architecture page allows', () => {
  const forbidden: string[] = [];
  for (const [file, targets] of graph) {
    const from = roomOf(file);
    for (const target of targets) {
      const to = roomOf(target);
      if (to !== from && !rules.get(from)?.has(to)) forbidden.push(`src/${file} (${from}) imports src/${target} (${to})`);
    }
  }
  assert.deepEqual(forbidden, []);
});

test('import rules: imports resolve to files under src/ (nothing outside it, nothing missing)', () => {
  const known = new Set(files);
  const broken = [...graph].flatMap(([file, targets]) => targets.filter((t) => !known.has(t)).map((t) => `src/${file} imports ${t}`));
  assert.deepEqual(broken, []);
});

test('import rules: only the registry (src/devices/index.ts) imports a driver from outside its folder, and no driver imports another', () => {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const [top, folder] = target.split('/');
      if (top !== 'devices' || !driverIds.has(folder!) || target.split('/').length < 3) continue;
      const sameFolder = file.startsWith(`devices/${folder}/`);
      if (!sameFolder && file !== 'devices/index.ts') wrong.push(`src/${file} imports src/${target}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('import rules: no import cycle between files under src/ (type-only imports included)', () => {
  // Depth-first search; a back edge closes a cycle, reported as the path around it.
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => `src/${f}`).join(' → '));
      else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  assert.deepEqual(cycles, []);
});

test('import rules: the checker sees what it must (a known arrow, a lazy import, a type-only import)', () => {
  // Guards the reading itself: if these were missed, the rules above would pass on nothing.
  assert.ok(graph.get('runtime/worker.ts')?.includes('assembly/link.ts'), 'runtime/worker.ts → assembly/link.ts');
  assert.ok(graph.get('runtime/mqtt.ts')?.includes('mqtt/output.ts'), 'the lazy import of mqtt/output.ts');
  assert.ok(graph.get('control/server.ts')?.includes('runtime/worker.ts'), 'the type-only import of the Worker');
  assert.equal(roomOf('devices/powerwalker/session.ts'), 'devices/<family>');
  assert.equal(roomOf('devices/nut-ups/session.ts'), 'devices/<id>');
});
