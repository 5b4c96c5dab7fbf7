/**
 * Every demo device (one simulated device per driver with a simulator, with the demo's options)
 * collected once through a dry-run Worker: the points each driver's simulator makes it emit.
 * Used by the registry test (field metadata for every field) and to record the MQTT snapshot.
 */
import { pino } from 'pino';
import { join } from 'node:path';
import { validate, type LoadedConfig } from '../../src/config/load.js';
import type { Point } from '../../src/core/point.js';
import { drivers } from '../../src/devices/index.js';
import { simulatedDeviceEntries } from '../../src/simulators/index.js';
import { Worker } from '../../src/runtime/worker.js';

export interface DemoReport {
  device: string;
  driver: string;
  options: unknown;
  points: Point[];
}

/** One collection per demo device; `dir` holds what simulators write (the Itho parameter map). */
export async function collectDemoPoints(dir: string): Promise<DemoReport[]> {
  const entries = simulatedDeviceEntries('demo').map((e) => {
    // The Itho demo's map and cache paths are relative to the working folder: keep them in dir.
    if (e.driver !== 'itho-wpu') return e;
    return { ...e, options: { ...(e.options as object), parameterMap: join(dir, 'itho-map.sqlite'), cacheDb: join(dir, 'itho-cache.sqlite') } };
  });
  const loaded: LoadedConfig = { config: validate({ site: 'demo', outbox: { path: join(dir, 'outbox.sqlite') }, devices: entries }, drivers, 'demo'), path: null, dir, demo: false };
  const worker = new Worker({ loaded, drivers, log: pino({ level: 'silent' }), dryRun: true });
  try {
    const reports = await worker.runOnce();
    return reports.map((r) => {
      if (!r.ok) throw new Error(`${r.device}: ${r.error}`);
      const device = loaded.config.devices.find((d) => d.name === r.device)!;
      return { device: r.device, driver: device.driver, options: device.options, points: r.points };
    });
  } finally {
    await worker.stop();
  }
}
