/** `wattline backfill`: the verb and its options; the work is in backfill-run.ts, imported on use. */
import type { Command } from 'commander';
import { drivers } from '../devices/index.js';
import type { BackfillOpts } from './backfill-run.js';
import { action } from './common.js';

export function registerBackfillVerb(program: Command): void {
  program
    .command('backfill')
    .description('Re-decode archived captures, or import a capture file or P1 telegram log, into InfluxDB with the original timestamps')
    .option('--device <name>', 'the device whose archived captures to re-decode (with --input: the device the points belong to)')
    .option('--from <time>', 'archived captures from this time on (ISO 8601)')
    .option('--to <time>', 'archived captures up to this time (ISO 8601)')
    .option('--driver <id>', `with --input: the driver that decodes the file (${drivers.map((d) => d.id).join(', ')})`)
    .option('--input <file>', 'a capture file (JSON lines) or a plain P1 telegram log (timestamps from the meter clock)')
    .option('--dry-run', 'print line protocol on stdout; write nothing')
    .option('--queue-only', 'commit to the backfill outbox only; `wattline run` or `drain` sends it (after live points)')
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      `
Examples:
  wattline backfill --device p1 --from 2026-11-01T00:00:00Z --to 2026-11-02T00:00:00Z
  wattline backfill --driver dsmr-p1 --input p1-log.txt --device p1
  wattline backfill --driver hdhk --input bus1.captures.jsonl --dry-run
Points go to InfluxDB as the run goes, with the captures' own timestamps, so running a
backfill twice overwrites the same points; what InfluxDB does not take at once (and, with
--queue-only, everything) waits in a backfill outbox beside the outbox, which \`wattline run\`
sends whenever no live point is pending. An
interrupted run (Ctrl-C, SIGTERM, a crash) continues where it stopped when run again with the
same arguments. Captures that do not decode are counted and listed; the rest carries on.`,
    )
    .action(
      action(async (opts: BackfillOpts, cmd: Command) => {
        // The backfill machinery (engine, sources, sender thread) loads only for this verb: `run` never pays for it.
        const { runBackfillVerb } = await import('./backfill-run.js');
        return await runBackfillVerb(opts, cmd);
      }),
    );
}
