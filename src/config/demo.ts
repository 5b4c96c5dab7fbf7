/**
 * The built-in configuration `wattline run` uses when no config file exists:
 * every simulated device, points echoed to stdout, InfluxDB only when INFLUX_URL is set.
 */
export function demoConfig(env: Record<string, string | undefined>, demo: readonly { driver: string; options?: unknown }[]): Record<string, unknown> {
  const devices = demo.map(({ driver, options }) => ({
    name: `demo-${driver}`,
    driver,
    ...(options ? { options } : {}),
    simulate: true,
    schedule: '*/2 * * * * *',
    tags: { demo: 'yes' },
  }));
  const config: Record<string, unknown> = {
    site: 'demo',
    outbox: { path: 'data/demo-outbox.sqlite' },
    echo: true,
    devices,
  };
  if (env.INFLUX_URL) {
    const version = Number(env.INFLUX_VERSION ?? '1');
    config.influx =
      version === 2
        ? { version: 2, url: env.INFLUX_URL, org: env.INFLUX_ORG ?? '', bucket: env.INFLUX_BUCKET ?? 'wattline', token: env.INFLUX_TOKEN ?? '' }
        : { version: 1, url: env.INFLUX_URL, database: env.INFLUX_DATABASE ?? 'wattline', username: env.INFLUX_USERNAME, password: env.INFLUX_PASSWORD };
  }
  return config;
}
