#!/usr/bin/env node
/**
 * node dist/scripts/convert-itho-par.js <file.par> [--out heatpump.sqlite] [--force]
 * The same as `wattline itho convert-par`: Itho's Access parameter database → SQLite map.
 */
import { Command } from 'commander';
import { registerConvertPar } from '../src/cli/itho-convert-par.js';

const program = new Command()
  .name('convert-itho-par')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
// The one subcommand is the default, so the script takes the file directly.
registerConvertPar(program);
await program.parseAsync(['convert-par', ...process.argv.slice(2)], { from: 'user' });
