import { hostname } from 'node:os';
import type { Command } from 'commander';
import { resolveConfigPath } from '../config/load.js';
import { configJsonSchema, type DeviceConfig } from '../config/schema.js';
import { drivers } from '../devices/index.js';
import { action, EXIT, load } from './common.js';

export function registerConfigVerbs(program: Command): void {
  const config = program.command('config').description('Check the configuration, or print its JSON Schema');

  config
    .command('check')
    .description('Validate the config file (exit 2 with one line per problem); print a summary without secrets')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const loaded = load(cmd, false);
        const c = loaded.config;
        const out: string[] = [`${loaded.path}: ok`];
        out.push(`outbox: ${c.outbox.path} (max ${c.outbox.maxRows} points, ${c.outbox.maxBytes} bytes)`);
        if (c.influx) {
          const target = c.influx.version === 1 ? `database ${c.influx.database}` : `bucket ${c.influx.bucket}${c.influx.org ? ` org ${c.influx.org}` : ''}`;
          out.push(`influx: v${c.influx.version} ${c.influx.url} ${target}, precision ${c.influx.precision}, batches of ${c.influx.batchSize}`);
        } else out.push('influx: none (points stay in the outbox until one is configured)');
        for (const d of c.devices as DeviceConfig[]) {
          const link = d.simulate ? 'simulated' : d.port?.path;
          out.push(`device ${d.name}: ${d.driver} on ${link}, schedule "${d.schedule}", timeout ${d.timeoutMs} ms${d.enabled ? '' : ' (disabled)'}`);
        }
        if (c.mqtt) {
          // Offline: reads the TLS files, asks the drivers' pure control.prepare; never the broker or the mqtt package.
          const { mqttSummary } = await import('../mqtt/summary.js');
          const enabled = (c.devices as DeviceConfig[]).filter((d) => d.enabled).map((d) => ({ name: d.name, driver: drivers.find((x) => x.id === d.driver)!, options: d.options }));
          out.push(...mqttSummary(c.mqtt, enabled, `wattline-${c.site ?? hostname()}`, (p) => resolveConfigPath(loaded, p)));
        }
        // A port in use is a config error here too (issue 18), not only when `run` starts.
        if (c.http) out.push(await (await import('../observe/http.js')).checkListen(c.http));
        process.stdout.write(out.join('\n') + '\n');
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
