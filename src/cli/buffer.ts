import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolveConfigPath, type LoadedConfig } from '../config/load.js';
import { systemClock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { backfillOutboxPath } from '../outbox/priority-outbox.js';
import { recoverOutbox } from '../outbox/recover.js';
import { acquireWorkerLock } from '../outbox/worker-lock.js';
import { openSqliteOutbox, SqliteOutbox } from '../outbox/sqlite-outbox.js';
import type { OutboxSpaceStatus } from '../outbox/types.js';
import { createFlusher } from '../assembly/delivery.js';
import { prioritised } from '../assembly/stores.js';
import { action, EXIT, load, logger } from './common.js';
import { outputLines } from './status.js';

function openOutbox(loaded: LoadedConfig): SqliteOutbox {
  const c = loaded.config.outbox;
  const path = resolveConfigPath(loaded, c.path);
  // No outbox yet: an empty one in memory answers, and no file or folder appears.
  return new SqliteOutbox(existsSync(path) ? path : ':memory:', { maxRows: c.maxRows, maxBytes: c.maxBytes }, { minFreeBytes: c.minFreeBytes });
}

/** Run `fn` on the config's outbox and close it again, whatever happens. */
async function withOutbox<T>(cmd: Command, fn: (outbox: SqliteOutbox, loaded: LoadedConfig) => T): Promise<T> {
  const loaded = load(cmd, true);
  const outbox = openOutbox(loaded);
  try {
    return fn(outbox, loaded);
  } finally {
    outbox.close();
  }
}

/** The backfill outbox beside the outbox (docs/capture.md), when a backfill has made one. */
function backfillPending(loaded: LoadedConfig): { path: string; rows: number; deadLetters: number } | null {
  const path = backfillOutboxPath(resolveConfigPath(loaded, loaded.config.outbox.path));
  if (!existsSync(path)) return null;
  const c = loaded.config.outbox;
  const o = openSqliteOutbox(path, { maxRows: c.maxRows, maxBytes: c.maxBytes });
  try {
    const s = o.stats();
    return { path, rows: s.rows, deadLetters: s.deadLetters };
  } finally {
    o.close();
  }
}

function parseIds(ids: string[]): number[] | undefined {
  if (ids.length === 0) return undefined;
  return ids.map((s) => {
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`dead-letter id: expected a positive whole number, got "${s}"`);
    return n;
  });
}

