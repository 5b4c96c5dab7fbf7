import type { Command } from 'commander';
import type { ConvertSummary } from '../itho-par/index.js';
import { action, EXIT } from './common.js';

/**
 * `convert-par <file.par> [--out map.sqlite] [--force]`, added under a parent command
 * (`wattline itho`): the Itho service tool's Access parameter database → the SQLite
 * parameter map the itho-wpu driver reads. Refusals are one line on stderr, exit 2.
 */
export function registerConvertPar(parent: Command): Command {
  return parent
    .command('convert-par')
    .description("convert Itho's service-tool parameter database ($_parameters_HeatPump.par, Access) into the SQLite parameter map")
    .argument('<file.par>', 'the Access file')
    .option('-o, --out <map.sqlite>', 'output file', 'heatpump.sqlite')
    .option('-f, --force', 'replace an existing output file')
    .option('--no-progress', 'no progress bar (there is none when stderr is not a terminal)')
    .action(
      action(async (file: string, opts: { out: string; force?: boolean; progress: boolean }) => {
        // cli-progress is loaded only here: the daemon never pays for it.
        const bar = opts.progress && process.stderr.isTTY ? await progressBar() : null;
        // mdb-reader (and its XML parser) load only for this verb: every other command starts faster.
        const { convertPar } = await import('../itho-par/index.js');
        let summary: ConvertSummary;
        try {
          summary = convertPar(file, {
            out: opts.out,
            force: opts.force,
            onProgress: bar ? (p) => bar.update(p.rowsDone, p.rowsTotal, p.table) : undefined,
          });
        } finally {
          bar?.stop();
        }
        for (const w of summary.warnings) process.stderr.write(`wattline: warning: ${w}\n`);
        process.stdout.write(`${summaryLine(summary)}\n`);
        return EXIT.ok;
      }),
    );
}

export function summaryLine(s: ConvertSummary): string {
  const rate = s.ms > 0 ? Math.round((s.rows / s.ms) * 1000) : s.rows;
  return `${s.out}: ${s.versions} versions, ${s.tables} tables, ${s.rows} rows written in ${(s.ms / 1000).toFixed(2)} s (${rate} rows/s)`;
}

async function progressBar(): Promise<{ update(done: number, total: number, table: string): void; stop(): void }> {
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar({ format: 'convert [{bar}] {percentage}% {value}/{total} rows {table}', stream: process.stderr, clearOnComplete: true }, Presets.shades_classic);
  let started = false;
  return {
    update(done, total, table) {
      if (!started) {
        bar.start(total, 0, { table });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { table });
    },
    stop: () => started && bar.stop(),
  };
}
