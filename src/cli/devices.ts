import type { Command } from 'commander';
import { resolveConfigPath } from '../config/load.js';
import { describeLink } from '../config/link.js';
import type { DeviceConfig } from '../config/schema.js';
import { drivers } from '../devices/index.js';
import { openDeviceStatus } from '../outbox/device-status.js';
import { action, load } from './common.js';

export function registerDeviceVerbs(program: Command): void {
  program
    .command('devices')
    .description("What is configured, and how each device's last collection went (from the outbox database)")
    .option('--json', 'as JSON')
    .action(
      action(async (opts: { json?: boolean }, cmd: Command) => {
        const loaded = load(cmd, true);
        const store = openDeviceStatus(resolveConfigPath(loaded, loaded.config.outbox.path));
        try {
          const rows = (loaded.config.devices as DeviceConfig[]).map((d) => ({ ...summary(d), status: store.get(d.name) }));
          if (opts.json) {
            process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
            return;
          }
          for (const r of rows) {
            const st = r.status;
            const last = !st ? 'never collected' : st.ok ? `ok ${new Date(st.lastEndMs).toISOString()}, ${st.points} points in ${st.durationMs} ms` : `FAILED ${new Date(st.lastEndMs).toISOString()}: ${st.error}`;
            const counts = st ? ` (runs ${st.runs}, failures ${st.failures})` : '';
            process.stdout.write(`${r.name}\t${r.driver}\t${r.link}\t${r.schedule}${r.enabled ? '' : '\tdisabled'}\n    last: ${last}${counts}\n`);
          }
        } finally {
          store.close();
        }
      }),
    );
}

function summary(d: DeviceConfig) {
  return {
    name: d.name,
    driver: d.driver,
    link: describeLink(
      d,
      drivers.find((x) => x.id === d.driver),
    ),
    schedule: d.schedule,
    enabled: d.enabled,
  };
}
