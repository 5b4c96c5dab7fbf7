import type { Command } from 'commander';
import { loadChecked } from '../assembly/config-check.js';
import type { InfluxConfig } from '../config/influx.js';
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
          const i = c.influx;
          const target = i.version === 1 ? `database ${i.database}${i.createDatabase ? ' (created if missing)' : ''}` : `bucket ${i.bucket}${i.org ? ` org ${i.org}` : ''}`;
          out.push(`influx: v${i.version} ${maskUrl(i.url)} ${target}, precision ${i.precision}, batches of ${i.batchSize}, ${influxTls(i)}`);
        } else out.push('influx: none (points stay in the outbox until one is configured)');
        for (const d of c.devices as DeviceConfig[]) {
          out.push(
            `device ${d.name}: ${d.driver} on ${describeLink(
              d,
              drivers.find((x) => x.id === d.driver),
            )}, schedule "${d.schedule}", timeout ${d.timeoutMs} ms${d.enabled ? '' : ' (disabled)'}`,
          );
        }
        out.push(...check.mqtt);
        // A port in use is a config error here too, not only when `run` starts.
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

/** TLS on or off, and whom it trusts (the CA path is already absolute: resolved at load). */
function influxTls(influx: InfluxConfig): string {
  if (!influx.url.startsWith('https:')) return 'TLS off';
  const tls = influx.tls;
  if (tls && !tls.rejectUnauthorized) return 'TLS on (server certificate NOT verified: rejectUnauthorized false)';
  return `TLS on (${tls?.ca ? `ca ${tls.ca}` : 'system CAs'})`;
}
