/**
 * The outbox's start check (src/outbox/integrity.ts): `PRAGMA quick_check` reads
 * every page, so its cost grows with the file. Measured on outboxes of several sizes, with
 * the file in the page cache (warm) and dropped from it first (cold: a start after boot),
 * beside the light check used above QUICK_CHECK_MAX_BYTES.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/outbox-check.js [millions of points...]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outboxFileProblem } from '../../src/outbox/integrity.js';
import { SqliteOutbox } from '../../src/outbox/sqlite-outbox.js';
import { runIfMain } from './common.js';
import { makeBatches } from './outbox.js';

function ms(fn: () => unknown): number {
  const start = process.hrtime.bigint();
  const problem = fn();
  if (problem) throw new Error(`check failed: ${JSON.stringify(problem)}`);
  return Math.round(Number(process.hrtime.bigint() - start) / 1e5) / 10;
}

/** Drop the file from the page cache (GNU dd's nocache), so the next read comes from disk. */
function dropCache(file: string): void {
  execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

export async function run(millions: number[] = [0.1, 1, 3]): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-check-'));
  const rows: Record<string, unknown>[] = [];
  try {
    const batches = makeBatches();
    for (const m of millions) {
      const file = join(dir, `outbox-${m}.sqlite`);
      const points = Math.round(m * 1e6);
      const outbox = new SqliteOutbox(file, { maxRows: points * 2, maxBytes: Number.MAX_SAFE_INTEGER }, { synchronous: 'normal', reserveBytes: 0 });
      for (let done = 0, b = 0; done < points; done += batches[0]!.length, b++) outbox.append(batches[b % batches.length]!, 'ns');
      outbox.close();
      const mb = statSync(file).size / 1e6;
      const warm = ms(() => outboxFileProblem(file, { quickCheckMaxBytes: Infinity }));
      dropCache(file);
      const cold = ms(() => outboxFileProblem(file, { quickCheckMaxBytes: Infinity }));
      dropCache(file);
      const light = ms(() => outboxFileProblem(file, { quickCheckMaxBytes: 0 }));
      const row = { points, mb: Math.round(mb), quick_check_warm_ms: warm, quick_check_cold_ms: cold, light_check_cold_ms: light };
      console.log(`  ${points} points, ${row.mb} MB: quick_check ${warm} ms warm, ${cold} ms cold (${Math.round(mb / (cold / 1000))} MB/s); light check ${light} ms cold`);
      rows.push(row);
      rmSync(file, { force: true });
    }
    const result = { bench: 'outbox-check', rows };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, () =>
  run(
    process.argv
      .slice(2)
      .map(Number)
      .filter((n) => n > 0).length
      ? process.argv.slice(2).map(Number)
      : undefined,
  ),
);
