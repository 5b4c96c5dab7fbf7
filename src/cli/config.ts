import type { Command } from 'commander';
import { loadChecked } from '../config/check.js';
import { describeLink } from '../config/link.js';
import { configJsonSchema, type DeviceConfig } from '../config/schema.js';
import { maskUrl } from '../config/secrets.js';
import { drivers } from '../devices/index.js';
import { action, EXIT, load } from './common.js';

export function registerConfigVerbs(program: Command): void {
  const config = program.command('config').description('Check the configuration, or print its JSON Schema');

  config
    .command('check')
    .description('Validate the config file (exit 2 with one line per problem); print a summary without secrets')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        // The same check run makes before it starts: what passes here, run accepts.
        const { loaded, check } = await loadChecked(() => load(cmd, false), drivers, { writes: true, mqtt: true });
        const c = loaded.config;
        const out: string[] = [`${loaded.path}: ok`];
        out.push(`outbox: ${c.outbox.path} (max ${c.outbox.maxRows} points, ${c.outbox.maxBytes} bytes)`);
        if (c.influx) {
          const target = c.influx.version === 1 ? `database ${c.influx.database}` : `bucket ${c.influx.bucket}${c.influx.org ? ` org ${c.influx.org}` : ''}`;
          out.push(`influx: v${c.influx.version} ${maskUrl(c.influx.url)} ${target}, precision ${c.influx.precision}, batches of ${c.influx.batchSize}`);
        } else out.push('influx: none (points stay in the outbox until one is configured)');
        for (const d of c.devices as DeviceConfig[]) {
          out.push(`device ${d.name}: ${d.driver} on ${describeLink(d, drivers.find((x) => x.id === d.driver))}, schedule "${d.schedule}", timeout ${d.timeoutMs} ms${d.enabled ? '' : ' (disabled)'}`);
        }
        out.push(...check.mqtt);
        // A port in use is a config error here too (issue 18), not only when `run` starts.
        if (c.http) out.push(await (await import('../observe/http.js')).checkListen(c.http));
        process.stdout.write(out.join('\n') + '\n');
        for (const line of check.warnings) process.stderr.write(`wattline: warning: ${line}\n`);
        return EXIT.ok;
      }),
    );

  config
    .command('schema')
    .description('Print the JSON Schema of wattline.yaml (for editors: yaml-language-server)')
    .action(
      action(async () => {
        process.stdout.write(JSON.stringify(configJsonSchema(drivers), null, 2) + '\n');
      }),
    );
}
