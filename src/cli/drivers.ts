import type { Command } from 'commander';
import { drivers } from '../devices/index.js';
import { action } from './common.js';

export function registerDriverVerbs(program: Command): void {
  program
    .command('drivers')
    .description('List the registered driver ids, one per line')
    .option('-l, --long', 'with kind and description')
    .action(
      action(async (opts: { long?: boolean }) => {
        const lines = drivers.map((d) => (opts.long ? `${d.id}\t${d.kind}\t${d.description}` : d.id));
        process.stdout.write(lines.join('\n') + '\n');
      }),
    );
}