export function registerBufferVerbs(program: Command): void {
  const buffer = program
    .command('buffer')
    .description('Show the outbox: pending points, oldest, dropped, dead letters; retry or purge dead letters')
    .option('--json', 'as JSON')
    .action(
      action(async (opts: { json?: boolean }, cmd: Command) => {
        const config = load(cmd, true);
        const running = opts.json ? [] : await outputLines(resolveConfigPath(config, config.config.outbox.path));
        return withOutbox(cmd, (outbox, loaded) => {
          const s = { ...outbox.stats(), refused: outbox.stats().refused ?? 0 };
          const space = outbox.spaceStatus();
          const backfill = backfillPending(loaded);
          if (opts.json) {
            process.stdout.write(JSON.stringify({ ...s, ...(space ? { space } : {}), ...(backfill ? { backfill } : {}) }) + '\n');
            return EXIT.ok;
          }
          const oldest = s.oldestCommittedMs === null ? '-' : `${new Date(s.oldestCommittedMs).toISOString()} (${ago(s.oldestCommittedMs)} ago)`;
          process.stdout.write(
            [
              `outbox:       ${resolveConfigPath(loaded, loaded.config.outbox.path)}`,
              `pending:      ${s.rows} points, ${s.bytes} bytes`,
              `oldest:       ${oldest}`,
              `dropped:      ${s.dropped} (outbox full, oldest first)`,
              `refused:      ${s.refused} (disk space below outbox.minFreeBytes)`,
              ...(space ? [`disk:         ${spaceLine(space)}`] : []),
              `dead letters: ${s.deadLetters}${s.deadLetters ? '  (wattline buffer dead-letters)' : ''}`,
              ...(backfill ? [`backfill:     ${backfill.rows} points pending in ${backfill.path} (sent after the live points), ${backfill.deadLetters} dead letters`] : []),
              // Why it is (not) sending, from the running worker; nothing when none runs.
              ...running,
            ].join('\n') + '\n',
          );
          return EXIT.ok;
        });
      }),
    );

  buffer
    .command('dead-letters')
    .description('List lines the server refused, with its answer')
    .option('-n, --limit <n>', 'how many', '50')
    .action(
      action(async (opts: { limit: string }, cmd: Command) => {
        const limit = Number(opts.limit);
        if (!Number.isSafeInteger(limit) || limit <= 0) throw new ConfigError(`--limit: expected a positive whole number, got "${opts.limit}"`);
        await withOutbox(cmd, (outbox) => {
          for (const d of outbox.listDeadLetters(limit)) {
            process.stdout.write(`#${d.id} ${new Date(d.timeMs).toISOString()} HTTP ${d.status}: ${d.message}\n    ${d.line}\n`);
          }
        });
      }),
    );

  buffer
    .command('retry')
    .description('Put dead letters (all, or these ids) back at the end of the queue')
    .argument('[id...]')
    .action(action((ids: string[], _o: unknown, cmd: Command) => withOutbox(cmd, (outbox) => void process.stdout.write(`requeued ${outbox.retryDeadLetters(parseIds(ids))} dead letters\n`))));

  buffer
    .command('purge')
    .description('Delete dead letters (all, or these ids) for good')
    .argument('[id...]')
    .action(action((ids: string[], _o: unknown, cmd: Command) => withOutbox(cmd, (outbox) => void process.stdout.write(`purged ${outbox.purgeDeadLetters(parseIds(ids))} dead letters\n`))));

  buffer
    .command('recover')
    .description('Copy every readable row of a damaged outbox into a fresh one in its place; the damaged file is kept aside (stop the worker first)')
    .action(
      action(async (_o: unknown, cmd: Command) => {
        const loaded = load(cmd, true);
        const path = resolveConfigPath(loaded, loaded.config.outbox.path);
        // A worker on this outbox would go on writing the file being replaced: refuse, and keep
        // one from starting while the rows are copied. No file: nothing to lock (and no folder made).
        const lock = existsSync(path)
          ? acquireWorkerLock(path, {
              pidFile: false,
              refusal: (pid) => `${path}: a wattline worker${pid ? ` (PID ${pid})` : ''} is running on this outbox; stop it before 'buffer recover' (it would go on writing the file being replaced)`,
            })
          : null;
        let r: ReturnType<typeof recoverOutbox>;
        try {
          r = recoverOutbox(path);
        } finally {
          lock?.release();
        }
        if (!r) {
          process.stdout.write(`${path}: the outbox passes its integrity check; nothing to recover\n`);
          return EXIT.ok;
        }
        process.stdout.write(
          `${path} ${r.problem}: recovered ${r.rows} pending points and ${r.deadLetters} dead letters into a fresh outbox; ` +
            `${r.unreadable} ids on damaged pages could not be read; the damaged file is kept as ${r.keptAs}\n`,
        );
        return EXIT.ok;
      }),
    );

  program
    .command('drain')
    .description('Send the whole outbox to InfluxDB now, with a progress bar; exit 1 if it could not finish')
    .option('--no-progress', 'no progress bar')
    .action(
      action(async (opts: { progress: boolean }, cmd: Command) => {
        const loaded = load(cmd, true);
        const influx = loaded.config.influx;
        if (!influx) throw new ConfigError(`${loaded.path ?? 'config'}: influx: nothing to drain to (no influx section)`);
        const log = logger(cmd, loaded);
        // The backfill file beside the outbox is drained too, after the live points.
        const outbox = prioritised(openOutbox(loaded), resolveConfigPath(loaded, loaded.config.outbox.path), loaded.config.outbox);
        const total = outbox.stats().rows;
        // cli-progress is loaded only here: it costs the daemon ~7 MB resident otherwise.
        const { SingleBar, Presets } = await import('cli-progress');
        const bar =
          opts.progress && process.stderr.isTTY ? new SingleBar({ format: 'drain [{bar}] {percentage}% {value}/{total} points {rate} pts/s eta {eta_formatted}', stream: process.stderr }, Presets.shades_classic) : null;
        const started = Date.now();
        bar?.start(total, 0, { rate: 0 });
        const flusher = createFlusher(outbox, influx, systemClock, log);
        try {
          const result = await flusher.drain({
            callerReports: true,
            onProgress: (p) => {
              const done = p.delivered + p.deadLettered;
              bar?.update(done, { rate: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) });
            },
          });
          bar?.stop();
          const s = outbox.stats();
          process.stderr.write(`drained ${result.delivered} points in ${((Date.now() - started) / 1000).toFixed(1)} s; ${result.deadLettered} dead-lettered; ${s.rows} still pending\n`);
          if (!result.complete) {
            process.stderr.write(`wattline: drain stopped: ${result.stoppedBecause}\n`);
            return EXIT.failed;
          }
          return EXIT.ok;
        } finally {
          bar?.stop();
          await flusher.stop();
          outbox.close();
        }
      }),
    );
}

function spaceLine(space: OutboxSpaceStatus): string {
  const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  const state = space.refusing ? 'REFUSING new points until space returns' : 'accepting points';
  return `${mib(space.freeBytes)} free, minFreeBytes ${mib(space.minFreeBytes)}: ${state}; reserve ${space.reserveBytes ? mib(space.reserveBytes) : 'none (given back)'}`;
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}
