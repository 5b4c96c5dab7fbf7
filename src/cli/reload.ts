/**
 * Reloading the running worker's config: `wattline reload` (through the control endpoint) and
 * the worker's side of it (SIGHUP and the endpoint's `reload` op both call `configReloader`).
 */
import type { Command } from 'commander';
import { loadChecked } from '../assembly/config-check.js';
import { resolveConfigPath, type LoadedConfig } from '../config/load.js';
import { drivers } from '../devices/index.js';
import { askRunningWorker } from '../control/client.js';
import type { ControlReply } from '../control/protocol.js';
import { errorMessage, WattlineError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Worker } from '../runtime/worker.js';
import type { ReloadPlan } from '../runtime/reload-plan.js';
import { action, EXIT, load, logLevel } from './common.js';

const RELOAD_TIMEOUT_MS = 60_000;

/**
 * Read and check the config the way `run` does at start (loadChecked: the checks `config check`
 * runs); the worker then checks what only it can (which changes need a restart).
 */
export async function readConfigForReload(cmd: Command): Promise<LoadedConfig> {
  return (await loadChecked(() => load(cmd, true), drivers, { writes: true, mqtt: true })).loaded;
}

/**
 * The worker's reload: re-read the config and apply all of it or none. A refusal is one log
 * line carrying the message `config check` gives, and the old config keeps running.
 */
export function configReloader(cmd: Command, worker: Pick<Worker, 'reload'>, log: Logger): () => Promise<ControlReply> {
  return async () => {
    try {
      const next = await readConfigForReload(cmd);
      const plan = await worker.reload(next, logLevel(cmd, next));
      return { summary: 'reload', message: describePlan(plan), data: { added: names(plan.added), removed: plan.removed, changed: names(plan.changed) } };
    } catch (err) {
      log.error(`config reload refused, the previous config keeps running: ${errorMessage(err)}`);
      throw err;
    }
  };
}

function names(devices: readonly { name: string }[]): string[] {
  return devices.map((d) => d.name);
}

function describePlan(plan: ReloadPlan): string {
  const parts: string[] = [];
  if (plan.added.length) parts.push(`added ${names(plan.added).join(', ')}`);
  if (plan.removed.length) parts.push(`removed ${plan.removed.join(', ')}`);
  if (plan.changed.length) parts.push(`changed ${names(plan.changed).join(', ')}`);
  if (plan.influxChanged) parts.push('influx target changed');
  if (plan.limitsChanged) parts.push('outbox limits changed');
  return `config reloaded: ${parts.length ? parts.join('; ') : 'no device changed'}`;
}

export function registerReloadVerb(program: Command): void {
  program
    .command('reload')
    .description('Make the running worker re-read its config (as SIGHUP does): all of it applies, or none and it says why')
    .addHelpText(
      'after',
      `
Devices added, removed or changed start, stop or restart; unchanged ones keep their jobs and
open ports; the outbox, the batch in flight and the MQTT connection are untouched. Changing
outbox.path, outbox.synchronous, capture, mqtt or log.format needs a restart.
Exit codes: 0 reloaded, 1 no worker runs for this config's outbox, 2 the config was refused.`,
    )
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const loaded = load(cmd, true);
        const outboxPath = resolveConfigPath(loaded, loaded.config.outbox.path);
        const reply = await askRunningWorker(outboxPath, { op: 'reload', timeoutMs: RELOAD_TIMEOUT_MS }, 'reload');
        if (!reply) throw new WattlineError(`no running worker for the outbox ${outboxPath}: nothing to reload (start it with wattline run)`, 'failed');
        process.stdout.write(`${reply.message}\n`);
        return EXIT.ok;
      }),
    );
}
